"""Link recovery (``--link recover``): giving legacy chats without a booking_id a booking.

Owns: the recover rules, pure like the strict ones in ``rules``. An active chat is linked
to migrated bookings in this order: its own ``booking_id``; else the bookings whose
``booking.chat_id`` names it; else the migrated bookings of the same buyer and stylist.
The target allows one chat per booking (``chats.booking_id UNIQUE``), so:

- a legacy chat linked to several bookings is divided by time: each message goes to the
  booking whose window it falls in (from that booking's creation until the next one's;
  messages before the first booking go to the first), each part a chat of its own;
- several legacy chats linked to one booking merge into one chat.

A target chat keeps the legacy chat's id when it is the only chat on its only booking;
otherwise its id is UUID v5 of the booking id, so re-runs give the same ids. Every
decision is returned as a :class:`ChatLink` for ``chat-links.json``.

Does not own: the strict rules, reading or writing anything.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, MutableMapping
from typing import NamedTuple

from . import records as r
from .compact import Spool, route_map
from .rules import Lookups, classify_chat, is_active, low, message_route, utc_iso

LINK_OWN = "chat.booking_id"
LINK_BOOKING_SIDE = "booking.chat_id"
LINK_PARTICIPANTS = "same buyer and stylist"
CHAT_NAMESPACE = uuid.UUID("0b9c4a57-3e51-4f3c-8f0e-6a2d1c7b9e40")


Route = r.Route  # defined with the records: the message rules follow it


class ChatLink(NamedTuple):
    """What recover decided for one legacy chat (a line of chat-links.json)."""

    legacy_id: str
    rule: str | None  # LINK_* or None when skipped
    targets: tuple[tuple[str, str], ...]  # (target chat id, booking id), in time order
    reason: str | None = None  # the skip reason when rule is None


class Linked(NamedTuple):
    """The chat rules' result for every legacy chat of a dump. The lists are spooled to a
    temporary file (``compact.Spool``: appended, then iterated); only the routes stay in
    memory, holding what the message rules read of a target chat (``rules.message_route``)."""

    targets: Spool[r.TargetChat]  # the chats to create
    skips: Spool[r.Skip]
    decisions: Spool[ChatLink]  # one per legacy chat, for chat-links.json
    routes: MutableMapping[str, r.ChatRoute]  # legacy chat id -> where its messages go (compact.route_map)


def _linked(own_ids: bool = False) -> Linked:
    return Linked(Spool(r.TargetChat._make), Spool(r.Skip._make), Spool(ChatLink._make), route_map(own_ids))


def link_strict(chats: Iterable[r.LegacyChat], lk: Lookups) -> Linked:
    """The plan's rule: a chat migrates with its own booking_id (``rules.classify_chat``)."""
    out = _linked(own_ids=True)  # a target chat keeps its legacy chat's id
    for chat in chats:
        outcome = classify_chat(chat, lk)
        key = low(chat.id) or ""
        if isinstance(outcome, r.Skip):
            out.skips.append(outcome)
            out.routes[key] = None
            out.decisions.append(ChatLink(key, None, (), outcome.reason))
        else:
            out.targets.append(outcome)
            out.routes[key] = message_route(outcome)
            out.decisions.append(ChatLink(key, LINK_OWN, ((outcome.id, outcome.booking_id or ""),)))
    return out


def target_chat_id(booking_id: str) -> str:
    return str(uuid.uuid5(CHAT_NAMESPACE, f"booking:{booking_id}"))


def _booking_order(lk: Lookups, booking_id: str) -> tuple[str, str]:
    b = lk.bookings[booking_id]
    return (utc_iso(b.created_at, lk.source_tz) or "", booking_id)


def find_bookings(chat: r.LegacyChat, lk: Lookups, by_chat: dict[str, list[str]],
                  by_pair: dict[tuple[str, str], list[str]]) -> tuple[str | None, list[str]]:
    """(rule, migrated booking ids in time order) for one active chat; (None, []) if none."""
    own = low(chat.booking_id)
    if own and own in lk.migrated and own in lk.bookings:
        return LINK_OWN, [own]
    side = [b for b in by_chat.get(low(chat.id) or "", []) if b in lk.migrated]
    if side:
        return LINK_BOOKING_SIDE, sorted(side, key=lambda b: _booking_order(lk, b))
    pair = by_pair.get((low(chat.buyer_id) or "", low(chat.stylist_id) or ""), [])
    pair = [b for b in pair if b in lk.migrated]
    if pair:
        return LINK_PARTICIPANTS, sorted(pair, key=lambda b: _booking_order(lk, b))
    return None, []


def link_chats(chats: Iterable[r.LegacyChat], lk: Lookups) -> Linked:
    """Apply the recover rules to every chat (pure: ``lk`` is only read)."""
    by_chat: dict[str, list[str]] = defaultdict(list)
    by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    for bk in lk.bookings.values():
        if bk.chat_id:
            by_chat[bk.chat_id].append(bk.id)
        by_pair[(bk.buyer_id or "", bk.stylist_id or "")].append(bk.id)

    out = _linked()
    skips, links, routes = out.skips, out.decisions, out.routes
    linked: Spool[tuple[r.LegacyChat, str, list[str]]] = Spool()
    claims: dict[str, set[str]] = defaultdict(set)  # booking -> legacy chats linked to it
    for chat in chats:
        key = low(chat.id) or ""
        if not is_active(chat):
            skip = r.Skip("chat", key, low(chat.booking_id), r.CHAT_NOT_ACTIVE)
        elif utc_iso(chat.created_at, lk.source_tz) is None:
            skip = r.Skip("chat", key, low(chat.booking_id),
                          r.CHAT_INVALID_CREATED_AT.format(value=chat.created_at))
        else:
            rule, bookings = find_bookings(chat, lk, by_chat, by_pair)
            if rule is not None:
                linked.append((chat, rule, bookings))
                for b in bookings:
                    claims[b].add(key)
                continue
            own = low(chat.booking_id)
            reason = r.BOOKING_NOT_MIGRATED if own and own in lk.bookings else r.NO_BOOKING
            skip = r.Skip("chat", key, own, reason)
        skips.append(skip)
        routes[key] = None
        links.append(ChatLink(key, None, (), skip.reason))

    # one target chat per booking; a lone chat on a lone booking keeps its legacy id
    merged: dict[str, dict[str, str]] = {}  # target id -> created/updated/booking
    for chat, _, bookings in linked:
        key = low(chat.id) or ""
        created = utc_iso(chat.created_at, lk.source_tz) or ""
        updated = max(utc_iso(chat.updated_at, lk.source_tz) or created, created)
        for b in bookings:
            tid = key if len(bookings) == 1 and claims[b] == {key} else target_chat_id(b)
            m = merged.setdefault(tid, {"booking": b, "created": created, "updated": updated})
            m["created"] = min(m["created"], created)
            m["updated"] = max(m["updated"], updated)
    targets: dict[str, r.TargetChat] = {}  # target id -> what the message rules need of it
    for tid, m in merged.items():
        booking = lk.bookings[m["booking"]]
        target = r.TargetChat(tid, m["booking"], m["created"], m["updated"],
                              lk.mapping.get(booking.buyer_id or ""), lk.mapping.get(booking.stylist_id or ""))
        out.targets.append(target)
        targets[tid] = message_route(target)
    del merged
    for chat, rule, bookings in linked:
        key = low(chat.id) or ""
        tids = tuple(key if len(bookings) == 1 and claims[b] == {key} else target_chat_id(b) for b in bookings)
        parts = tuple(targets[t] for t in tids)
        if len(parts) == 1:
            routes[key] = parts[0]
        else:
            routes[key] = r.Route(tuple(_booking_order(lk, b)[0] for b in bookings), parts)
        links.append(ChatLink(key, rule, tuple(zip(tids, bookings, strict=True))))
    linked.close()
    return out


# --------------------------------------------------------------------------- participants

LINK_PAIR = "customer and stylist"
PEOPLE_NOT_MAPPED = "Chat participants are not in user-id-mapping.json"


def pair_chat_id(customer_id: str, stylist_id: str) -> str:
    return str(uuid.uuid5(CHAT_NAMESPACE, f"pair:{customer_id}:{stylist_id}"))


def link_by_participants(chats: Iterable[r.LegacyChat], lk: Lookups) -> Linked:
    """The later schema (chats keyed by customer and stylist): one chat per mapped pair.

    Every active chat whose buyer and stylist are both mapped migrates; legacy chats of the
    same pair merge into one (the legacy id is kept when the pair has a single chat).
    """
    out = _linked()
    skips, decisions, routes, targets = out.skips, out.decisions, out.routes, out.targets
    pairs: dict[tuple[str, str], list[r.LegacyChat]] = defaultdict(list)
    for chat in chats:
        key = low(chat.id) or ""
        customer = lk.mapping.get(low(chat.buyer_id) or "")
        stylist = lk.mapping.get(low(chat.stylist_id) or "")
        if not is_active(chat):
            reason = r.CHAT_NOT_ACTIVE
        elif utc_iso(chat.created_at, lk.source_tz) is None:
            reason = r.CHAT_INVALID_CREATED_AT.format(value=chat.created_at)
        elif customer is None or stylist is None:
            reason = PEOPLE_NOT_MAPPED
        else:
            pairs[(customer, stylist)].append(chat)
            continue
        skips.append(r.Skip("chat", key, low(chat.booking_id), reason))
        routes[key] = None
        decisions.append(ChatLink(key, None, (), reason))
    for (customer, stylist), group in pairs.items():
        keys = [low(c.id) or "" for c in group]
        tid = keys[0] if len(group) == 1 else pair_chat_id(customer, stylist)
        created = min(utc_iso(c.created_at, lk.source_tz) or "" for c in group)
        updated = max(max(utc_iso(c.updated_at, lk.source_tz) or "", utc_iso(c.created_at, lk.source_tz) or "")
                      for c in group)
        target = r.TargetChat(tid, None, created, updated, customer, stylist)
        targets.append(target)
        route = message_route(target)
        for k in keys:
            routes[k] = route
            decisions.append(ChatLink(k, LINK_PAIR, ((tid, ""),)))
    return out
