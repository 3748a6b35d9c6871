"""Step 3's row-level reconciliation: every expected row against the target, set-wise.

Owns: staging the expected rows (chats, messages as content hashes, media) into
session temp tables by COPY (they depend on the dump only, so a run can stage them while
step 2 is still loading) with their statistics, then, inside a REPEATABLE READ READ ONLY
transaction that writes nothing, the joins that find what is missing, orphaned or
different: one pass over each expected table gives all of its findings (missing, booking
links, senders, chat links, content -- md5 computed by PostgreSQL against md5 of the
expected text --, read status, timestamps), then the media row of every image message and
the orphans. No row cap, no sampling. :data:`STEPS` label the steps for a caller's progress.
Also, not findings: the legacy data's messages dated before their chat (on the expected
rows), and what the app changed since the migration (CHANGED_MESSAGES, CHANGED_QUERIES: rows whose xmin
differs from their ledger entry's, rows after the last run's finished_at), which turns a
read-status change from false to true on such a row from a finding into a change.

Does not own: deciding the expected rows (step 1's rules, via ``steps``), the plan's
SQL suite (``suite``), or writing the results file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ..phase6 import records as r
from ..phase6.kinds import FINDING_KEYS, ChatSchema
from .copytext import copy_bool, copy_text, is_uuid

EXPECTED_TABLES = """
DROP TABLE IF EXISTS cm_exp_chat, cm_exp_msg, cm_exp_media;
CREATE TEMP TABLE cm_exp_chat (id uuid, booking_id uuid, customer_id uuid, stylist_id uuid,
    created_at timestamptz, updated_at timestamptz);
CREATE TEMP TABLE cm_exp_msg (id uuid, chat_id uuid, sender_id uuid, content_md5 text, is_read boolean,
    created_at timestamptz);
CREATE TEMP TABLE cm_exp_media (id uuid, message_id uuid, owner_id uuid, file_path text);
"""

# One pass over each expected table gives all of its findings: a LEFT JOIN to the target on
# the id, keeping only the rows with something wrong, each with one flag per finding (a NULL
# comparison is no finding, as in a WHERE clause). Few rows come back, ordered by id.
CHATS_QUERY = ("SELECT e.id, c.id IS NULL, c.booking_id <> e.booking_id, e.booking_id, c.booking_id, "
             "c.created_at <> e.created_at FROM cm_exp_chat e LEFT JOIN public.chats c ON c.id = e.id "
             "WHERE c.id IS NULL OR c.booking_id <> e.booking_id OR c.created_at <> e.created_at ORDER BY e.id")
# The later schema has no chats.booking_id: chats are checked by their participants instead.
CHATS_QUERY_PARTICIPANTS = (
    "SELECT e.id, c.id IS NULL, (c.customer_id, c.stylist_id) <> (e.customer_id, e.stylist_id), "
    "e.customer_id::text || '/' || e.stylist_id, c.customer_id::text || '/' || c.stylist_id, "
    "c.created_at <> e.created_at FROM cm_exp_chat e LEFT JOIN public.chats c ON c.id = e.id "
    "WHERE c.id IS NULL OR (c.customer_id, c.stylist_id) <> (e.customer_id, e.stylist_id) "
    "OR c.created_at <> e.created_at ORDER BY e.id")
# content: md5 computed by PostgreSQL against md5 of the expected text (stage_expected)
MESSAGES_QUERY = (
    "SELECT e.id, m.id IS NULL, m.sender_id <> e.sender_id, e.sender_id, m.sender_id, "
    "m.chat_id <> e.chat_id, e.chat_id, m.chat_id, md5(m.content) <> e.content_md5, m.is_read <> e.is_read, "
    "m.created_at <> e.created_at FROM cm_exp_msg e LEFT JOIN public.chat_messages m ON m.id = e.id "
    "WHERE m.id IS NULL OR m.sender_id <> e.sender_id OR m.chat_id <> e.chat_id "
    "OR md5(m.content) <> e.content_md5 OR m.is_read <> e.is_read OR m.created_at <> e.created_at ORDER BY e.id")
# the findings of each pass: (finding, the flag's column, the columns listed: one id, or id, expected, actual)
CHAT_FINDINGS: tuple[tuple[str, int, tuple[int, ...]], ...] = (
    ("missing_chats", 1, (0,)), ("chat_booking_mismatches", 2, (0, 3, 4)), ("chat_timestamp_mismatches", 5, (0,)))
MESSAGE_FINDINGS: tuple[tuple[str, int, tuple[int, ...]], ...] = (
    ("missing_messages", 1, (0,)), ("message_sender_mismatches", 2, (0, 3, 4)),
    ("message_chat_mismatches", 5, (0, 6, 7)), ("message_content_mismatches", 8, (0,)),
    ("message_read_mismatches", 9, (0,)), ("message_timestamp_mismatches", 10, (0,)))

# The findings of one query each.
MEDIA_QUERIES = {
    # the app writes a message's media row with the message: its created_at is the message's
    "media_timestamp_mismatches": "SELECT e.message_id FROM cm_exp_media e JOIN cm_exp_msg m ON m.id = e.message_id "
                                  "JOIN public.media x ON x.chat_message_id = e.message_id "
                                  "AND x.media_type = 'chat_image' AND x.file_path = e.file_path "
                                  "WHERE x.created_at <> m.created_at ORDER BY e.message_id",
    "missing_media": "SELECT e.message_id FROM cm_exp_media e WHERE NOT EXISTS (SELECT 1 FROM public.media x "
                     "WHERE x.chat_message_id = e.message_id AND x.media_type = 'chat_image' "
                     "AND x.file_path = e.file_path AND x.owner_id = e.owner_id) ORDER BY e.message_id",
}
ORPHAN_QUERIES = {
    "orphaned_chats": "SELECT c.id FROM public.chats c LEFT JOIN public.bookings b ON b.id = c.booking_id "
                      "WHERE b.id IS NULL",
    "orphaned_messages": "SELECT m.id FROM public.chat_messages m LEFT JOIN public.chats c ON c.id = m.chat_id "
                         "WHERE c.id IS NULL",
}
ORPHAN_QUERIES_PARTICIPANTS = {
    **ORPHAN_QUERIES,
    "orphaned_chats": "SELECT c.id FROM public.chats c WHERE NOT EXISTS (SELECT 1 FROM public.profiles p "
                      "WHERE p.id = c.customer_id) OR NOT EXISTS (SELECT 1 FROM public.profiles p "
                      "WHERE p.id = c.stylist_id)",
}

# every finding and the statement that finds it
QUERIES: dict[str, str] = {
    **{k: CHATS_QUERY for k, _, _ in CHAT_FINDINGS}, **{k: MESSAGES_QUERY for k, _, _ in MESSAGE_FINDINGS},
    **MEDIA_QUERIES, **ORPHAN_QUERIES,
}
assert set(QUERIES) == set(FINDING_KEYS), "a query for every finding (phase6.kinds.FINDINGS)"
assert len(QUERIES) == len(FINDING_KEYS)


# Facts of the legacy data (on the expected rows, i.e. the dump through the rules), not findings:
# messages dated before their chat's created_at, which the migration keeps as the dump has them.
LEGACY_BEFORE_CHAT = ("SELECT m.id FROM cm_exp_msg m JOIN cm_exp_chat c ON c.id = m.chat_id "
                      "WHERE m.created_at < c.created_at ORDER BY m.created_at, m.id")


# every finding makes the migration invalid
BLOCKING = FINDING_KEYS

# After go-live: what the app has changed since the migration, told from migration errors by
# the ledger. A row the migration wrote was inserted in the same transaction as its
# chatmigrate.run_rows entry, so both carry the same xmin until the row is updated; a row
# whose xmin differs has been changed since (PostgreSQL keeps xmin when it freezes a row).
# "since" is the last committed run's finished_at (chatmigrate.runs).
CHANGED_MESSAGES = ("SELECT m.id, NOT e.is_read AND m.is_read FROM cm_exp_msg e "
                    "JOIN public.chat_messages m ON m.id = e.id "
                    "JOIN chatmigrate.run_rows r ON r.kind = 'message' AND r.id = m.id "
                    "WHERE m.xmin::text <> r.xmin::text")  # (id, read by a user since: false -> true)
CHANGED_QUERIES = {
    # a join, not "OR EXISTS (...)": the ledger has no index on id (no primary key since the
    # ledger's faster form), and an OR'd EXISTS runs once per chat, each a scan of the ledger
    "chats_updated": "SELECT c.id FROM cm_exp_chat e JOIN public.chats c ON c.id = e.id "
                     "LEFT JOIN chatmigrate.run_rows r ON r.kind = 'chat' AND r.id = c.id "
                     "WHERE c.updated_at > %(since)s OR c.xmin::text <> r.xmin::text",
    # messages the app added to migrated chats after the migration (not in the dump, not in the ledger)
    "app_messages": "SELECT m.id FROM public.chat_messages m JOIN cm_exp_chat e ON e.id = m.chat_id "
                    "WHERE m.created_at > %(since)s AND NOT EXISTS (SELECT 1 FROM cm_exp_msg x WHERE x.id = m.id) "
                    "AND NOT EXISTS (SELECT 1 FROM chatmigrate.run_rows r WHERE r.kind = 'message' AND r.id = m.id)",
}


@dataclass(slots=True)
class Reconciliation:
    expected_chats: int = 0
    expected_messages: int = 0
    expected_media: int = 0
    total_pg_chats: int = 0
    total_pg_messages: int = 0
    total_pg_chat_media: int = 0
    findings: dict[str, list[Any]] = field(default_factory=dict)
    sees_all_rows: bool = True
    legacy_before_chat: list[str] = field(default_factory=list)  # message ids, from the dump (not a finding)
    since: str | None = None  # the last committed ledger run's finished_at; None: no ledger to read
    changed: dict[str, list[str]] = field(default_factory=dict)  # CHANGED_QUERIES' ids (not findings)

    @property
    def ok(self) -> bool:
        return self.sees_all_rows and not any(self.findings.get(k) for k in BLOCKING)


def md5_text(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def create_expected_tables(conn: psycopg.Connection[Any]) -> None:
    """(Re)create the session temp tables of the expected rows (on an autocommit connection)."""
    conn.execute(EXPECTED_TABLES)


def begin_read_only(conn: psycopg.Connection[Any]) -> None:
    """Open the REPEATABLE READ READ ONLY transaction every read of the target runs in."""
    conn.autocommit = False
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


def export_snapshot(conn: psycopg.Connection[Any]) -> str:
    """The id of this read-only transaction's snapshot, for a second connection to share."""
    row = conn.execute("SELECT pg_export_snapshot()").fetchone()
    assert row is not None
    return str(row[0])


def use_snapshot(conn: psycopg.Connection[Any], snapshot: str) -> None:
    """Open a REPEATABLE READ READ ONLY transaction that sees exactly ``snapshot``."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))


def sees_all_rows(conn: psycopg.Connection[Any]) -> bool:
    """True when row level security cannot hide rows from this role."""
    row = conn.execute(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if row and row[0]:
        return True
    owned = conn.execute(
        "SELECT bool_and(pg_get_userbyid(relowner) = current_user AND NOT relforcerowsecurity) "
        "FROM pg_class WHERE oid IN ('public.chats'::regclass, 'public.chat_messages'::regclass, 'public.media'::regclass)"
    ).fetchone()
    return bool(owned and owned[0])


def stage_expected(
    conn: psycopg.Connection[Any],
    chats: Iterable[r.TargetChat],
    messages: Iterable[r.TargetMessage],
    media: Iterable[r.PlannedMedia],
) -> tuple[int, int, int]:
    n_chat = n_msg = n_media = 0
    with conn.cursor().copy(
        "COPY cm_exp_chat (id, booking_id, customer_id, stylist_id, created_at, updated_at) FROM STDIN"
    ) as cp:
        for c in chats:
            cp.write_row((c.id, c.booking_id, c.customer_id, c.stylist_id, c.created_at, c.updated_at))
            n_chat += 1
    with conn.cursor().copy(
        "COPY cm_exp_msg (id, chat_id, sender_id, content_md5, is_read, created_at) FROM STDIN"
    ) as cp:
        lines: list[str] = []
        for m in messages:
            if not (is_uuid(m.id) and is_uuid(m.chat_id) and is_uuid(m.sender_id)):
                continue  # create rejected it too (failed-chats-creation.json); it cannot be compared
            lines.append(f"{m.id}\t{m.chat_id}\t{m.sender_id}\t{md5_text(m.content)}\t"
                         f"{copy_bool(m.is_read)}\t{copy_text(m.created_at)}\n")
            n_msg += 1
            if len(lines) >= 2048:
                cp.write("".join(lines))
                lines.clear()
        if lines:
            cp.write("".join(lines))
    with conn.cursor().copy("COPY cm_exp_media (id, message_id, owner_id, file_path) FROM STDIN") as cp:
        for md in media:
            cp.write_row((md.id, md.message_id, md.owner_id, md.file_path))
            n_media += 1
    return n_chat, n_msg, n_media


# the labelled steps of :func:`reconcile`, in order (for a caller's progress)
STEPS = (
    "the target's row counts", "the chats against the dump",
    "the messages against the dump (sender, chat, content, read status, timestamp)",
    "the chat images' media rows", "orphaned chats and messages", "what the app changed since the migration",
)
# a join of every expected message with its target row is one hash table of them all: in memory, not in batches
# on disk (for this transaction; a server that allows more keeps its setting)
WORK_MEM = ("SELECT set_config('work_mem', '64MB', true) "
            "WHERE pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('64MB')")


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the expected rows alone give, found when they are staged (``run``: beside step 2)."""

    legacy_before_chat: list[str]  # LEGACY_BEFORE_CHAT's message ids


def prepare_expected(conn: psycopg.Connection[Any]) -> Prepared:
    """Statistics of the staged expected rows (for the planner), and the facts of the legacy
    data they hold; reads no target table."""
    # the join keys' statistics only (a sample of every column of a million messages costs twice as much)
    for table in ("cm_exp_chat (id)", "cm_exp_msg (id, chat_id)", "cm_exp_media (message_id)"):
        conn.execute(f"ANALYZE {table}")
    with conn.transaction():
        conn.execute(WORK_MEM)
        return Prepared([str(row[0]) for row in conn.execute(LEGACY_BEFORE_CHAT).fetchall()])


def _nothing(label: str) -> None:
    pass


def reconcile(conn: psycopg.Connection[Any], chat_schema: ChatSchema = "booking",
              on_step: Callable[[str], None] = _nothing, prepared: Prepared | None = None) -> Reconciliation:
    """Run every reconciliation query on the staged expected rows (read-only); ``on_step`` is
    called with each of :data:`STEPS` as it begins. Without ``prepared``, it is prepared here."""
    rec = Reconciliation()
    steps = iter(STEPS)
    on_step(next(steps))
    if prepared is None:
        prepared = prepare_expected(conn)
    rec.legacy_before_chat = prepared.legacy_before_chat
    conn.execute(WORK_MEM)
    rec.sees_all_rows = sees_all_rows(conn)
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM cm_exp_chat), (SELECT count(*) FROM cm_exp_msg), "
        "(SELECT count(*) FROM cm_exp_media), (SELECT count(*) FROM public.chats), "
        "(SELECT count(*) FROM public.chat_messages), "
        "(SELECT count(*) FROM public.media WHERE media_type = 'chat_image')"
    ).fetchone()
    assert counts is not None
    (rec.expected_chats, rec.expected_messages, rec.expected_media,
     rec.total_pg_chats, rec.total_pg_messages, rec.total_pg_chat_media) = counts
    passes = ((CHATS_QUERY_PARTICIPANTS if chat_schema == "participants" else CHATS_QUERY, CHAT_FINDINGS),
              (MESSAGES_QUERY, MESSAGE_FINDINGS))
    for query, findings in passes:
        on_step(next(steps))
        rows = conn.execute(query).fetchall()
        for name, flag, listed in findings:
            rec.findings[name] = [str(row[0]) if len(listed) == 1 else [str(row[i]) for i in listed]
                                  for row in rows if row[flag]]
    for group in (MEDIA_QUERIES, ORPHAN_QUERIES_PARTICIPANTS if chat_schema == "participants" else ORPHAN_QUERIES):
        on_step(next(steps))
        for name, query in group.items():
            rec.findings[name] = [str(row[0]) for row in conn.execute(query).fetchall()]
    on_step(next(steps))
    _changed_since_migration(conn, rec)
    return rec


def _changed_since_migration(conn: psycopg.Connection[Any], rec: Reconciliation) -> None:
    """Fill ``rec.since`` and ``rec.changed``; a read-status change from false to true of a row
    the app updated is no longer a finding (a user read the message)."""
    row = conn.execute(
        "SELECT to_regclass('chatmigrate.runs') IS NOT NULL AND to_regclass('chatmigrate.run_rows') IS NOT NULL"
    ).fetchone()
    if not (row and row[0]):
        return
    row = conn.execute(
        "SELECT has_table_privilege('chatmigrate.runs', 'SELECT') AND has_table_privilege('chatmigrate.run_rows', "
        "'SELECT')"
    ).fetchone()
    if not (row and row[0]):
        return
    row = conn.execute("SELECT max(finished_at) FROM chatmigrate.runs WHERE status = 'committed'").fetchone()
    if row is None or row[0] is None:
        return
    since = row[0]
    rec.since = since.isoformat()
    rows = conn.execute(CHANGED_MESSAGES).fetchall()
    rec.changed["messages_changed"] = [str(r[0]) for r in rows]  # the rows the migration wrote, changed since
    rec.changed["messages_read"] = [str(r[0]) for r in rows if r[1]]  # of those, read by a user (not an error)
    for name, query in CHANGED_QUERIES.items():
        rec.changed[name] = [str(r[0]) for r in conn.execute(query, {"since": since}).fetchall()]
    read = set(rec.changed["messages_read"])
    if read:
        rec.findings["message_read_mismatches"] = [x for x in rec.findings.get("message_read_mismatches", [])
                                                   if x not in read]
