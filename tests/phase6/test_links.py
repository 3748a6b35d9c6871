"""Link recovery (``--link recover``) as a specification, and its impact report.

Pure cases first (which booking a chat gets, how messages are divided by time, how
chats merge, which ids come out), then a synthetic world shaped like the known legacy
dump (every chat.booking_id NULL, bookings link their chat): strict migrates none,
recover migrates every chat that has a migrated booking, and validation passes.
"""

from __future__ import annotations

import json

import pytest

from chatmigrate.phase6 import links, rules
from chatmigrate.phase6 import records as r
from chatmigrate.steps.extract import extract
from chatmigrate.steps.plan import plan
from chatmigrate.synth import generate, read_truth
from synthfiles import fresh_temp_dir

BUYER, STYLIST, OTHER = "b0000000-0000-4000-8000-000000000001", "50000000-0000-4000-8000-000000000002", "0e000000-0000-4000-8000-000000000003"
CUSTOMER, STYLIST_P = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
C1, C2 = "c1000000-0000-4000-8000-000000000001", "c2000000-0000-4000-8000-000000000002"
B1, B2, B3 = (f"ba000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))


def booking(id_: str, chat: str | None = None, created: str = "2024-01-01 00:00:00", buyer: str = BUYER) -> r.LegacyBooking:
    return r.LegacyBooking(id_, buyer, STYLIST, chat, created)


def chat(id_: str = C1, booking_id: str | None = None, active: int = 1, buyer: str = BUYER) -> r.LegacyChat:
    return r.LegacyChat(id_, buyer, STYLIST, booking_id, active, "2024-01-01 00:00:00.000000", "2024-02-01 00:00:00.000000")


def lookups(bookings: list[r.LegacyBooking], migrated: set[str]) -> rules.Lookups:
    return rules.Lookups({b.id: b for b in bookings}, frozenset(migrated), {BUYER: CUSTOMER, STYLIST: STYLIST_P})


@pytest.mark.parametrize(
    "the_chat, bookings, migrated, rule, linked",
    [
        (chat(booking_id=B1), [booking(B1), booking(B2, chat=C1)], {B1, B2}, links.LINK_OWN, [B1]),
        (chat(), [booking(B1, chat=C1), booking(B2)], {B1, B2}, links.LINK_BOOKING_SIDE, [B1]),
        (chat(booking_id=B3), [booking(B1, chat=C1), booking(B3)], {B1}, links.LINK_BOOKING_SIDE, [B1]),
        (chat(), [booking(B2, created="2024-03-01 00:00:00"), booking(B1, created="2024-01-05 00:00:00")],
         {B1, B2}, links.LINK_PARTICIPANTS, [B1, B2]),
        (chat(), [booking(B1, chat=C1)], set(), None, []),
        (chat(buyer=OTHER), [booking(B1)], {B1}, None, []),
    ],
    ids=["own-booking-first", "booking-side", "own-not-migrated-then-booking-side",
         "same-participants-in-time-order", "nothing-migrated", "other-participants"],
)
def test_which_bookings_a_chat_gets(the_chat, bookings, migrated, rule, linked):
    lk = lookups(bookings, migrated)
    by_chat: dict[str, list[str]] = {}
    by_pair: dict[tuple[str, str], list[str]] = {}
    for b in bookings:
        if b.chat_id:
            by_chat.setdefault(b.chat_id, []).append(b.id)
        by_pair.setdefault((b.buyer_id, b.stylist_id), []).append(b.id)
    assert links.find_bookings(the_chat, lk, by_chat, by_pair) == (rule, linked)


def message(at: str, chat_id: str = C1, is_from: str = "buyer") -> r.LegacyMessage:
    return r.LegacyMessage(f"m-{at}", "hei", 0, is_from, chat_id, 0, at)


def test_a_chat_with_several_bookings_is_divided_by_time():
    bookings = [booking(B1, chat=C1, created="2024-01-10 00:00:00"), booking(B2, chat=C1, created="2024-03-01 00:00:00")]
    lk = lookups(bookings, {B1, B2})
    targets, skips, decisions, routes = links.link_chats([chat()], lk)
    lk = lk.with_chats(routes)
    assert skips == []
    ids = {t.booking_id: t.id for t in targets}
    assert ids == {B1: links.target_chat_id(B1), B2: links.target_chat_id(B2)}  # deterministic ids
    assert decisions == [links.ChatLink(C1, links.LINK_BOOKING_SIDE, ((ids[B1], B1), (ids[B2], B2)))]
    where = {at: rules.classify_message(message(at), lk).message.chat_id  # type: ignore[union-attr]
             for at in ("2024-01-01 00:00:00", "2024-02-28 23:59:59", "2024-03-01 00:00:00", "2025-01-01 00:00:00")}
    assert where == {"2024-01-01 00:00:00": ids[B1], "2024-02-28 23:59:59": ids[B1],
                     "2024-03-01 00:00:00": ids[B2], "2025-01-01 00:00:00": ids[B2]}


def test_chats_sharing_a_booking_merge_and_a_lone_chat_keeps_its_id():
    bookings = [booking(B1, chat=C1), booking(B2, chat=C2), booking(B3)]
    lk = lookups(bookings, {B1, B2, B3})
    lone = chat(C1)
    # C2 links B2 through booking.chat_id; a third chat of the same pair has no link but the pair's bookings
    third = chat("c3000000-0000-4000-8000-000000000003")
    targets, _, decisions, routes = links.link_chats([lone, chat(C2), third], lk)
    lk = lk.with_chats(routes)
    by_booking = {t.booking_id: t for t in targets}
    assert by_booking[B1].id == links.target_chat_id(B1)  # C1 and the third chat share B1
    assert {d.legacy_id: d.rule for d in decisions}[third.id] == links.LINK_PARTICIPANTS
    assert len(targets) == len({t.booking_id for t in targets}) == 3  # one chat per booking
    assert rules.classify_message(message("2024-01-02 00:00:00", C1), lk).message.chat_id == by_booking[B1].id  # type: ignore[union-attr]


def test_a_lone_chat_on_a_lone_booking_keeps_the_legacy_id():
    lk = lookups([booking(B1, chat=C1)], {B1})
    targets, _, _, _ = links.link_chats([chat()], lk)
    assert [t.id for t in targets] == [C1]


@pytest.mark.parametrize("active, booking_id, reason", [
    (0, None, r.CHAT_NOT_ACTIVE), (1, B3, r.BOOKING_NOT_MIGRATED), (1, None, r.NO_BOOKING)])
def test_recover_skip_reasons(active, booking_id, reason):
    lk = lookups([booking(B3)], set())
    targets, skips, decisions, _ = links.link_chats([chat(booking_id=booking_id, active=active)], lk)
    assert (targets, [s.reason for s in skips], decisions[0].reason) == ([], [reason], reason)


# ---------------------------------------------------------------------------- a world like the known dump


@pytest.fixture(scope="module")
def booking_side_world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("links"), messages=3000, seed=5, links="booking")


def test_strict_migrates_none_and_recover_every_chat_with_a_migrated_booking(booking_side_world, tmp_path):
    truth = read_truth(booking_side_world.truth)
    temp = fresh_temp_dir(booking_side_world, tmp_path)
    strict = extract(str(booking_side_world.dump), temp, link="strict")
    assert strict.metadata["processed_chats"] == strict.metadata["processed_messages"] == 0
    recover = extract(str(booking_side_world.dump), temp, link="recover")
    decisions = json.loads((temp / "chat-links.json").read_text())["chats"]
    by_rule = [d for d in decisions if d["rule"] == links.LINK_BOOKING_SIDE]
    assert len(by_rule) == truth["recoverable_active_chats"]
    assert recover.metadata["processed_messages"] > 0
    # every migrated message is accounted for in chat-links.json
    assert sum(t["messages"] for d in decisions for t in d["targets"]) == recover.metadata["processed_messages"]
    assert recover.metadata["link_mode"] == "recover"


@pytest.mark.postgres
def test_recover_runs_end_to_end_and_validates(booking_side_world, tmp_path):
    from chatmigrate.postgres.db import seed_from_csv
    from chatmigrate.steps.run import run
    from pgdb import throwaway

    with throwaway("links") as db:
        seed_from_csv(db.url, booking_side_world.seed_dir)
        temp = fresh_temp_dir(booking_side_world, tmp_path)
        res = run(str(booking_side_world.dump), temp, db.url, link="recover")
        assert res.validation.is_valid, res.validation.doc["validation_errors"]
        assert res.creation.counts.messages.created == res.extraction.metadata["processed_messages"] > 0
        # one chat per booking held, and every divided or merged chat's messages are in place
        assert db.query("SELECT count(*) = count(DISTINCT booking_id) FROM chats")[0][0]
        again = run(str(booking_side_world.dump), temp, db.url, link="recover")  # stable ids: a no-op
        assert again.creation.counts.chats.created == again.creation.counts.messages.created == 0
        assert again.validation.is_valid


def test_impact_report_shows_both_modes(booking_side_world, tmp_path):
    temp = fresh_temp_dir(booking_side_world, tmp_path)
    doc = plan(str(booking_side_world.dump), temp)
    strict, recover = doc["modes"]["strict"], doc["modes"]["recover"]
    assert strict["messages_migrating"] == 0 < recover["messages_migrating"]
    assert recover["conversations_lost"] < strict["conversations_lost"]
    assert strict["customers_losing_history"] >= recover["customers_losing_history"]
    assert all(x["reason"] for x in recover["lost_conversations"])
    assert json.loads((temp / "phase-6-impact.json").read_text())["modes"]["recover"]["target_chats"] == recover["target_chats"]


def test_the_chat_rules_are_pure_their_lookups_stay_as_they_were():
    bookings = [booking(B1, chat=C1), booking(B2, chat=C1, created="2024-03-01 00:00:00")]
    lk = lookups(bookings, {B1, B2})
    before = (dict(lk.bookings), dict(lk.mapping), dict(lk.chats))
    results = [linker([chat()], lk) for linker in (links.link_strict, links.link_chats, links.link_by_participants)]
    assert (dict(lk.bookings), dict(lk.mapping), dict(lk.chats)) == before == (before[0], before[1], {})
    assert [set(x.routes) for x in results] == [{C1}, {C1}, {C1}]  # the routes are returned instead
    assert isinstance(results[1].routes[C1], r.Route)  # recover divides the chat between B1 and B2
