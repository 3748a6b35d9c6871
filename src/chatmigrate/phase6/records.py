"""Typed records passed between the Phase 6 stages, and the plan's skip reasons.

Records are NamedTuples: typed, immutable, and cheap to build a million times.

Owns: the legacy row types (read from the dump), the target row types (what step 2
writes), skip and failure records, and the reason strings the plan names. Plain data,
no I/O, no rules: everything else imports from here, this imports only the closed sets (``kinds``).
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .kinds import RowKind

# --- the plan's skip reasons (step 1) --------------------------------------------
CHAT_NOT_ACTIVE = "Chat is not active"
NO_BOOKING = "No booking found for this chat"
BOOKING_NOT_MIGRATED = "Booking was not migrated to PostgreSQL"
CHAT_INVALID_CREATED_AT = "Invalid created_at: {value}"
MESSAGE_CHAT_NOT_FOUND = "Could not find chat for this message"
MESSAGE_CHAT_NOT_PROCESSED = "Chat was not processed"
UNKNOWN_SENDER = "Unknown sender type: {value}"
INVALID_CREATED_AT = "Invalid created_at: {value}"
SENDER_UNRESOLVED = "Could not resolve sender"

CHAT_TABLES = ("booking", "chat", "message")
# The columns phase6.rules.legacy_booking / legacy_chat / legacy_message read: the dump
# reader refuses a dump whose table lacks one (a renamed column would otherwise read as
# NULL in every row and skip or empty them all). Keep in step with those functions.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "booking": ("id", "buyer_id", "stylist_id", "chat_id", "created_at"),
    "chat": ("id", "buyer_id", "stylist_id", "booking_id", "is_active", "created_at", "updated_at"),
    "message": ("id", "message", "is_image", "is_from", "chat_id", "is_unread", "created_at"),
}
MEDIA_TYPE = "chat_image"
MEDIA_BUCKET = "chat-media"
# Media ids are derived from the message id, so every re-run plans the same rows.
MEDIA_NAMESPACE = uuid.UUID("6f1c3c1e-6b0e-4c55-9a55-3b7f0f0c6d11")


class LegacyBooking(NamedTuple):
    id: str  # lowercased
    buyer_id: str | None
    stylist_id: str | None
    chat_id: str | None  # lowercased; the link from the booking side
    created_at: str | None = None  # as in the dump (orders a chat's bookings in recover mode)


class LegacyChat(NamedTuple):
    id: str  # as in the dump
    buyer_id: str | None
    stylist_id: str | None
    booking_id: str | None
    is_active: Any
    created_at: str | None
    updated_at: str | None


class LegacyMessage(NamedTuple):
    id: str
    message: str
    is_image: Any
    is_from: str | None
    chat_id: str | None
    is_unread: Any
    created_at: str | None


class TargetChat(NamedTuple):
    id: str
    booking_id: str | None  # None in the participants schema (chats keyed by customer and stylist)
    created_at: str
    updated_at: str
    customer_id: str | None = None  # new profile ids of the booking's buyer and stylist,
    stylist_id: str | None = None  # for sender resolution (None: not in the mapping)


class TargetMessage(NamedTuple):
    id: str
    chat_id: str
    sender_id: str
    sender_role: str  # "customer" | "stylist"
    content: str
    is_read: bool
    created_at: str
    has_image: bool


class Route(NamedTuple):
    """A legacy chat divided among several target chats by message time (recover mode)."""

    starts: tuple[str, ...]  # UTC ISO start of each part's window; the first is open-ended
    parts: tuple[TargetChat, ...]

    def part_for(self, created_at: str) -> TargetChat:
        return self.parts[max(0, bisect_right(self.starts, created_at) - 1)]


# where a legacy chat's messages go: a target chat, a Route among several, or None (skipped)
ChatRoute = TargetChat | Route | None


class PlannedMedia(NamedTuple):
    id: str
    message_id: str
    chat_id: str
    owner_id: str
    file_path: str  # bucket-relative: {chat_id}/{message_id}/{file name}
    source_url: str


class BookingResult(NamedTuple):
    """One line of Phase 4's bookings-created.json."""

    id: str
    success: bool
    error: str | None = None


class Skip(NamedTuple):
    """A legacy row intentionally left behind by the rules, with the plan's reason."""

    kind: RowKind  # "chat" or "message"
    id: str
    parent_id: str | None  # the chat's booking_id / the message's chat_id
    reason: str


class Failure(NamedTuple):
    """A row step 2 could not insert, with the reason found in the target."""

    kind: RowKind
    id: str
    parent_id: str | None
    error: str


class NulWarning(NamedTuple):
    message_id: str
    removed: int  # NUL characters taken out of the text


class CreatedChat(NamedTuple):
    id: str
    booking_id: str | None  # None in the participants schema
    customer_id: str | None
    stylist_id: str | None


class CreatedMessage(NamedTuple):
    id: str
    chat_id: str
    sender_id: str
    has_image: bool


class CreatedMedia(NamedTuple):
    id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class CreatedRows:
    """The rows of one outcome (created, or already present) for the manifest."""

    chats: Iterable[CreatedChat]
    messages: Iterable[CreatedMessage]
    media: Iterable[CreatedMedia]


def media_id(message_id: str) -> str:
    return str(uuid.uuid5(MEDIA_NAMESPACE, message_id))
