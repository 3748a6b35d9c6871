"""The test plan's SQL validation suite, run read-only against the target.

Owns: the plan's own queries -- the Step 2 "Database Validation" checks that have an
obvious expected value, Step 3 "SQL Validation Queries" sections 1-8 and the
"Post-Migration Verification > Business Validation" queries -- as :data:`CHECKS`, in
plan order; running them (:func:`run_suite`, each in its own savepoint, so one failing
query is an ``ERROR`` result and the others still run); turning their results into
verdicts (``PASSED`` / ``WARNING`` / ``FAILED``, ``INFO`` for figures-only reports);
and printing them as one psql script (:func:`suite_sql`: for one chat schema, or both
variants behind psql's ``\\if``). On the later schema (chats keyed by customer_id and
stylist_id) the plan's booking-keyed checks are "not applicable" and
:data:`PARTICIPANT_CHECKS` ask the same questions of the participants.

The SQL is the plan's text, verbatim, except where it errors against the real schema or
cannot give the verdict it states; every such change is explained in ``Check.note``.

Does not own: the per-row reconciliation against the dump (``postgres.checks``: missing,
mismatched and orphaned rows, and the real per-image media check), opening the read-only
transaction (the caller), deciding ``is_valid`` (``steps.validate``). Never writes.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

VERDICTS = ("PASSED", "WARNING", "FAILED")


@dataclass(frozen=True, slots=True)
class Check:
    id: str  # short slug, e.g. "orphaned_chats"
    section: str  # e.g. "1. Record Count Validation"
    title: str  # the plan's validation_check / report_type label
    sql: str  # the query text as the plan gives it (no trailing semicolon)
    kind: str  # "check" (has a verdict) or "report" (figures only)
    note: str = ""  # why the SQL differs from the plan's text, if it does


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    status: str  # "PASSED" | "WARNING" | "FAILED" | "INFO" | "ERROR"
    columns: list[str]
    rows: list[list[Any]]  # JSON-serialisable
    detail: str  # one line with the key figures


# --------------------------------------------------------------------------------------
# Step 2: Database Validation. The plan gives bare queries with "-- Should be 0" /
# "-- Should return no rows"; the verdict comes from _ON_VIOLATION below.

S2 = "Step 2: Database Validation"

S2_DUPLICATE_BOOKING_CHATS = """\
SELECT booking_id, COUNT(*) as chat_count
FROM chats
GROUP BY booking_id
HAVING COUNT(*) > 1"""

S2_ORPHANED_CHATS = """\
SELECT COUNT(*)
FROM chats c
LEFT JOIN bookings b ON c.booking_id = b.id
WHERE b.id IS NULL"""

S2_ORPHANED_MESSAGES = """\
SELECT COUNT(*)
FROM chat_messages m
LEFT JOIN chats c ON m.chat_id = c.id
WHERE c.id IS NULL"""

S2_CHAT_TIMESTAMPS = """\
SELECT COUNT(*)
FROM chats
WHERE updated_at < created_at"""

S2_MESSAGES_BEFORE_CHAT = """\
SELECT COUNT(*)
FROM chat_messages cm
JOIN chats c ON cm.chat_id = c.id
WHERE cm.created_at < c.created_at"""

# --------------------------------------------------------------------------------------
# Step 3, 1. Record Count Validation

S3_1 = "1. Record Count Validation"

CHAT_RECORD_COUNT = """\
SELECT
  'Chat Record Count' as validation_check,
  COUNT(*) as postgres_count
FROM chats"""

MESSAGE_RECORD_COUNT = """\
SELECT
  'Message Record Count' as validation_check,
  COUNT(*) as postgres_count
FROM chat_messages"""

UNIQUE_CHAT_BOOKING = """\
SELECT
  'Unique Chat-Booking Relationship' as validation_check,
  COUNT(DISTINCT booking_id) as unique_bookings,
  COUNT(*) as total_chats,
  CASE
    WHEN COUNT(DISTINCT booking_id) = COUNT(*) THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Multiple chats per booking detected'
  END as status
FROM chats"""

ORPHANED_CHATS = """\
SELECT
  'Orphaned Chats Check' as validation_check,
  COUNT(*) as orphaned_count,
  CASE
    WHEN COUNT(*) = 0 THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Found chats without valid bookings'
  END as status
FROM chats c
LEFT JOIN bookings b ON c.booking_id = b.id
WHERE b.id IS NULL"""

ORPHANED_MESSAGES = """\
SELECT
  'Orphaned Messages Check' as validation_check,
  COUNT(*) as orphaned_count,
  CASE
    WHEN COUNT(*) = 0 THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Found messages without valid chats'
  END as status
FROM chat_messages m
LEFT JOIN chats c ON m.chat_id = c.id
WHERE c.id IS NULL"""

# --------------------------------------------------------------------------------------
# Step 3, 2. Relationship Integrity Validation

S3_2 = "2. Relationship Integrity Validation"

CHAT_BOOKING_RELATIONSHIPS = """\
SELECT
  'Chat-Booking Relationships' as validation_check,
  COUNT(DISTINCT c.booking_id) as chats_with_bookings,
  COUNT(DISTINCT b.id) as valid_bookings,
  COUNT(DISTINCT c.id) as total_chats,
  CASE
    WHEN COUNT(DISTINCT c.booking_id) = COUNT(DISTINCT b.id)
    THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Mismatch in booking relationships'
  END as status
FROM chats c
LEFT JOIN bookings b ON c.booking_id = b.id"""

MESSAGE_CHAT_RELATIONSHIPS = """\
SELECT
  'Message-Chat Relationships' as validation_check,
  COUNT(DISTINCT m.chat_id) as messages_with_chats,
  COUNT(DISTINCT c.id) as valid_chats,
  COUNT(DISTINCT m.id) as total_messages,
  CASE
    WHEN COUNT(DISTINCT m.chat_id) <= COUNT(DISTINCT c.id)
    THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Messages reference non-existent chats'
  END as status
FROM chat_messages m
LEFT JOIN chats c ON m.chat_id = c.id"""

MESSAGE_SENDER_VALIDATION = """\
SELECT
  'Message Sender Validation' as validation_check,
  COUNT(*) as total_messages,
  COUNT(p.id) as valid_senders,
  CASE
    WHEN COUNT(*) = COUNT(p.id) THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Found messages with invalid sender IDs'
  END as status
FROM chat_messages m
LEFT JOIN profiles p ON m.sender_id = p.id"""

# --------------------------------------------------------------------------------------
# Step 3, 3. Sender Distribution Validation

S3_3 = "3. Sender Distribution Validation"

SENDER_ROLE_DISTRIBUTION = """\
SELECT
  'Sender Role Distribution' as report_type,
  p.role,
  COUNT(*) as message_count,
  ROUND((COUNT(*)::numeric / SUM(COUNT(*)) OVER() * 100), 2) as percentage
FROM chat_messages m
JOIN profiles p ON m.sender_id = p.id
GROUP BY p.role
ORDER BY message_count DESC"""

SENDER_CONSISTENCY = """\
SELECT
  'Sender Consistency Check' as validation_check,
  SUM(CASE WHEN p.role = 'customer' THEN 1 ELSE 0 END) as customer_messages,
  SUM(CASE WHEN p.role = 'stylist' THEN 1 ELSE 0 END) as stylist_messages,
  CASE
    WHEN SUM(CASE WHEN p.role = 'customer' THEN 1 ELSE 0 END) > 0
     AND SUM(CASE WHEN p.role = 'stylist' THEN 1 ELSE 0 END) > 0
    THEN 'PASSED ✅'
    ELSE 'WARNING ⚠️ - Unbalanced sender distribution'
  END as status
FROM chat_messages m
JOIN profiles p ON m.sender_id = p.id"""

# --------------------------------------------------------------------------------------
# Step 3, 4. Chat Activity Analysis

S3_4 = "4. Chat Activity Analysis"

MESSAGES_PER_CHAT = """\
SELECT
  'Messages Per Chat Distribution' as report_type,
  COUNT(DISTINCT c.id) as total_chats,
  COALESCE(SUM(m.message_count), 0) as total_messages,
  ROUND(AVG(message_count), 2) as avg_messages_per_chat,
  MIN(message_count) as min_messages,
  MAX(message_count) as max_messages
FROM chats c
LEFT JOIN (
  SELECT
    chat_id,
    COUNT(*) as message_count
  FROM chat_messages
  GROUP BY chat_id
) m ON c.id = m.chat_id"""

MESSAGES_PER_CHAT_NOTE = (
    "The plan's COUNT(m.id) errors (column m.id does not exist): m is the per-chat subquery "
    "(chat_id, message_count). total_messages is COALESCE(SUM(m.message_count), 0) instead. "
    "avg/min/max are as in the plan, i.e. over chats that have messages."
)

MESSAGE_READ_STATUS = """\
SELECT
  'Message Read Status' as report_type,
  is_read,
  COUNT(*) as count,
  ROUND((COUNT(*)::numeric / SUM(COUNT(*)) OVER() * 100), 2) as percentage
FROM chat_messages
GROUP BY is_read
ORDER BY is_read DESC"""

CHAT_ACTIVITY_BY_BOOKING_STATUS = """\
SELECT
  'Chat Activity by Booking Status' as report_type,
  b.status as booking_status,
  COUNT(DISTINCT c.id) as chat_count,
  COUNT(m.id) as message_count,
  ROUND(AVG(
    CASE WHEN m.chat_id IS NOT NULL
    THEN mc.message_count
    ELSE 0 END
  ), 2) as avg_messages_per_chat
FROM chats c
JOIN bookings b ON c.booking_id = b.id
LEFT JOIN chat_messages m ON c.id = m.chat_id
LEFT JOIN (SELECT chat_id, COUNT(*) AS message_count FROM chat_messages GROUP BY chat_id) mc
  ON mc.chat_id = c.id
GROUP BY b.status
ORDER BY chat_count DESC"""

PER_CHAT_COUNT_NOTE = (
    "The plan's correlated subquery (SELECT COUNT(*) FROM chat_messages WHERE chat_id = c.id) runs "
    "once per message row, so its cost grows with the square of a chat's size (about 5 s for 40 chats "
    "of 500 messages); replaced by a join to the per-chat counts, computed once. Same figures."
)

# --------------------------------------------------------------------------------------
# Step 3, 5. Media Integration Validation

S3_5 = "5. Media Integration Validation"

IMAGE_MESSAGE_MEDIA = """\
SELECT
  'Image Message Media Validation' as validation_check,
  COUNT(DISTINCT m.id) as total_media_records,
  COUNT(DISTINCT cm.id) as messages_with_media,
  CASE
    WHEN COUNT(DISTINCT m.id) = COUNT(DISTINCT cm.id) THEN 'PASSED ✅'
    ELSE 'WARNING ⚠️ - Some image messages may not have media records'
  END as status
FROM media m
RIGHT JOIN chat_messages cm ON m.chat_message_id = cm.id AND m.media_type = 'chat_image'
WHERE m.id IS NOT NULL"""

IMAGE_MESSAGE_MEDIA_NOTE = (
    "The plan's RIGHT JOIN ... WHERE m.media_type = 'chat_image' OR m.id IS NULL keeps every text "
    "message (no media row, so m.id IS NULL), so it compares media rows with ALL messages and "
    "warns whenever a text message exists. The target cannot tell an image-only message (content '') "
    "from an empty text message, so this check now compares chat_image media rows with the distinct "
    "messages they belong to (the chat_image condition moved into the ON clause, WHERE keeps messages "
    "that have one): it warns when a message has more than one chat_image row. Whether every legacy "
    "image message has its media row, with the expected path and owner, is checked row by row by the "
    "reconciliation (missing_media), which knows from the dump which messages were images."
)

MEDIA_TYPE_DISTRIBUTION = """\
SELECT
  'Media Type Distribution' as report_type,
  media_type,
  COUNT(*) as count
FROM media
WHERE chat_message_id IS NOT NULL
GROUP BY media_type
ORDER BY count DESC"""

# --------------------------------------------------------------------------------------
# Step 3, 6. Temporal Validation

S3_6 = "6. Temporal Validation"

CHAT_TIMELINE = """\
SELECT
  'Chat Timeline Validation' as validation_check,
  COUNT(*) as total_chats,
  COALESCE(SUM(CASE WHEN updated_at < created_at THEN 1 ELSE 0 END), 0) as invalid_timestamps,
  CASE
    WHEN COALESCE(SUM(CASE WHEN updated_at < created_at THEN 1 ELSE 0 END), 0) = 0
    THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Found chats with invalid timestamps'
  END as status
FROM chats"""

MESSAGE_TIMELINE = """\
SELECT
  'Message Timeline Validation' as validation_check,
  COUNT(*) as total_messages,
  COALESCE(SUM(CASE WHEN m.created_at < c.created_at THEN 1 ELSE 0 END), 0) as messages_before_chat,
  CASE
    WHEN COALESCE(SUM(CASE WHEN m.created_at < c.created_at THEN 1 ELSE 0 END), 0) = 0
    THEN 'PASSED ✅'
    ELSE 'WARNING ⚠️ - Found messages created before their chat'
  END as status
FROM chat_messages m
JOIN chats c ON m.chat_id = c.id"""

EMPTY_SUM_NOTE = (
    "SUM(...) wrapped in COALESCE(..., 0): on an empty table the plan's SUM is NULL, NULL = 0 is "
    "not true, and the CASE reported {verdict} although no row is wrong."
)

CHAT_ACTIVITY_OVER_TIME = """\
SELECT
  DATE_TRUNC('month', created_at) as month,
  COUNT(*) as chat_count,
  COUNT(DISTINCT booking_id) as unique_bookings
FROM chats
GROUP BY DATE_TRUNC('month', created_at)
ORDER BY month DESC
LIMIT 12"""

# --------------------------------------------------------------------------------------
# Step 3, 7. Business Logic Validation

S3_7 = "7. Business Logic Validation"

BOOKING_CHAT_CORRELATION = """\
SELECT
  'Booking-Chat Completion Correlation' as report_type,
  b.status as booking_status,
  COUNT(DISTINCT c.id) as chats_count,
  COUNT(m.id) as total_messages,
  ROUND(AVG(
    CASE WHEN m.chat_id IS NOT NULL
    THEN mc.message_count
    ELSE 0 END
  ), 2) as avg_messages
FROM bookings b
LEFT JOIN chats c ON b.id = c.booking_id
LEFT JOIN chat_messages m ON c.id = m.chat_id
LEFT JOIN (SELECT chat_id, COUNT(*) AS message_count FROM chat_messages GROUP BY chat_id) mc
  ON mc.chat_id = c.id
GROUP BY b.status
ORDER BY chats_count DESC"""

ENGAGEMENT_ANALYSIS = """\
SELECT
  'Communication Engagement Analysis' as report_type,
  p.role,
  COUNT(DISTINCT m.chat_id) as chats_participated,
  COUNT(m.id) as messages_sent,
  ROUND(AVG(LENGTH(m.content)), 2) as avg_message_length
FROM chat_messages m
JOIN profiles p ON m.sender_id = p.id
GROUP BY p.role"""

# --------------------------------------------------------------------------------------
# Step 3, 8. Final Validation Summary

S3_8 = "8. Final Validation Summary"

FINAL_SUMMARY = """\
WITH validation_summary AS (
  SELECT
    COUNT(DISTINCT c.id) as total_chats,
    COUNT(DISTINCT m.id) as total_messages,
    COUNT(DISTINCT c.booking_id) as unique_bookings,
    SUM(CASE WHEN b.id IS NULL THEN 1 ELSE 0 END) as orphaned_chats,
    SUM(CASE WHEN c.id IS NULL THEN 1 ELSE 0 END) as orphaned_messages,
    COUNT(CASE WHEN media.id IS NULL AND m.id::text LIKE '%image%' THEN 1 END) as missing_media
  FROM chats c
  FULL OUTER JOIN chat_messages m ON c.id = m.chat_id
  LEFT JOIN bookings b ON c.booking_id = b.id
  LEFT JOIN media ON m.id = media.chat_message_id AND media.media_type = 'chat_image'
)
SELECT
  'FINAL VALIDATION SUMMARY' as validation_report,
  CASE
    WHEN orphaned_chats = 0
     AND orphaned_messages = 0
     AND total_chats > 0
     AND total_messages > 0
    THEN '✅ MIGRATION SUCCESSFUL - All validations passed'
    ELSE '❌ MIGRATION ISSUES DETECTED - Review failed checks above'
  END as overall_status,
  total_chats,
  total_messages,
  unique_bookings,
  orphaned_chats,
  orphaned_messages
FROM validation_summary"""

FINAL_SUMMARY_NOTE = (
    "The plan's m.id LIKE '%image%' errors (operator does not exist: uuid ~~ unknown); cast to "
    "m.id::text, which keeps the plan's meaning: a uuid never contains 'image', so missing_media is "
    "always 0 (and the plan does not select it). The FULL OUTER JOIN counts cannot see a media gap; "
    "the real per-image media check is the row-level reconciliation's. Passing still requires "
    "total_chats > 0 AND total_messages > 0, as in the plan."
)

# --------------------------------------------------------------------------------------
# Post-Migration Verification > Business Validation

POST = "Post-migration: Business Validation"

CHAT_COVERAGE = """\
SELECT
  COUNT(DISTINCT b.id) as completed_bookings,
  COUNT(DISTINCT c.booking_id) as bookings_with_chats,
  COUNT(DISTINCT c.booking_id)::numeric / NULLIF(COUNT(DISTINCT b.id), 0)::numeric * 100 as chat_coverage_percentage
FROM bookings b
LEFT JOIN chats c ON b.id = c.booking_id
WHERE b.status = 'completed'"""

CHAT_COVERAGE_NOTE = (
    "Divisor wrapped in NULLIF(..., 0): with no completed bookings the plan's query fails with "
    "'division by zero'; now chat_coverage_percentage is NULL."
)

MESSAGE_VOLUME = """\
SELECT
  DATE_TRUNC('month', m.created_at) as month,
  COUNT(*) as message_count,
  COUNT(DISTINCT m.chat_id) as active_chats,
  COUNT(DISTINCT m.sender_id) as active_users,
  ROUND(AVG(LENGTH(m.content)), 2) as avg_message_length
FROM chat_messages m
GROUP BY DATE_TRUNC('month', m.created_at)
ORDER BY month DESC"""

BOOKINGS_WITHOUT_CHAT = """\
SELECT COUNT(*)
FROM bookings b
WHERE b.status IN ('completed', 'confirmed')
AND NOT EXISTS (
  SELECT 1 FROM chats c WHERE c.booking_id = b.id
)"""

CHECKS: tuple[Check, ...] = (
    Check("step2_duplicate_booking_chats", S2, "One Chat per Booking (no duplicate booking_id)",
          S2_DUPLICATE_BOOKING_CHATS, "check"),
    Check("step2_orphaned_chats", S2, "Chats Without a Booking", S2_ORPHANED_CHATS, "check"),
    Check("step2_orphaned_messages", S2, "Messages Without a Chat", S2_ORPHANED_MESSAGES, "check"),
    Check("step2_chat_timestamps", S2, "Chats Updated Before Created", S2_CHAT_TIMESTAMPS, "check"),
    Check("step2_messages_before_chat", S2, "Messages Created Before Their Chat",
          S2_MESSAGES_BEFORE_CHAT, "check"),
    Check("chat_record_count", S3_1, "Chat Record Count", CHAT_RECORD_COUNT, "report"),
    Check("message_record_count", S3_1, "Message Record Count", MESSAGE_RECORD_COUNT, "report"),
    Check("unique_chat_booking", S3_1, "Unique Chat-Booking Relationship", UNIQUE_CHAT_BOOKING, "check"),
    Check("orphaned_chats", S3_1, "Orphaned Chats Check", ORPHANED_CHATS, "check"),
    Check("orphaned_messages", S3_1, "Orphaned Messages Check", ORPHANED_MESSAGES, "check"),
    Check("chat_booking_relationships", S3_2, "Chat-Booking Relationships", CHAT_BOOKING_RELATIONSHIPS, "check"),
    Check("message_chat_relationships", S3_2, "Message-Chat Relationships", MESSAGE_CHAT_RELATIONSHIPS, "check"),
    Check("message_sender_validation", S3_2, "Message Sender Validation", MESSAGE_SENDER_VALIDATION, "check"),
    Check("sender_role_distribution", S3_3, "Sender Role Distribution", SENDER_ROLE_DISTRIBUTION, "report"),
    Check("sender_consistency", S3_3, "Sender Consistency Check", SENDER_CONSISTENCY, "check"),
    Check("messages_per_chat", S3_4, "Messages Per Chat Distribution", MESSAGES_PER_CHAT, "report",
          MESSAGES_PER_CHAT_NOTE),
    Check("message_read_status", S3_4, "Message Read Status", MESSAGE_READ_STATUS, "report"),
    Check("chat_activity_by_booking_status", S3_4, "Chat Activity by Booking Status",
          CHAT_ACTIVITY_BY_BOOKING_STATUS, "report", PER_CHAT_COUNT_NOTE),
    Check("image_message_media", S3_5, "Image Message Media Validation", IMAGE_MESSAGE_MEDIA, "check",
          IMAGE_MESSAGE_MEDIA_NOTE),
    Check("media_type_distribution", S3_5, "Media Type Distribution", MEDIA_TYPE_DISTRIBUTION, "report"),
    Check("chat_timeline", S3_6, "Chat Timeline Validation", CHAT_TIMELINE, "check",
          EMPTY_SUM_NOTE.format(verdict="FAILED")),
    Check("message_timeline", S3_6, "Message Timeline Validation", MESSAGE_TIMELINE, "check",
          EMPTY_SUM_NOTE.format(verdict="WARNING")),
    Check("chat_activity_over_time", S3_6, "Chat Activity Over Time", CHAT_ACTIVITY_OVER_TIME, "report"),
    Check("booking_chat_correlation", S3_7, "Booking-Chat Completion Correlation", BOOKING_CHAT_CORRELATION,
          "report", PER_CHAT_COUNT_NOTE),
    Check("engagement_analysis", S3_7, "Communication Engagement Analysis", ENGAGEMENT_ANALYSIS, "report"),
    Check("final_summary", S3_8, "Final Validation Summary", FINAL_SUMMARY, "check", FINAL_SUMMARY_NOTE),
    Check("chat_coverage_completed", POST, "Communication Continuity (chat coverage of completed bookings)",
          CHAT_COVERAGE, "report", CHAT_COVERAGE_NOTE),
    Check("message_volume_by_month", POST, "Message Volume Analysis", MESSAGE_VOLUME, "report"),
    Check("completed_bookings_without_chat", POST,
          "Relationship Integrity (completed/confirmed bookings without a chat; should be minimal)",
          BOOKINGS_WITHOUT_CHAT, "report"),
)

# --------------------------------------------------------------------------------------
# The later schema (chats keyed by customer_id, stylist_id): in place of the plan's checks that
# join chats to bookings (not applicable there), the same questions asked of the participants.

PARTICIPANTS = "Participants schema (in place of the booking-keyed checks)"

UNIQUE_CHAT_PARTICIPANTS = """\
SELECT
  'Unique Chat-Participants Relationship' as validation_check,
  COUNT(DISTINCT (customer_id, stylist_id)) as unique_pairs,
  COUNT(*) as total_chats,
  CASE
    WHEN COUNT(DISTINCT (customer_id, stylist_id)) = COUNT(*) THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Multiple chats per customer and stylist detected'
  END as status
FROM chats"""

ORPHANED_CHAT_PARTICIPANTS = """\
SELECT
  'Chats Without Valid Participants' as validation_check,
  COUNT(*) as orphaned_count,
  CASE
    WHEN COUNT(*) = 0 THEN 'PASSED ✅'
    ELSE 'FAILED ❌ - Found chats whose customer or stylist is not a profile'
  END as status
FROM chats c
LEFT JOIN profiles pc ON c.customer_id = pc.id
LEFT JOIN profiles ps ON c.stylist_id = ps.id
WHERE pc.id IS NULL OR ps.id IS NULL"""

FINAL_SUMMARY_PARTICIPANTS = """\
WITH validation_summary AS (
  SELECT
    COUNT(DISTINCT c.id) as total_chats,
    COUNT(DISTINCT m.id) as total_messages,
    COUNT(DISTINCT (c.customer_id, c.stylist_id)) as unique_pairs,
    COUNT(DISTINCT c.id) FILTER (WHERE pc.id IS NULL OR ps.id IS NULL) as orphaned_chats,
    COUNT(*) FILTER (WHERE c.id IS NULL) as orphaned_messages
  FROM chats c
  FULL OUTER JOIN chat_messages m ON c.id = m.chat_id
  LEFT JOIN profiles pc ON c.customer_id = pc.id
  LEFT JOIN profiles ps ON c.stylist_id = ps.id
)
SELECT
  'FINAL VALIDATION SUMMARY' as validation_report,
  CASE
    WHEN orphaned_chats = 0
     AND orphaned_messages = 0
     AND total_chats > 0
     AND total_messages > 0
    THEN '✅ MIGRATION SUCCESSFUL - All validations passed'
    ELSE '❌ MIGRATION ISSUES DETECTED - Review failed checks above'
  END as overall_status,
  total_chats,
  total_messages,
  unique_pairs,
  orphaned_chats,
  orphaned_messages
FROM validation_summary"""

PARTICIPANTS_NOTE = (
    "Not in the plan, whose queries join chats.booking_id to bookings: the same check for a chats table "
    "keyed by customer_id and stylist_id (a chat's participants must be profiles, one chat per pair)."
)

PARTICIPANT_CHECKS: tuple[Check, ...] = (
    Check("unique_chat_participants", PARTICIPANTS, "Unique Chat-Participants Relationship",
          UNIQUE_CHAT_PARTICIPANTS, "check", PARTICIPANTS_NOTE),
    Check("orphaned_chat_participants", PARTICIPANTS, "Chats Without Valid Participants",
          ORPHANED_CHAT_PARTICIPANTS, "check", PARTICIPANTS_NOTE),
    Check("final_summary_participants", PARTICIPANTS, "Final Validation Summary (participants)",
          FINAL_SUMMARY_PARTICIPANTS, "check", PARTICIPANTS_NOTE + " Otherwise as the plan's section 8."),
)


def checks_for(chat_schema: str) -> tuple[Check, ...]:
    """The plan's checks, then, on the participants schema, the participant checks."""
    return CHECKS + PARTICIPANT_CHECKS if chat_schema == "participants" else CHECKS


# Step 2's bare queries: the verdict when they return anything but no rows / a 0 count.
_ON_VIOLATION = {
    "step2_duplicate_booking_chats": "FAILED",
    "step2_orphaned_chats": "FAILED",
    "step2_orphaned_messages": "FAILED",
    "step2_chat_timestamps": "FAILED",
    "step2_messages_before_chat": "WARNING",  # as Step 3's Message Timeline Validation
}

# Label columns repeat the title: left out of the one-line detail.
_LABELS = frozenset({"validation_check", "report_type", "validation_report", "status", "overall_status"})
_DETAIL_ROWS = 5


def applies(check: Check, chat_schema: str) -> bool:
    """The plan's queries join chats to bookings; the later schema's chats have no booking_id."""
    return chat_schema == "booking" or "booking_id" not in check.sql


def run_suite(conn: psycopg.Connection[Any], chat_schema: str = "booking") -> list[CheckResult]:
    """Run every check on ``conn`` (the caller's read-only transaction), each in a savepoint."""
    return [run_check(conn, check, chat_schema) for check in checks_for(chat_schema)]


def run_check(conn: psycopg.Connection[Any], check: Check, chat_schema: str = "booking") -> CheckResult:
    """Run one check on ``conn`` (the caller's read-only transaction) in a savepoint: a query
    that fails is an ``ERROR`` result and the transaction goes on."""
    if not applies(check, chat_schema):
        return CheckResult(check, "INFO", [], [], "not applicable: the target's chats are keyed by customer and stylist")
    try:
        with conn.transaction():
            cur = conn.execute(check.sql)  # no params: '%' stays literal
            columns = [d.name for d in cur.description or ()]
            rows = [[_jsonable(v) for v in row] for row in cur.fetchall()]
    except psycopg.Error as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        return CheckResult(check, "ERROR", [], [], f"{type(exc).__name__}: {message}")
    return CheckResult(check, _verdict(check, columns, rows), columns, rows, _detail(columns, rows))


def overall(results: Iterable[CheckResult]) -> str:
    statuses = {r.status for r in results}
    if statuses & {"FAILED", "ERROR"}:
        return "FAILED"
    return "WARNING" if "WARNING" in statuses else "PASSED"


_SCHEMA_LABELS = {
    "booking": "chats keyed by booking (chats.booking_id): the plan's schema",
    "participants": "chats keyed by customer and stylist (chats.customer_id, chats.stylist_id)",
}


def _variant(chat_schema: str) -> list[str]:
    parts = []
    for check in checks_for(chat_schema):
        parts.append("")
        parts.append(f"-- {check.section}: {check.title}")
        if not applies(check, chat_schema):
            parts.append("-- not applicable: the target's chats have no booking_id (every chat's customer and "
                         "stylist are checked row by row by `chatmigrate validate`)")
            continue
        if check.note:
            parts.extend(textwrap.wrap(f"Note: {check.note}", 96, initial_indent="-- ", subsequent_indent="--   "))
        parts.append(check.sql + ";")
    return parts


def suite_sql(chat_schema: str | None = None) -> str:
    """The whole suite as one psql script (read-only session), for ``chatmigrate validate --sql``.

    ``chat_schema`` "booking" or "participants": the variant for that target. None: both,
    labelled, behind psql's ``\\if`` on whether ``public.chats`` has ``booking_id``, so the
    script runs without an error on either schema.
    """
    parts = [
        "-- chatmigrate: the Phase 6 test plan's SQL validation suite (read-only).",
        "-- Run with: psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -f this-file",
        "SET default_transaction_read_only = on;",
    ]
    if chat_schema is not None:
        parts.append(f"-- variant: {_SCHEMA_LABELS[chat_schema]}")
        return "\n".join([*parts, *_variant(chat_schema)]) + "\n"
    parts += [
        "-- Two variants, one per chats schema; psql runs the one that fits the target",
        "-- (`chatmigrate validate --sql --database-url URL` prints only that one).",
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public'",
        "  AND table_name = 'chats' AND column_name = 'booking_id') AS chatmigrate_booking_schema \\gset",
        "\\if :chatmigrate_booking_schema",
        f"-- ===== variant: {_SCHEMA_LABELS['booking']}",
        *_variant("booking"),
        "\\else",
        f"-- ===== variant: {_SCHEMA_LABELS['participants']}",
        *_variant("participants"),
        "\\endif",
    ]
    return "\n".join(parts) + "\n"


def _verdict(check: Check, columns: list[str], rows: list[list[Any]]) -> str:
    if check.kind == "report":
        return "INFO"
    if "status" in columns:
        if not rows:
            return "FAILED"
        text = str(rows[0][columns.index("status")] or "")
        return next((v for v in VERDICTS if text.startswith(v)), "FAILED")
    if "overall_status" in columns:
        ok = bool(rows) and str(rows[0][columns.index("overall_status")] or "").startswith("✅")
        return "PASSED" if ok else "FAILED"
    # Step 2: "Should be 0" / "Should return no rows"
    clean = not rows or rows == [[0]]
    return "PASSED" if clean else _ON_VIOLATION.get(check.id, "FAILED")


def _detail(columns: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "no rows"

    def one(row: list[Any]) -> str:
        return " ".join(f"{c}={_fmt(v)}" for c, v in zip(columns, row, strict=True) if c not in _LABELS)

    if len(rows) == 1:
        return one(rows[0])
    shown = "; ".join(one(r) for r in rows[:_DETAIL_ROWS])
    more = f"; ... {len(rows) - _DETAIL_ROWS} more" if len(rows) > _DETAIL_ROWS else ""
    return f"{len(rows)} rows: {shown}{more}"


def _fmt(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)  # timedelta, ranges, enums loaded as objects, ...
