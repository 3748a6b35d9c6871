"""The ledger in the target: which run of chatmigrate wrote which row.

Owns: the ``chatmigrate`` schema (``chatmigrate.runs``: one row per migration of one
dump into this target; ``chatmigrate.run_rows``: (kind, id) of every chat, message and
media row a run inserted; no two entries name one row: :func:`record` refuses a row the
ledger lists already -- a heap without an index, as a primary key on random uuids cost a
second per 200k rows; a ledger made by an earlier version keeps its primary key (kind, id)
and works the same), its idempotent DDL, choosing the run a create continues (the committed run of the same
dump checksum) or refusing a run of another dump, and the dump's checksum. The lock
that keeps create and rollback apart is ``postgres.lock``.
The ledger is written in the same transaction as the rows it lists (``load``), so it
is committed exactly when they are; the JSON files in the temp dir are reports.

Does not own: the load itself (``load``), deleting rows (``rollback``), privileges
(``preflight``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Literal

import psycopg

from ..errors import LedgerError

Kind = Literal["chat", "message", "media"]
Status = Literal["committed", "rolled back"]
SCHEMA = "chatmigrate"

DDL = """
CREATE SCHEMA IF NOT EXISTS chatmigrate;
CREATE TABLE IF NOT EXISTS chatmigrate.runs (
    run_id bigserial PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    indexes_built_at timestamptz,
    rolled_back_at timestamptz,
    dump_path text,
    dump_sha256 text,
    temp_dir text,
    link_mode text,
    chat_schema text,
    chats bigint NOT NULL DEFAULT 0,
    messages bigint NOT NULL DEFAULT 0,
    media bigint NOT NULL DEFAULT 0,
    indexes text[] NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('committed', 'rolled back'))
);
CREATE TABLE IF NOT EXISTS chatmigrate.run_rows (
    run_id bigint NOT NULL REFERENCES chatmigrate.runs (run_id),
    kind text NOT NULL CHECK (kind IN ('chat', 'message', 'media')),
    id uuid NOT NULL
);
"""




@dataclass(slots=True)
class Run:
    run_id: int
    status: Status
    dump_path: str | None
    dump_sha256: str | None
    temp_dir: str | None
    chats: int
    messages: int
    media: int
    indexes: list[str]


_SELECT_RUNS = ("SELECT run_id, status, dump_path, dump_sha256, temp_dir, chats, messages, media, indexes "
                "FROM chatmigrate.runs ")


def dump_checksum(path: str | None) -> str | None:
    """sha256 of the dump file (hex), or None when it is not a readable file (stdin)."""
    if not path or not os.path.isfile(path):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('chatmigrate.run_rows') IS NOT NULL "
                       "AND to_regclass('chatmigrate.runs') IS NOT NULL").fetchone()
    return bool(row and row[0])


def ensure(conn: psycopg.Connection[Any]) -> None:
    """Create the ledger where absent (inside the caller's transaction, lock held).

    CREATE ... IF NOT EXISTS checks the CREATE privilege before it looks, so a role
    that may use an existing ledger but not create one only runs it when it is absent.
    """
    if not exists(conn):
        conn.execute(DDL)


def _run(row: Any) -> Run:
    return Run(int(row[0]), row[1], row[2], row[3], row[4], int(row[5]), int(row[6]), int(row[7]), list(row[8]))


def get(conn: psycopg.Connection[Any], run_id: int) -> Run | None:
    if not exists(conn):
        return None
    row = conn.execute(_SELECT_RUNS + "WHERE run_id = %s", (run_id,)).fetchone()
    return _run(row) if row else None


def committed(conn: psycopg.Connection[Any]) -> list[Run]:
    if not exists(conn):
        return []
    rows = conn.execute(_SELECT_RUNS + "WHERE status = 'committed' ORDER BY run_id").fetchall()
    return [_run(r) for r in rows]


def _name(run: Run) -> str:
    return f"run {run.run_id} (dump {run.dump_path or 'unknown'}, sha256 {(run.dump_sha256 or 'unknown')[:12]})"


def _same(run: Run, dump_sha256: str | None, temp_dir: str) -> bool:
    return run.dump_sha256 == dump_sha256 and (dump_sha256 is not None or run.temp_dir == temp_dir)


def refuse_another_dump(conn: psycopg.Connection[Any], *, dump_path: str | None, dump_sha256: str | None,
                        temp_dir: str) -> None:
    """Raise LedgerError when the target holds a committed run of another dump (and none of this one)."""
    runs = committed(conn)
    if any(_same(r, dump_sha256, temp_dir) for r in runs) or not runs:
        return
    other = runs[-1]
    raise LedgerError(
        f"the target already holds {_name(other)}, committed from another dump than "
        f"{dump_path or 'this one'}: a second migration would mix two dumps' rows; if that is intended pass "
        f"--allow-another-dump, else roll back the other run first (chatmigrate rollback --run "
        f"{other.run_id}); nothing was written."
    )


def claim(conn: psycopg.Connection[Any], *, dump_path: str | None, dump_sha256: str | None, temp_dir: str,
          link_mode: str, chat_schema: str, allow_another_dump: bool = False) -> int:
    """The run this load belongs to, inside the load's transaction.

    The committed run of the same dump is continued (a re-run finds its rows present
    and finishes what is missing); else a new run is started -- refused while the target
    holds a committed run of another dump, unless ``allow_another_dump``.
    """
    ensure(conn)
    same = [r for r in committed(conn) if _same(r, dump_sha256, temp_dir)]
    if same:
        return same[-1].run_id
    if not allow_another_dump:
        refuse_another_dump(conn, dump_path=dump_path, dump_sha256=dump_sha256, temp_dir=temp_dir)
    row = conn.execute(
        "INSERT INTO chatmigrate.runs (dump_path, dump_sha256, temp_dir, link_mode, chat_schema, status) "
        "VALUES (%s, %s, %s, %s, %s, 'committed') RETURNING run_id",
        (dump_path, dump_sha256, temp_dir, link_mode, chat_schema),
    ).fetchone()
    assert row is not None
    return int(row[0])


# the staging tables' rows this load inserts (load.py), recorded set-wise; the messages by
# chunks of staging (load.CHUNK, its TID range), in the order they were inserted
RECORD = {
    "chat": "SELECT id FROM cm_stage_chat WHERE outcome = 'insert'",
    "message": "SELECT id FROM cm_msg_outcome WHERE outcome = 'insert'",
    "media": "SELECT id FROM cm_stage_media WHERE outcome = 'insert'",
}
RECORD_CHUNK = ("SELECT s.id FROM cm_stage_msg s WHERE s.ctid >= %(lo)s::tid AND s.ctid < %(hi)s::tid "
                "AND NOT EXISTS (SELECT 1 FROM cm_msg_skip k WHERE k.ord = s.ord)")


def _indexed(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = 'chatmigrate.run_rows'::regclass)"
                       ).fetchone()
    return bool(row and row[0])


def check_unlisted(conn: psycopg.Connection[Any], kind: Kind) -> None:
    """Refuse when the ledger lists a row of ``kind`` this load is about to insert.

    That row was deleted from the target since a run recorded it (the app deleted it), and
    this load inserts it again: a second entry would let a rollback of the other run delete
    this one's row. An earlier version's primary key (kind, id) refused it the same way.
    """
    dup = conn.execute(f"SELECT r.run_id, r.id::text FROM chatmigrate.run_rows r JOIN ({RECORD[kind]}) s "  # noqa: S608
                       "ON s.id = r.id WHERE r.kind = %s LIMIT 1", (kind,)).fetchone()
    if dup is not None:
        raise LedgerError(
            f"the ledger already lists {kind} {dup[1]} as written by run {dup[0]}, and this load would insert it "
            f"again (it was deleted from the target since): roll back run {dup[0]} first (chatmigrate rollback "
            f"--run {dup[0]}), then re-run create; nothing was written."
        )


def record(conn: psycopg.Connection[Any], run_id: int, kind: Kind, chunk: dict[str, str] | None = None, *,
           checked: bool = False) -> int:
    """Record the rows of ``kind`` this load inserted (same transaction as the insert), or of
    one chunk of the staged messages; ``checked``: :func:`check_unlisted` ran already."""
    if not checked:
        check_unlisted(conn, kind)
    rows = RECORD_CHUNK if chunk is not None else RECORD[kind]
    # an earlier version's ledger has a primary key on (kind, id): in key order its btree fills page by page
    keyed = " ORDER BY id" if _indexed(conn) else ""
    cur = conn.execute(f"INSERT INTO chatmigrate.run_rows (run_id, kind, id) SELECT %(run)s, %(kind)s, id "  # noqa: S608
                       f"FROM ({rows}) s{keyed}", {"run": run_id, "kind": kind, **(chunk or {})})
    return cur.rowcount


def finish_load(conn: psycopg.Connection[Any], run_id: int, chats: int, messages: int, media: int) -> None:
    conn.execute(
        "UPDATE chatmigrate.runs SET finished_at = clock_timestamp(), chats = chats + %s, "
        "messages = messages + %s, media = media + %s WHERE run_id = %s",
        (chats, messages, media, run_id),
    )


def record_indexes(conn: psycopg.Connection[Any], run_id: int, names: list[str]) -> None:
    conn.execute(
        "UPDATE chatmigrate.runs SET indexes_built_at = clock_timestamp(), "
        "indexes = ARRAY(SELECT DISTINCT unnest(indexes || %s::text[]) ORDER BY 1) WHERE run_id = %s",
        (names, run_id),
    )


def run_to_roll_back(conn: psycopg.Connection[Any], run_id: int) -> Run:
    run = get(conn, run_id)
    if run is None:
        raise LedgerError(
            f"the target's ledger (chatmigrate.runs) has no run {run_id}: nothing was deleted; "
            "the ledger table chatmigrate.runs lists the runs it holds."
        )
    if run.status != "committed":
        raise LedgerError(f"{_name(run)} is already rolled back: nothing was deleted.")
    return run
