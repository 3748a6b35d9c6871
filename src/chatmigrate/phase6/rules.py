"""Step 1's rules: which legacy chats and messages migrate, and what they become.

Owns: the plan's decisions, as pure functions over typed rows: the chat rules (active,
booking found, booking migrated, in that order), the message rules (chat found, chat
processed, sender type, created_at, sender resolved, in that order), sender resolution
(buyer -> the chat's booking's buyer -> new profile id; stylist likewise), read status
(``is_read = is_unread == 0``), NUL removal, image messages (content ``''`` and a
planned ``chat_image`` media row) and UTC ISO timestamps.

Does not own: reading the dump or the phase files, writing anything (``steps``).
No I/O, no database: every function here is table-testable.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from sys import intern
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from . import records as r


@dataclass(frozen=True, slots=True)
class Lookups:
    """Everything the rules need besides the row itself. Immutable: a step that decides
    the chats' routes makes a new Lookups with :meth:`with_chats`."""

    bookings: Mapping[str, r.LegacyBooking]  # legacy booking id (lowercase) -> booking
    migrated: Collection[str]  # booking ids with success: true in bookings-created.json
    mapping: Mapping[str, str]  # legacy buyer/stylist id (lowercase) -> new profile id
    source_tz: tzinfo | None = None  # None: legacy values are UTC wall time
    # every legacy chat id (lowercase) -> its target chat, None (skipped), or in recover
    # mode a Route that divides it among several target chats by message time. The linkers
    # (``links``) put here only what the message rules read of a target chat: its id and
    # people (:func:`message_route`); the whole chats go to the step's files.
    chats: Mapping[str, r.ChatRoute] = field(default_factory=dict)

    def with_chats(self, chats: Mapping[str, r.ChatRoute]) -> Lookups:
        return replace(self, chats=chats)

    def for_messages(self) -> Lookups:
        """What the message rules need: the chats, not the bookings (freed for the long pass)."""
        return replace(self, bookings={})


def low(value: Any) -> str | None:
    """An id as the target keys it: trimmed, lowercased; ``None`` for NULL or empty.

    An id that is already lowercase is returned as the same object, not a copy: the
    lookups hold hundreds of thousands of them.
    """
    if value.__class__ is not str:
        if value is None:
            return None
        value = str(value)
    value = value.strip()
    return value if value.islower() else (value.lower() or None)


def person(value: Any) -> str | None:
    """A buyer or stylist id, interned: the same few people recur across many bookings."""
    v = low(value)
    return None if v is None else intern(v)


def utc_iso(value: Any, tz: tzinfo | None = None) -> str | None:
    """Legacy DATETIME text -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; ``None`` if zero/invalid.

    Always six fractional digits, so two results compare as text in time order.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None and tz is None:
        if len(text) == 26 and text[10] == " ":  # mysqldump's datetime(6): reuse the text
            return text[:10] + "T" + text[11:] + "Z"
        return dt.isoformat(timespec="microseconds") + "Z"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _truthy(value: Any) -> bool:
    return value is not None and str(value).strip() not in ("", "0")


# --------------------------------------------------------------------------- rows


def legacy_booking(v: Mapping[str, Any]) -> r.LegacyBooking:
    return r.LegacyBooking(
        id=low(v["id"]) or "",
        buyer_id=person(v.get("buyer_id")),
        stylist_id=person(v.get("stylist_id")),
        chat_id=low(v.get("chat_id")),
        created_at=v.get("created_at"),
    )


def legacy_chat(v: Mapping[str, Any]) -> r.LegacyChat:
    return r.LegacyChat(
        id=str(v["id"]),
        buyer_id=v.get("buyer_id"),
        stylist_id=v.get("stylist_id"),
        booking_id=v.get("booking_id"),
        is_active=v.get("is_active"),
        created_at=v.get("created_at"),
        updated_at=v.get("updated_at"),
    )


_make = tuple.__new__  # builds a NamedTuple without keyword handling (a million messages)


def legacy_message(v: Mapping[str, Any]) -> r.LegacyMessage:
    get = v.get
    return _make(r.LegacyMessage, (str(v["id"]), get("message") or "", get("is_image"), get("is_from"),
                                   get("chat_id"), get("is_unread"), get("created_at")))


# --------------------------------------------------------------------------- chats


def is_active(chat: r.LegacyChat) -> bool:
    """The plan's "active" rule: ``is_active = 1``, nothing else."""
    return str(chat.is_active).strip() == "1"


def classify_chat(chat: r.LegacyChat, lk: Lookups) -> r.TargetChat | r.Skip:
    """The plan's chat rules, first match wins."""
    chat_id = low(chat.id) or ""
    booking_id = low(chat.booking_id)
    if not is_active(chat):
        return r.Skip("chat", chat_id, booking_id, r.CHAT_NOT_ACTIVE)
    if booking_id is None or booking_id not in lk.bookings:
        return r.Skip("chat", chat_id, booking_id, r.NO_BOOKING)
    if booking_id not in lk.migrated:
        return r.Skip("chat", chat_id, booking_id, r.BOOKING_NOT_MIGRATED)
    created = utc_iso(chat.created_at, lk.source_tz)
    if created is None:
        return r.Skip("chat", chat_id, booking_id, r.CHAT_INVALID_CREATED_AT.format(value=chat.created_at))
    updated = utc_iso(chat.updated_at, lk.source_tz) or created
    if updated < created:  # same fixed-width ISO form: text order is time order
        updated = created
    booking = lk.bookings[booking_id]
    return r.TargetChat(
        id=chat_id,
        booking_id=booking_id,
        created_at=created,
        updated_at=updated,
        customer_id=lk.mapping.get(booking.buyer_id or ""),
        stylist_id=lk.mapping.get(booking.stylist_id or ""),
    )


def message_route(chat: r.TargetChat) -> r.TargetChat:
    """What a route holds of a target chat: its id and people; no booking, no timestamps
    (the message rules read nothing else, and a million chats' timestamps add up)."""
    return _make(r.TargetChat, (chat.id, None, "", "", chat.customer_id, chat.stylist_id))


# --------------------------------------------------------------------------- messages


def image_file_name(url: str, message_id: str) -> str:
    """The file name at the end of a legacy S3 URL (``.../Chat-Images//<chat>/<uuid>.jpeg``)."""
    path = urlsplit(url.strip()).path
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1]) if path else ""
    return name or f"{message_id}.jpg"


class MessageOutcome(NamedTuple):
    message: r.TargetMessage
    media: r.PlannedMedia | None
    nul_removed: int
    source_url: str | None
    legacy_chat_id: str  # the message's chat in the dump (its target chat may differ in recover mode)


def classify_message(msg: r.LegacyMessage, lk: Lookups) -> MessageOutcome | r.Skip:
    """The plan's message rules, first match wins; the chat must already be classified."""
    message_id = low(msg.id) or ""
    chat_id = low(msg.chat_id)
    if chat_id is None or chat_id not in lk.chats:
        return r.Skip("message", message_id, chat_id, r.MESSAGE_CHAT_NOT_FOUND)
    legacy_chat_id = chat_id
    chat = lk.chats[chat_id]
    if chat is None:
        return r.Skip("message", message_id, chat_id, r.MESSAGE_CHAT_NOT_PROCESSED)
    if msg.is_from == "buyer":
        role = "customer"
    elif msg.is_from == "stylist":
        role = "stylist"
    else:
        return r.Skip("message", message_id, chat_id, r.UNKNOWN_SENDER.format(value=msg.is_from))
    created = utc_iso(msg.created_at, lk.source_tz)
    if created is None:
        return r.Skip("message", message_id, chat_id, r.INVALID_CREATED_AT.format(value=msg.created_at))
    if chat.__class__ is not r.TargetChat:  # a Route: the part whose window holds the message
        chat = chat.part_for(created)  # type: ignore[union-attr]
    chat_id = chat.id  # in recover mode, possibly a merged or divided chat's id
    sender = chat.customer_id if role == "customer" else chat.stylist_id
    if sender is None:
        return r.Skip("message", message_id, chat_id, r.SENDER_UNRESOLVED)
    text = msg.message
    nul = text.count("\x00")
    if nul:
        text = text.replace("\x00", "")
    has_image = _truthy(msg.is_image)
    media = None
    url = None
    if has_image:
        url = text.strip()
        path = f"{chat_id}/{message_id}/{image_file_name(url, message_id)}"
        media = r.PlannedMedia(r.media_id(message_id), message_id, chat_id, sender, path, url)
        text = ""
    unread = msg.is_unread
    is_read = unread is not None and str(unread).strip() == "0"
    target = r.TargetMessage(message_id, chat_id, sender, role, text, is_read, created, has_image)
    return MessageOutcome(target, media, nul, url, legacy_chat_id)


_fromiso = datetime.fromisoformat
_Target, _Outcome = r.TargetMessage, MessageOutcome
_NOT_FOUND, _NOT_PROCESSED = r.MESSAGE_CHAT_NOT_FOUND, r.MESSAGE_CHAT_NOT_PROCESSED


def classify_messages(rows: Iterable[Mapping[str, Any]], lk: Lookups) -> list[MessageOutcome | r.Skip]:
    """:func:`classify_message` of :func:`legacy_message` for each row, in order: the same
    results, computed a million times without a call per rule.

    The common row (text ids, a ``datetime(6)`` text, integer flags, a plain target chat) is
    decided inline here; any other value goes through the reference functions above, so
    each result equals ``classify_message(legacy_message(row), lk)`` (tested against it).
    """
    out: list[MessageOutcome | r.Skip] = []
    append = out.append
    chats = lk.chats
    route_of = chats.get
    tz = lk.source_tz
    make, skip, target, outcome, chat_cls = _make, r.Skip, _Target, _Outcome, r.TargetChat
    fromiso = _fromiso
    for v in rows:
        try:  # the reader's rows hold every column legacy_message reads (REQUIRED_COLUMNS)
            mid, cid, sent_by, raw = v["id"], v["chat_id"], v["is_from"], v["created_at"]
            text, flag, unread = v["message"], v["is_image"], v["is_unread"]
        except KeyError:
            append(classify_message(legacy_message(v), lk))
            continue
        if mid.__class__ is not str:
            append(classify_message(legacy_message(v), lk))
            continue
        # low() without its islower() scan (a call per character): a lowercase text lowers to itself
        mid = mid.strip().lower()
        if cid.__class__ is str:
            cid = cid.strip().lower() or None
        elif cid is not None:
            cid = low(cid)
        if cid is None:
            append(make(skip, ("message", mid, None, _NOT_FOUND)))
            continue
        chat = route_of(cid)
        if chat is None:
            append(make(skip, ("message", mid, cid, _NOT_PROCESSED if cid in chats else _NOT_FOUND)))
            continue
        if sent_by == "buyer":
            role = "customer"
        elif sent_by == "stylist":
            role = "stylist"
        else:
            append(make(skip, ("message", mid, cid, r.UNKNOWN_SENDER.format(value=sent_by))))
            continue
        created = None
        if tz is None and raw.__class__ is str and len(raw) == 26 and raw[10] == " " and raw[0].isdigit() \
                and raw[25].isdigit():  # mysqldump's datetime(6), nothing to strip: the text is reused
            try:
                if fromiso(raw).tzinfo is None:
                    created = f"{raw[:10]}T{raw[11:]}Z"
            except ValueError:
                pass
        if created is None:
            created = utc_iso(raw, tz)
            if created is None:
                append(make(skip, ("message", mid, cid, r.INVALID_CREATED_AT.format(value=raw))))
                continue
        part = chat if chat.__class__ is chat_cls else chat.part_for(created)  # type: ignore[union-attr]
        sender = part.customer_id if role == "customer" else part.stylist_id
        if sender is None:
            append(make(skip, ("message", mid, part.id, r.SENDER_UNRESOLVED)))
            continue
        text = text or ""
        nul = text.count("\x00")
        if nul:
            text = text.replace("\x00", "")
        if flag.__class__ is int:
            if flag:
                append(classify_message(legacy_message(v), lk))  # an image message: the reference path
                continue
        elif _truthy(flag):
            append(classify_message(legacy_message(v), lk))
            continue
        is_read = unread == 0 if unread.__class__ is int else (unread is not None and str(unread).strip() == "0")
        append(make(outcome, (make(target, (mid, part.id, sender, role, text, is_read, created, False)),
                              None, nul, None, cid)))
    return out


# --------------------------------------------------------------------------- alerts

# The plan's "Alerting Thresholds" that step 1 can judge (the error-rate stop is step 2's).
MISSING_BOOKING_ALERT = 0.01
SENDER_FAILURE_ALERT = 0.01


def extraction_alerts(chat_reasons: Mapping[str, int], message_reasons: Mapping[str, int],
                      active_chats: int, processed_messages: int, *, link: str = "strict",
                      processed_chats: int | None = None) -> list[str]:
    """Sentences for the plan's thresholds that step 1's counts cross, each with its count,
    whose fact it is (the legacy data's or a phase's) and the next step.

    Nothing migrating is said first. Chats without a booking in the legacy data and chats
    whose booking Phase 4 did not migrate are two alerts, when together they cross the
    plan's 1% of active chats.
    """
    alerts = []
    migrated = processed_messages if processed_chats is None else processed_chats
    if active_chats and not migrated:
        why = {
            "strict": "the plan's rule needs a chat's own booking_id: run `chatmigrate plan` to compare the link "
                      "modes, then `chatmigrate run --link recover` to link chats through booking.chat_id and "
                      "their buyer and stylist",
            "recover": "no chat links to a booking Phase 4 migrated, by booking_id, booking.chat_id or its buyer "
                       "and stylist: check bookings-created.json, and `chatmigrate plan`",
            "participants": "no chat has both its buyer and stylist in user-id-mapping.json: check Phase 1's "
                            "user mapping",
        }.get(link, "run `chatmigrate plan` to compare the link modes")
        alerts.append(f"0 of {active_chats:,} active chats migrate with --link {link}: {why}")
    no_booking = chat_reasons.get(r.NO_BOOKING, 0)
    not_migrated = chat_reasons.get(r.BOOKING_NOT_MIGRATED, 0)
    if active_chats and (no_booking + not_migrated) / active_chats > MISSING_BOOKING_ALERT:
        threshold = f"threshold {MISSING_BOOKING_ALERT:.0%}" + (
            ", counted together with the chats of the other booking alert" if no_booking and not_migrated else "")
        if no_booking:
            advice = ("`chatmigrate plan` shows what --link recover links through booking.chat_id and the chats' "
                      "buyer and stylist" if link == "strict" else
                      "none links to a migrated booking through booking.chat_id or its buyer and stylist either")
            alerts.append(
                f"{no_booking / active_chats:.1%} of active chats ({no_booking:,} of {active_chats:,}) have no "
                f"booking in the legacy data (chat.booking_id empty or naming no booking in the dump; {threshold}): "
                f"a fact of the legacy data, not a Phase 4 gap; {advice}; skipped-chats.json lists them"
            )
        if not_migrated:
            alerts.append(
                f"{not_migrated / active_chats:.1%} of active chats ({not_migrated:,} of {active_chats:,}) have a "
                f"booking that Phase 4 did not migrate (not success: true in bookings-created.json; {threshold}): "
                "review Phase 4's failed bookings and re-run it; skipped-chats.json lists the chats"
            )
    unresolved = message_reasons.get(r.SENDER_UNRESOLVED, 0)
    considered = unresolved + processed_messages
    if considered and unresolved / considered > SENDER_FAILURE_ALERT:
        alerts.append(
            f"{unresolved / considered:.1%} of messages in migrated chats ({unresolved:,}) have a sender missing "
            f"from user-id-mapping.json (threshold {SENDER_FAILURE_ALERT:.0%}): check Phase 1's user mapping"
        )
    return alerts
