"""The closed sets of Phase 6, as types: link modes, chat schemas, row kinds, outcomes,
verdicts, sender roles, and the table of validation findings.

Owns: every value of these sets and their spelling (the files' and the database's).
Plain definitions; imports nothing of ours.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, NamedTuple, get_args

LinkMode = Literal["strict", "recover", "participants"]
LINK_MODES: tuple[LinkMode, ...] = get_args(LinkMode)
BOOKING_LINK_MODES: tuple[LinkMode, ...] = ("strict", "recover")  # the modes of the booking-keyed schema

LinkModeSource = Literal["option", "detected", "default"]  # why a step used its link mode
ChatSchema = Literal["booking", "participants"]  # what the target's chats table is keyed by
RowKind = Literal["chat", "message", "media"]
ROW_KINDS: tuple[RowKind, ...] = get_args(RowKind)
SenderRole = Literal["customer", "stylist"]
Verdict = Literal["PASSED", "WARNING", "FAILED", "ERROR", "INFO"]  # a SQL check's status
FAILING_VERDICTS: tuple[Verdict, ...] = ("FAILED", "ERROR")


class Outcome(StrEnum):
    """Step 2's outcome of a staged row that is not a failure (any other value is a reason)."""

    INSERT = "insert"
    PRESENT = "present"


def link_suits(link: LinkMode, schema: ChatSchema) -> bool:
    """Whether step 1's link mode fits the target's chats table."""
    return (link == "participants") == (schema == "participants")


class Finding(NamedTuple):
    key: str  # the reconciliation query's name and the results file's key
    label: str  # the sentence after the count in validation_errors


# Step 3's row-level findings, in the order validation_errors lists them. Each makes the
# migration invalid.
FINDINGS: tuple[Finding, ...] = (
    Finding("missing_chats", "processed chat(s) are not in the target"),
    Finding("missing_messages", "processed message(s) are not in the target"),
    Finding("missing_media", "image message(s) have no chat_image media row with the expected path and owner"),
    Finding("chat_booking_mismatches", "chat(s) link a different booking (or pair of participants) than expected"),
    Finding("chat_timestamp_mismatches", "chat(s) have a different created_at than the source"),
    Finding("message_sender_mismatches", "message(s) have a different sender than expected"),
    Finding("message_chat_mismatches", "message(s) belong to a different chat than expected"),
    Finding("message_content_mismatches", "message(s) differ in content from the source"),
    Finding("message_read_mismatches", "message(s) differ in read status from the source"),
    Finding("message_timestamp_mismatches", "message(s) differ in created_at from the source"),
    Finding("media_timestamp_mismatches", "chat image media row(s) have another created_at than their message"),
    Finding("orphaned_chats", "chat(s) have no booking"),
    Finding("orphaned_messages", "message(s) have no chat"),
)
FINDING_KEYS: tuple[str, ...] = tuple(f.key for f in FINDINGS)
# findings the results file gives as a count only, under other_mismatches
COUNTED_ONLY: tuple[str, ...] = (
    "chat_timestamp_mismatches", "message_chat_mismatches", "message_read_mismatches", "message_timestamp_mismatches",
    "media_timestamp_mismatches",
)


def chat_schema(value: str) -> ChatSchema:
    """A chat schema name as the type (ValueError for anything else)."""
    for known in get_args(ChatSchema):
        if value == known:
            return known  # type: ignore[no-any-return]
    raise ValueError(f"unknown chat schema {value!r}")
