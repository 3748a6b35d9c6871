"""Step 1's rules as a specification: one table row per decision the plan makes.

Pure functions, no database and no dump: chats (active, booking found, booking
migrated, in that order), messages (chat found, chat processed, sender type,
created_at, sender resolved, in that order), sender resolution, read status, NUL
removal, images, timestamps.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from chatmigrate.phase6 import records as r
from chatmigrate.phase6 import rules

BUYER, STYLIST = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
CUSTOMER, STYLIST_P = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
BOOKING, FAILED_BOOKING = "cccccccc-0000-4000-8000-000000000003", "dddddddd-0000-4000-8000-000000000004"
CHAT = "eeeeeeee-0000-4000-8000-000000000005"


def lookups(**kw) -> rules.Lookups:
    bookings = {
        BOOKING: r.LegacyBooking(BOOKING, BUYER, STYLIST, None),
        FAILED_BOOKING: r.LegacyBooking(FAILED_BOOKING, BUYER, STYLIST, None),
    }
    return dataclasses.replace(rules.Lookups(bookings, frozenset({BOOKING}), {BUYER: CUSTOMER, STYLIST: STYLIST_P}),
                               **kw)


def chat(**kw) -> r.LegacyChat:
    base = dict(id=CHAT, buyer_id=BUYER, stylist_id=STYLIST, booking_id=BOOKING, is_active=1,
                created_at="2024-03-01 10:00:00.000000", updated_at="2024-03-02 10:00:00.000000")
    base.update(kw)
    return r.LegacyChat(**base)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"is_active": 0}, r.CHAT_NOT_ACTIVE),
        ({"is_active": None}, r.CHAT_NOT_ACTIVE),
        ({"is_active": 0, "booking_id": None}, r.CHAT_NOT_ACTIVE),  # first rule wins
        ({"booking_id": None}, r.NO_BOOKING),
        ({"booking_id": ""}, r.NO_BOOKING),
        ({"booking_id": "NULL"}, r.NO_BOOKING),  # the four-letter string is not a booking
        ({"booking_id": "ffffffff-0000-4000-8000-00000000dead"}, r.NO_BOOKING),
        ({"booking_id": FAILED_BOOKING}, r.BOOKING_NOT_MIGRATED),
        ({"created_at": "0000-00-00 00:00:00.000000"}, "Invalid created_at: 0000-00-00 00:00:00.000000"),
    ],
    ids=["inactive", "active-null", "inactive-and-no-booking", "null-booking", "empty-booking",
         "string-NULL-booking", "unknown-booking", "booking-not-migrated", "zero-created-at"],
)
def test_chat_skip_reasons(change, reason):
    out = rules.classify_chat(chat(**change), lookups())
    assert isinstance(out, r.Skip)
    assert out.reason == reason


def test_processed_chat_is_lowercased_utc_and_resolves_people():
    out = rules.classify_chat(chat(id=CHAT.upper(), booking_id=BOOKING.upper()), lookups())
    assert out == r.TargetChat(CHAT, BOOKING, "2024-03-01T10:00:00.000000Z", "2024-03-02T10:00:00.000000Z",
                               CUSTOMER, STYLIST_P)


@pytest.mark.parametrize(
    "updated, expected",
    [(None, "2024-03-01T10:00:00.000000Z"), ("2024-02-01 00:00:00", "2024-03-01T10:00:00.000000Z"),
     ("2024-03-05 08:30:00.5", "2024-03-05T08:30:00.500000Z"),
     # text order would say 10:00:00 > 09:59:59.9 either way, but not 10:00:00 vs 10:00:00.5:
     ("2024-03-01 09:59:59.900000", "2024-03-01T10:00:00.000000Z")],
    ids=["null-updated-at", "updated-before-created", "later-updated-at", "updated-a-moment-before"],
)
def test_chat_updated_at(updated, expected):
    out = rules.classify_chat(chat(updated_at=updated), lookups())
    assert isinstance(out, r.TargetChat)
    assert out.updated_at == expected


def message(**kw) -> r.LegacyMessage:
    base = dict(id="0F0F0F0F-0000-4000-8000-000000000009", message="Hei! Ses på fredag ;)", is_image=0,
                is_from="buyer", chat_id=CHAT, is_unread=1, created_at="2024-03-01 11:00:00.250000")
    base.update(kw)
    return r.LegacyMessage(**base)


def processed_lookups(**kw) -> rules.Lookups:
    lk = lookups(**kw)
    target = rules.classify_chat(chat(), lk)
    return lk.with_chats({CHAT: target, "99999999-0000-4000-8000-000000000000": None})


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"chat_id": "77777777-0000-4000-8000-000000000000"}, r.MESSAGE_CHAT_NOT_FOUND),
        ({"chat_id": None}, r.MESSAGE_CHAT_NOT_FOUND),
        ({"chat_id": "99999999-0000-4000-8000-000000000000"}, r.MESSAGE_CHAT_NOT_PROCESSED),
        ({"is_from": ""}, "Unknown sender type: "),
        ({"is_from": "admin"}, "Unknown sender type: admin"),
        ({"is_from": None}, "Unknown sender type: None"),
        ({"is_from": "", "created_at": "0000-00-00 00:00:00"}, "Unknown sender type: "),  # order
        ({"created_at": "0000-00-00 00:00:00.000000"}, "Invalid created_at: 0000-00-00 00:00:00.000000"),
        ({"created_at": None}, "Invalid created_at: None"),
        ({"created_at": "2024-13-45 99:00:00"}, "Invalid created_at: 2024-13-45 99:00:00"),
    ],
    ids=["unknown-chat", "null-chat", "chat-not-processed", "empty-enum-sender", "other-sender",
         "null-sender", "sender-before-date", "zero-date", "null-date", "impossible-date"],
)
def test_message_skip_reasons(change, reason):
    out = rules.classify_message(message(**change), processed_lookups())
    assert isinstance(out, r.Skip)
    assert out.reason == reason


def test_sender_unresolved_when_the_mapping_lacks_the_person():
    lk = processed_lookups(mapping={STYLIST: STYLIST_P})  # the buyer was never mapped
    lk = lk.with_chats({CHAT: rules.classify_chat(chat(), lk)})
    assert rules.classify_message(message(is_from="buyer"), lk).reason == r.SENDER_UNRESOLVED  # type: ignore[union-attr]
    assert isinstance(rules.classify_message(message(is_from="stylist"), lk), rules.MessageOutcome)


@pytest.mark.parametrize(
    "is_from, sender, role",
    [("buyer", CUSTOMER, "customer"), ("stylist", STYLIST_P, "stylist")],
)
def test_sender_resolution_follows_the_chats_booking(is_from, sender, role):
    out = rules.classify_message(message(is_from=is_from, chat_id=CHAT.upper()), processed_lookups())
    assert isinstance(out, rules.MessageOutcome)
    assert (out.message.sender_id, out.message.sender_role, out.message.chat_id) == (sender, role, CHAT)


@pytest.mark.parametrize("unread, is_read", [(1, False), (0, True), (None, False), ("1", False), ("0", True)])
def test_is_read_inverts_is_unread(unread, is_read):
    out = rules.classify_message(message(is_unread=unread), processed_lookups())
    assert out.message.is_read is is_read  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    ["", "';)", "),(", "a\\b", "NULL", "line1\nline2\r\n\ttab", "😀 æøå ÆØÅ", "x" * 70_000, "  padded  "],
    ids=["empty", "wink", "tuple-sep", "backslash", "string-NULL", "newlines", "emoji", "70k", "spaces"],
)
def test_text_is_kept_exactly(text):
    out = rules.classify_message(message(message=text), processed_lookups())
    assert out.message.content == text  # type: ignore[union-attr]
    assert out.nul_removed == 0  # type: ignore[union-attr]


def test_nul_is_removed_and_counted():
    out = rules.classify_message(message(message="a\x00b\x00"), processed_lookups())
    assert (out.message.content, out.nul_removed) == ("ab", 2)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "url, name",
    [
        (f"https://nabostylisten.s3.eu-north-1.amazonaws.com/Chat-Images//{CHAT}/9a8b.jpeg", "9a8b.jpeg"),
        (f"https://nabostylisten.s3.amazonaws.com/Chat-Images//{CHAT}/x%20y.png", "x y.png"),
        (f"https://nabostylisten.s3.amazonaws.com/Chat-Images//{CHAT}/z.jpg?X-Amz=1", "z.jpg"),
        ("not a url", "not a url"),
        ("", "0f0f0f0f-0000-4000-8000-000000000009.jpg"),
    ],
    ids=["eu-north-1-host", "plain-host-escaped", "query-string", "not-a-url", "empty"],
)
def test_image_message(url, name):
    out = rules.classify_message(message(message=url, is_image=1, is_from="stylist"), processed_lookups())
    assert isinstance(out, rules.MessageOutcome)
    m, md = out.message, out.media
    assert (m.content, m.has_image) == ("", True)
    assert md is not None
    assert md.file_path == f"{CHAT}/{m.id}/{name}"
    assert (md.owner_id, md.message_id, md.chat_id, md.source_url) == (STYLIST_P, m.id, CHAT, url.strip())
    assert md.id == r.media_id(m.id)  # deterministic: re-runs plan the same media row


@pytest.mark.parametrize(
    "value, tz, expected",
    [
        ("2024-03-01 10:00:00", None, "2024-03-01T10:00:00.000000Z"),
        ("2024-03-01 10:00:00.123456", None, "2024-03-01T10:00:00.123456Z"),
        ("2024-03-01 10:00:00.5", None, "2024-03-01T10:00:00.500000Z"),
        ("2024-07-01 12:00:00", ZoneInfo("Europe/Oslo"), "2024-07-01T10:00:00.000000Z"),
        ("2024-01-01 00:30:00", ZoneInfo("Europe/Oslo"), "2023-12-31T23:30:00.000000Z"),
        ("2024-01-01 00:30:00", UTC, "2024-01-01T00:30:00.000000Z"),
        ("0000-00-00 00:00:00", None, None),
        ("", None, None),
        (None, None, None),
        ("garbage", None, None),
    ],
)
def test_utc_iso(value, tz, expected):
    assert rules.utc_iso(value, tz) == expected


@pytest.mark.parametrize(
    "chat_reasons, message_reasons, active, processed, link, expected",
    [
        ({}, {}, 100, 1000, "strict", []),
        ({r.NO_BOOKING: 1}, {}, 100, 1000, "strict", []),  # exactly 1%: not above
        # above the threshold together: one alert each, with its own count and advice
        ({r.NO_BOOKING: 1, r.BOOKING_NOT_MIGRATED: 1}, {}, 100, 1000, "strict",
         ["1.0% of active chats (1 of 100) have no booking in the legacy data",
          "1.0% of active chats (1 of 100) have a booking that Phase 4 did not migrate"]),
        ({r.BOOKING_NOT_MIGRATED: 5}, {}, 100, 1000, "strict",
         ["5.0% of active chats (5 of 100) have a booking that Phase 4 did not migrate"]),
        ({r.CHAT_NOT_ACTIVE: 50}, {}, 100, 1000, "strict", []),  # inactive chats are not a booking problem
        ({}, {r.SENDER_UNRESOLVED: 11}, 100, 989, "strict", ["1.1% of messages"]),
        ({}, {r.SENDER_UNRESOLVED: 10}, 100, 990, "strict", []),
        # the known dump: nothing migrates, and it is the legacy data's fact, not Phase 4's
        ({r.NO_BOOKING: 1914}, {}, 1914, 0, "strict",
         ["0 of 1,914 active chats migrate with --link strict", "100.0% of active chats (1,914 of 1,914) have no "
          "booking in the legacy data"]),
        ({r.NO_BOOKING: 10}, {}, 10, 0, "recover", ["0 of 10 active chats migrate with --link recover",
                                                    "100.0% of active chats (10 of 10) have no booking"]),
        ({}, {}, 0, 0, "strict", []),
    ],
    ids=["clean", "at-threshold", "over-booking", "phase4-only", "inactive-only", "over-sender",
         "sender-at-threshold", "known-dump", "recover-nothing", "empty"],
)
def test_extraction_alerts(chat_reasons, message_reasons, active, processed, link, expected):
    alerts = rules.extraction_alerts(chat_reasons, message_reasons, active, processed, link=link)
    assert len(alerts) == len(expected), alerts
    for alert, start in zip(alerts, expected, strict=True):
        assert alert.startswith(start)
    no_booking = next((a for a in alerts if "no booking in the legacy data" in a), "")
    assert "Phase 4" not in no_booking.replace("not a Phase 4 gap", "")  # never blamed on Phase 4
    if link == "strict" and alerts and alerts[0].startswith("0 of"):
        assert "chatmigrate plan" in alerts[0] and "--link recover" in alerts[0]
