"""The ledger's objects: which storage object a run of ``chatmigrate images`` wrote or found.

Owns: ``chatmigrate.run_objects`` (one row per (bucket, key): the run, the source's size
and MD5, and ``state``: ``pending`` -- recorded just before the PUT, so a kill -9 between
the PUT and its record cannot leave an object rollback does not know of --, ``copied``
after it, ``present`` when the object was already there with the source's size and MD5,
which rollback keeps), its idempotent DDL (under an advisory lock: two concurrent runs
create it once), the chat images of a run (the ledger's media rows joined to
``public.media``), and the reads and deletes rollback and the check need.

Does not own: the storage calls (``storage``), the runs themselves (``ledger``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import psycopg

from . import ledger

State = Literal["pending", "copied", "present"]
_DDL_LOCK = 0x63686D6F  # pg_advisory_xact_lock key of this DDL ("chmo")
_REPORT_LOCK = 0x63686D72  # pg_advisory_lock key while a run writes chat-images-copied.json ("chmr")

DDL = """
CREATE TABLE IF NOT EXISTS chatmigrate.run_objects (
    run_id bigint NOT NULL REFERENCES chatmigrate.runs (run_id),
    bucket text NOT NULL,
    key text NOT NULL,
    bytes bigint NOT NULL,
    md5 text NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'copied', 'present')),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (bucket, key)
);
"""


def ensure(conn: psycopg.Connection[Any]) -> None:
    """Create ``chatmigrate.run_objects`` where absent (the ledger must exist)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        if conn.execute("SELECT to_regclass('chatmigrate.run_objects') IS NULL").fetchone() == (True,):
            conn.execute(DDL)


@contextmanager
def report_lock(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Held while the report is written: two concurrent runs on one temp dir write it one after
    the other (``safewrite`` removes a previous write's leftover temporary file, which must not
    be another writer's live one)."""
    conn.execute("SELECT pg_advisory_lock(%s)", (_REPORT_LOCK,))
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_REPORT_LOCK,))


def exists(conn: psycopg.Connection[Any]) -> bool:
    return conn.execute("SELECT to_regclass('chatmigrate.run_objects') IS NOT NULL").fetchone() == (True,)


@dataclass(frozen=True, slots=True)
class RunImage:
    media_id: str
    message_id: str
    file_path: str


def run_images(conn: psycopg.Connection[Any], run_id: int) -> list[RunImage]:
    """Every ``chat_image`` media row the ledger lists for ``run_id``, by file path."""
    if not ledger.exists(conn):
        return []
    rows = conn.execute(
        "SELECT m.id::text, m.chat_message_id::text, m.file_path FROM chatmigrate.run_rows r "
        "JOIN public.media m ON m.id = r.id WHERE r.run_id = %s AND r.kind = 'media' "
        "AND m.media_type = 'chat_image' ORDER BY m.file_path", (run_id,)).fetchall()
    return [RunImage(a, b or "", c) for a, b, c in rows]


class Recorder:
    """One autocommit connection shared by the workers (statements serialised by a lock)."""

    def __init__(self, conn: psycopg.Connection[Any], run_id: int, bucket: str) -> None:
        self.conn, self.run_id, self.bucket = conn, run_id, bucket
        self._lock = threading.Lock()

    def record(self, key: str, size: int, md5: str, state: State) -> None:
        """Record ``key``. Found ``present`` where this tool had recorded ``pending`` (a stop between
        the PUT and its record) or ``copied``, the object is this tool's: it stays ``copied``."""
        with self._lock:
            self.conn.execute(
                "INSERT INTO chatmigrate.run_objects (run_id, bucket, key, bytes, md5, state) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (bucket, key) DO UPDATE SET "
                "bytes = EXCLUDED.bytes, md5 = EXCLUDED.md5, recorded_at = EXCLUDED.recorded_at, "
                "state = CASE WHEN EXCLUDED.state = 'present' AND run_objects.state <> 'present' "
                "THEN 'copied' ELSE EXCLUDED.state END",
                (self.run_id, self.bucket, key, size, md5, state))


@dataclass(frozen=True, slots=True)
class RecordedObject:
    bucket: str
    key: str
    bytes: int
    md5: str
    state: State


def recorded(conn: psycopg.Connection[Any], run_id: int) -> list[RecordedObject]:
    if not ledger.exists(conn) or not exists(conn):
        return []
    rows = conn.execute("SELECT bucket, key, bytes, md5, state FROM chatmigrate.run_objects WHERE run_id = %s "
                        "ORDER BY bucket, key", (run_id,)).fetchall()
    return [RecordedObject(a, b, int(c), d, e) for a, b, c, d, e in rows]


def forget(conn: psycopg.Connection[Any], bucket: str, key: str) -> None:
    conn.execute("DELETE FROM chatmigrate.run_objects WHERE bucket = %s AND key = %s", (bucket, key))
