"""The shapes of the plan's small JSON documents (TypedDicts), for the writers in ``planfiles``.

Owns: the keys and value types of step 1's metadata, the creation stats, the validation
results, the run's stats and the impact report. Plain types, no I/O.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from .kinds import ChatSchema, LinkMode, LinkModeSource


class SenderDistribution(TypedDict):
    customer: int
    stylist: int


class SkipReasons(TypedDict):
    chats: dict[str, int]
    messages: dict[str, int]


class ExtractMetadata(TypedDict):
    total_mysql_chats: int
    total_mysql_messages: int
    total_mysql_bookings: int
    processed_chats: int
    processed_messages: int
    skipped_chats: int
    skipped_messages: int
    active_chats: int
    image_messages: int
    sender_distribution: SenderDistribution
    skip_reasons: SkipReasons
    warnings: int
    alerts: list[str]
    migrated_bookings_in_phase4: int
    source_timezone: str
    link_mode: LinkMode
    link_mode_source: NotRequired[LinkModeSource]  # "option" (--link), "detected" (target schema), "default"
    legacy_chats_linked: int
    dump: str
    dump_sha256: NotRequired[str]  # when step 1 computed it while reading
    dump_reader: NotRequired[Literal["native", "python"]]  # the tuple reader that read the dump


class CreationStats(TypedDict):
    completed_at: str
    duration_seconds: float
    committed: bool
    total_chats: int
    total_messages: int
    total_media: int
    successfully_created_chats: int
    successfully_created_messages: int
    successfully_created_media: int
    already_present_chats: int
    already_present_messages: int
    already_present_media: int
    failed_chat_creations: int
    failed_message_creations: int
    failed_media_creations: int
    chat_success_rate: str
    message_success_rate: str
    media_success_rate: str
    insert_triggers_fired: NotRequired[list[str]]
    run_id: NotRequired[int]  # the ledger run (chatmigrate.runs) the load belongs to
    dump_sha256: NotRequired[str | None]
    indexes_built: NotRequired[bool]
    error: NotRequired[str]  # what failed after the load's commit


class Skipped(TypedDict):
    chats: int
    messages: int
    reasons: SkipReasons


class SqlCheck(TypedDict):
    id: str
    section: str
    title: str
    status: str
    detail: str
    columns: list[str]
    rows: list[Any]


class ChangedSinceMigration(TypedDict, total=False):
    """What the app changed after the migration (told by the ledger); not migration errors,
    except content changes, which still make is_valid false."""

    since: str | None  # the last committed run's finished_at; None: no ledger, nothing is told apart
    messages_changed: int  # migrated messages updated since (any column)
    messages_read: int  # of those, read status false in the source and true now: not blocking
    chats_updated: int  # migrated chats updated since (updated_at after `since`, or the row changed)
    app_messages: int  # messages added by the app to migrated chats after `since`: not blocking


class ValidationResults(TypedDict):
    validated_at: str
    is_valid: bool
    total_mysql_chats: int
    total_mysql_messages: int
    total_pg_chats: int
    total_pg_messages: int
    expected_chats: int
    expected_messages: int
    expected_media: int
    missing_chats: list[Any]
    missing_messages: list[Any]
    orphaned_chats: list[Any]
    orphaned_messages: list[Any]
    chat_booking_mismatches: int
    message_sender_mismatches: list[dict[str, str]]
    message_content_mismatches: list[Any]
    missing_media: list[Any]
    # every list above is capped (ids listed per finding); its complete count and whether it was cut:
    missing_chats_total: int
    missing_chats_truncated: bool
    missing_messages_total: int
    missing_messages_truncated: bool
    orphaned_chats_total: int
    orphaned_chats_truncated: bool
    orphaned_messages_total: int
    orphaned_messages_truncated: bool
    message_sender_mismatches_total: int
    message_sender_mismatches_truncated: bool
    message_content_mismatches_total: int
    message_content_mismatches_truncated: bool
    missing_media_total: int
    missing_media_truncated: bool
    max_listed: int  # the cap
    changed_since_migration: ChangedSinceMigration
    legacy_messages_before_chat: list[str]  # dated before their chat in the dump itself (not an error)
    legacy_messages_before_chat_total: int
    legacy_messages_before_chat_truncated: bool
    other_mismatches: dict[str, int]
    intentionally_skipped: Skipped
    sql_checks: list[SqlCheck]
    sql_suite_status: str
    validation_errors: list[str]
    # storage completeness (steps.validate_images): "not checked (no storage configured)", or where it was
    # checked and the chat images' objects (missing or mismatched ones make is_valid false)
    images: NotRequired[str]
    images_checked: NotRequired[int]
    images_in_place: NotRequired[int]
    images_missing: NotRequired[list[str]]
    images_missing_total: NotRequired[int]
    images_missing_truncated: NotRequired[bool]
    images_mismatched: NotRequired[list[str]]
    images_mismatched_total: NotRequired[int]
    images_mismatched_truncated: NotRequired[bool]
    images_unverified: NotRequired[list[str]]  # never copied (no record of the source): reported, not an error
    images_unverified_total: NotRequired[int]
    images_unverified_truncated: NotRequired[bool]


class MigrationStats(TypedDict, total=False):
    phase: int
    started_at: str
    link_mode: LinkMode
    link_mode_source: LinkModeSource  # "option" (--link), "detected" (the target's chat schema), "default"
    chat_schema: ChatSchema
    completed_at: str
    duration_seconds: float
    success: bool
    steps: dict[str, Any]  # extraction / creation / validation: success, duration, the step's figures; error


class ModeImpact(TypedDict):
    legacy_chats: int
    legacy_chats_migrating: int
    target_chats: int
    messages_migrating: int
    chats_skipped: dict[str, int]
    messages_skipped: dict[str, int]
    linked_by_rule: dict[str, int]
    customers_losing_history: int
    stylists_losing_history: int
    conversations_lost: int
    messages_in_lost_conversations: int
    lost_conversations: list[dict[str, Any]]


ImpactFigure = Literal[  # the counted figures of a mode, side by side in `chatmigrate plan`
    "legacy_chats_migrating", "target_chats", "messages_migrating", "conversations_lost",
    "messages_in_lost_conversations", "customers_losing_history", "stylists_losing_history",
]


class Impact(TypedDict):
    planned_at: str
    run_mode: LinkMode  # the mode `run` would use (with the same --link and target): first in modes
    run_mode_source: LinkModeSource
    chat_schema: ChatSchema | None  # the target's, when plan was given --database-url
    modes: dict[str, ModeImpact]  # in plan order: run_mode first
    path: NotRequired[str]  # where it was written (not in the file)
