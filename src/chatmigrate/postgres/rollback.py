"""Undoing Phase 6 in the target: one ledger run (exactly its rows) or the plan's full wipe.

Owns: deleting the media, messages and chats that ``chatmigrate.run_rows`` lists for one
run -- whatever any JSON file says -- in that order and in one transaction, set-wise
(one DELETE per table joined to the ledger), with the three tables locked against
writes (SHARE ROW EXCLUSIVE, in one order) so that no app row can appear under a row
being deleted. Rows the new app wrote survive: a ledger chat that has gained messages
of the app's, or a ledger message that has gained media of the app's, is kept (the
foreign keys cascade, so deleting it would take the app's rows along) and reported.
As a last guard the rows of every table that references these three are counted
before and after: if a delete removed more than the ledger lists (a cascade), the
whole rollback is undone and refused. ``wipe_all`` is the plan's rollback SQL, for a
target that holds nothing but this migration.

Does not own: choosing the run or removing temp files (``steps.rollback``), privileges
and row level security (``preflight``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ..errors import CascadeRefused
from . import ledger
from .lock import phase_lock

LOCK_TABLES = "LOCK TABLE public.chats, public.chat_messages, public.media IN SHARE ROW EXCLUSIVE MODE"




@dataclass(slots=True)
class RollbackCounts:
    media: int = 0
    messages: int = 0
    chats: int = 0
    kept_messages: int = 0
    kept_chats: int = 0
    run_id: int | None = None


def _referencing(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(schema, table) of the three tables and every table with a foreign key to one of them."""
    rows = conn.execute(
        "SELECT DISTINCT n.nspname, c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND k.confrelid = ANY(ARRAY["
        "'public.chats'::regclass, 'public.chat_messages'::regclass, 'public.media'::regclass]) "
        "UNION SELECT 'public', unnest(ARRAY['chats', 'chat_messages', 'media']) ORDER BY 1, 2"
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _totals(conn: psycopg.Connection[Any], tables: list[tuple[str, str]]) -> dict[str, int]:
    out = {}
    for schema, table in tables:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))).fetchone()
        out[table if schema == "public" else f"{schema}.{table}"] = int(row[0]) if row else 0
    return out


def _count(conn: psycopg.Connection[Any], query: str, run_id: int) -> int:
    row = conn.execute(query, (run_id,)).fetchone()
    return int(row[0]) if row else 0


def rollback_run(conn: psycopg.Connection[Any], run_id: int) -> RollbackCounts:
    """Delete exactly run ``run_id``'s ledger rows (minus those the app has built on)."""
    out = RollbackCounts(run_id=run_id)
    with conn.transaction():
        phase_lock(conn)
        ledger.run_to_roll_back(conn, run_id)
        conn.execute(LOCK_TABLES)
        tables = _referencing(conn)
        before = _totals(conn, tables)
        out.media = conn.execute(
            "DELETE FROM public.media x USING chatmigrate.run_rows r "
            "WHERE r.run_id = %s AND r.kind = 'media' AND x.id = r.id AND x.media_type = 'chat_image'",
            (run_id,)).rowcount  # only ever chat images, whatever the ledger says
        out.messages = conn.execute(
            "DELETE FROM public.chat_messages m USING chatmigrate.run_rows r "
            "WHERE r.run_id = %s AND r.kind = 'message' AND m.id = r.id "
            "AND NOT EXISTS (SELECT 1 FROM public.media x WHERE x.chat_message_id = m.id)", (run_id,)).rowcount
        out.kept_messages = _count(conn, "SELECT count(*) FROM chatmigrate.run_rows r JOIN public.chat_messages m "
                                         "ON m.id = r.id WHERE r.run_id = %s AND r.kind = 'message'", run_id)
        out.chats = conn.execute(
            "DELETE FROM public.chats c USING chatmigrate.run_rows r "
            "WHERE r.run_id = %s AND r.kind = 'chat' AND c.id = r.id "
            "AND NOT EXISTS (SELECT 1 FROM public.chat_messages m WHERE m.chat_id = c.id)", (run_id,)).rowcount
        out.kept_chats = _count(conn, "SELECT count(*) FROM chatmigrate.run_rows r JOIN public.chats c "
                                      "ON c.id = r.id WHERE r.run_id = %s AND r.kind = 'chat'", run_id)
        after = _totals(conn, tables)
        deleted = {"media": out.media, "chat_messages": out.messages, "chats": out.chats}
        for table, n in before.items():
            extra = n - after[table] - deleted.get(table, 0)
            if extra:
                raise CascadeRefused(run_id, table, extra)
        # the ledger keeps the rows that were kept (still this run's); the deleted ones go
        conn.execute(
            "DELETE FROM chatmigrate.run_rows r WHERE r.run_id = %s AND NOT EXISTS ("
            "SELECT 1 FROM public.chats c WHERE r.kind = 'chat' AND c.id = r.id UNION ALL "
            "SELECT 1 FROM public.chat_messages m WHERE r.kind = 'message' AND m.id = r.id UNION ALL "
            "SELECT 1 FROM public.media x WHERE r.kind = 'media' AND x.id = r.id)", (run_id,))
        conn.execute("UPDATE chatmigrate.runs SET status = 'rolled back', rolled_back_at = clock_timestamp() "
                     "WHERE run_id = %s", (run_id,))
    return out


def count_all(conn: psycopg.Connection[Any]) -> RollbackCounts:
    """What :func:`wipe_all` would delete now (for the confirmation prompt)."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM public.media WHERE media_type = 'chat_image'), "
        "(SELECT count(*) FROM public.chat_messages), (SELECT count(*) FROM public.chats)").fetchone()
    assert row is not None
    return RollbackCounts(media=int(row[0]), messages=int(row[1]), chats=int(row[2]))


def wipe_all(conn: psycopg.Connection[Any]) -> RollbackCounts:
    """The plan's rollback: every chat_image media row, every message, every chat."""
    out = RollbackCounts()
    with conn.transaction():
        phase_lock(conn)
        conn.execute(LOCK_TABLES)
        out.media = conn.execute("DELETE FROM public.media WHERE media_type = 'chat_image'").rowcount
        out.messages = conn.execute("DELETE FROM public.chat_messages").rowcount
        out.chats = conn.execute("DELETE FROM public.chats").rowcount
        if ledger.exists(conn):
            conn.execute("DELETE FROM chatmigrate.run_rows")
            conn.execute("UPDATE chatmigrate.runs SET status = 'rolled back', rolled_back_at = clock_timestamp() "
                         "WHERE status = 'committed'")
    return out
