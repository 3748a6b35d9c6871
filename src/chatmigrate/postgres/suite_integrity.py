"""The test plan's SQL, part one: Step 2 "Database Validation" and Step 3 sections 1-4.

Owns: the query texts (and the notes on where they differ from the plan) of Step 2's bare
checks ("-- Should be 0" / "-- Should return no rows") and of Step 3's "SQL Validation
Queries" sections 1 (record counts), 2 (relationship integrity), 3 (sender distribution)
and 4 (chat activity), with their section labels. The SQL is the plan's text, verbatim,
except where it errors against the real schema or cannot give the verdict it states;
every such change is explained in a ``*_NOTE``.

Does not own: sections 5-8 and the post-migration queries (``suite_business``), the
catalogue that names and orders the checks (``suite_checks``), running them or their
verdicts (``suite``). Strings only: no code, no database.
"""

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
