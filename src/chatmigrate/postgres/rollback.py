"""Undoing Phase 6 in the target: by manifest (exactly our rows) or the plan's full wipe.

Owns: deleting the media, messages and chats that ``chats-created.json`` lists (created
or already present: both are the migration's rows), in that order and in one
transaction, set-wise (ids are COPYed into temp tables, then one DELETE per table).
Rows the new app wrote after the migration survive: a migrated chat that has gained
messages of the app's, or a migrated message that has gained media of the app's, is
kept (the foreign keys cascade, so deleting it would take the app's rows along) and
reported as kept. ``wipe_all`` is the plan's rollback SQL, for a target that holds
nothing but this migration.

Does not own: reading the manifest file or removing temp files (``steps``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from .lock import phase_lock


@dataclass(slots=True)
class RollbackCounts:
    media: int = 0
    messages: int = 0
    chats: int = 0
    kept_messages: int = 0
    kept_chats: int = 0


def rollback_manifest(
    conn: psycopg.Connection[Any],
    chats: Iterable[str],
    messages: Iterable[str],
    media: Iterable[str],
) -> RollbackCounts:
    out = RollbackCounts()
    with conn.transaction():
        phase_lock(conn)
        conn.execute(
            "CREATE TEMP TABLE cm_rb_chat (id uuid PRIMARY KEY) ON COMMIT DROP;"
            "CREATE TEMP TABLE cm_rb_msg (id uuid PRIMARY KEY) ON COMMIT DROP;"
            "CREATE TEMP TABLE cm_rb_media (id uuid PRIMARY KEY) ON COMMIT DROP;"
        )
        for table, ids in (("cm_rb_chat", chats), ("cm_rb_msg", messages), ("cm_rb_media", media)):
            with conn.cursor().copy(f"COPY {table} (id) FROM STDIN") as cp:
                for i in dict.fromkeys(ids):
                    cp.write_row((i,))
        out.media = conn.execute(
            "DELETE FROM public.media x USING cm_rb_media r WHERE x.id = r.id AND x.media_type = 'chat_image'"
        ).rowcount
        out.messages = conn.execute(
            "DELETE FROM public.chat_messages m USING cm_rb_msg r WHERE m.id = r.id "
            "AND NOT EXISTS (SELECT 1 FROM public.media x WHERE x.chat_message_id = m.id)"
        ).rowcount
        out.kept_messages = conn.execute(
            "SELECT count(*) FROM public.chat_messages m JOIN cm_rb_msg r ON r.id = m.id"
        ).fetchone()[0]  # type: ignore[index]
        out.chats = conn.execute(
            "DELETE FROM public.chats c USING cm_rb_chat r WHERE c.id = r.id "
            "AND NOT EXISTS (SELECT 1 FROM public.chat_messages m WHERE m.chat_id = c.id)"
        ).rowcount
        out.kept_chats = conn.execute(
            "SELECT count(*) FROM public.chats c JOIN cm_rb_chat r ON r.id = c.id"
        ).fetchone()[0]  # type: ignore[index]
    return out


def wipe_all(conn: psycopg.Connection[Any]) -> RollbackCounts:
    """The plan's rollback: every chat_image media row, every message, every chat."""
    out = RollbackCounts()
    with conn.transaction():
        phase_lock(conn)
        out.media = conn.execute("DELETE FROM public.media WHERE media_type = 'chat_image'").rowcount
        out.messages = conn.execute("DELETE FROM public.chat_messages").rowcount
        out.chats = conn.execute("DELETE FROM public.chats").rowcount
    return out
