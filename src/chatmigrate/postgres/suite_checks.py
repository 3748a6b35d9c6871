"""The catalogue of the plan's SQL checks: what each is, in plan order, and the participants' checks.

Owns: :class:`Check` (a query with its id, section, title, kind and note); :data:`CHECKS`,
the plan's Step 2, Step 3 sections 1-8 and post-migration queries in plan order; and, for
the later schema (chats keyed by customer_id and stylist_id), :data:`PARTICIPANT_CHECKS`
with their SQL (not the plan's: the same questions asked of the participants).

Does not own: the plan's query texts (``suite_integrity``, ``suite_business``), which
checks apply to a target, running them and their verdicts, or the psql script
(``suite``). No database.
"""

from __future__ import annotations

from dataclasses import dataclass

from .suite_business import (
    BOOKING_CHAT_CORRELATION,
    BOOKINGS_WITHOUT_CHAT,
    CHAT_ACTIVITY_OVER_TIME,
    CHAT_COVERAGE,
    CHAT_COVERAGE_NOTE,
    CHAT_TIMELINE,
    EMPTY_SUM_NOTE,
    ENGAGEMENT_ANALYSIS,
    FINAL_SUMMARY,
    FINAL_SUMMARY_NOTE,
    IMAGE_MESSAGE_MEDIA,
    IMAGE_MESSAGE_MEDIA_NOTE,
    MEDIA_TYPE_DISTRIBUTION,
    MESSAGE_TIMELINE,
    MESSAGE_VOLUME,
    POST,
    S3_5,
    S3_6,
    S3_7,
    S3_8,
)
from .suite_integrity import (
    CHAT_ACTIVITY_BY_BOOKING_STATUS,
    CHAT_BOOKING_RELATIONSHIPS,
    CHAT_RECORD_COUNT,
    MESSAGE_CHAT_RELATIONSHIPS,
    MESSAGE_READ_STATUS,
    MESSAGE_RECORD_COUNT,
    MESSAGE_SENDER_VALIDATION,
    MESSAGES_PER_CHAT,
    MESSAGES_PER_CHAT_NOTE,
    ORPHANED_CHATS,
    ORPHANED_MESSAGES,
    PER_CHAT_COUNT_NOTE,
    S2,
    S2_CHAT_TIMESTAMPS,
    S2_DUPLICATE_BOOKING_CHATS,
    S2_MESSAGES_BEFORE_CHAT,
    S2_ORPHANED_CHATS,
    S2_ORPHANED_MESSAGES,
    S3_1,
    S3_2,
    S3_3,
    S3_4,
    SENDER_CONSISTENCY,
    SENDER_ROLE_DISTRIBUTION,
    UNIQUE_CHAT_BOOKING,
)


@dataclass(frozen=True, slots=True)
class Check:
    id: str  # short slug, e.g. "orphaned_chats"
    section: str  # e.g. "1. Record Count Validation"
    title: str  # the plan's validation_check / report_type label
    sql: str  # the query text as the plan gives it (no trailing semicolon)
    kind: str  # "check" (has a verdict) or "report" (figures only)
    note: str = ""  # why the SQL differs from the plan's text, if it does


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
