"""Undoing Phase 6 in the target: one ledger run (exactly its rows) or the plan's full wipe.

Owns: deleting the media, messages and chats that ``chatmigrate.run_rows`` lists for one
run -- whatever any JSON file says -- (or, for ``--all``, every chat image, message and
chat) in that order and in one transaction, with the three tables locked against writes
(SHARE ROW EXCLUSIVE, in one order) so that no app row can appear under a row being
deleted. It scales set-wise: the rows to delete are first put in temporary tables (one
join with the ledger per table), then deleted in batches of :data:`BATCH` ids (each a
``DELETE ... USING``, reported to the progress bar); every foreign key that points at
the three tables gets a plain index on its columns for the transaction's length where
none is usable (the plan's ``idx_media_chat_message_id`` is partial, so without it the
ON DELETE CASCADE check of every deleted message would scan ``media``), dropped again
before the commit.

Rows the new app wrote survive: a ledger chat that has gained messages of the app's, or
a ledger message that has gained media of the app's, is kept (the foreign keys cascade,
so deleting it would take the app's rows along) and reported. The cascade guard: before
anything is deleted, every other foreign key into the three tables is checked, set-wise,
for rows that reference a row about to be deleted and are not deleted themselves; if
there are any, nothing is deleted and the rollback is refused (:class:`CascadeRefused`).
The plan's indexes the run created (``chatmigrate.runs.indexes``) are dropped with its
rows unless ``keep_indexes`` -- or handed on to a run still committed, which needs them.

Does not own: choosing the run or removing temp files (``steps.rollback``), privileges
and row level security (``preflight``), index definitions (``indexes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ..errors import CascadeRefused
from ..progress import NO_PROGRESS, Progress
from . import indexes as ix
from . import ledger
from .lock import phase_lock

LOCK_TABLES = "LOCK TABLE public.chats, public.chat_messages, public.media IN SHARE ROW EXCLUSIVE MODE"
BATCH = 50_000  # ids per DELETE: a progress step, not a transaction (the whole rollback is one)

# the rows to delete, per table: (id, del, batch); ``del`` false for a row kept because
# the app's rows hang on it. {src} is the ledger's rows of the run, or the whole table.
_MEDIA = """
CREATE TEMP TABLE cm_rb_media ON COMMIT DROP AS
SELECT x.id, true AS del, (row_number() OVER (ORDER BY x.id) - 1) / %(batch)s AS batch
FROM {src} WHERE x.media_type = 'chat_image'
"""
_MSG_CARRIED = """
CREATE TEMP TABLE cm_rb_carried_msg ON COMMIT DROP AS
SELECT DISTINCT x.chat_message_id AS id FROM public.media x
WHERE x.chat_message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cm_rb_media d WHERE d.id = x.id)
"""
_MSG = """
CREATE TEMP TABLE cm_rb_msg ON COMMIT DROP AS
SELECT id, del, CASE WHEN del THEN (row_number() OVER (PARTITION BY del ORDER BY id) - 1) / %(batch)s END AS batch
FROM (SELECT m.id, k.id IS NULL AS del FROM {src} LEFT JOIN cm_rb_carried_msg k ON k.id = m.id) s
"""
_CHAT_CARRIED = """
CREATE TEMP TABLE cm_rb_carried_chat ON COMMIT DROP AS
SELECT DISTINCT m.chat_id AS id FROM public.chat_messages m
WHERE NOT EXISTS (SELECT 1 FROM cm_rb_msg d WHERE d.id = m.id AND d.del)
"""
_CHAT = """
CREATE TEMP TABLE cm_rb_chat ON COMMIT DROP AS
SELECT id, del, CASE WHEN del THEN (row_number() OVER (PARTITION BY del ORDER BY id) - 1) / %(batch)s END AS batch
FROM (SELECT c.id, k.id IS NULL AS del FROM {src} LEFT JOIN cm_rb_carried_chat k ON k.id = c.id) s
"""
_LEDGER_SRC = ("(SELECT {a}.* FROM chatmigrate.run_rows r JOIN public.{table} {a} ON {a}.id = r.id "
               "WHERE r.run_id = %(run)s AND r.kind = '{kind}') {a}")
_STEPS = (  # (table, its set, alias, ledger kind, the set's statement, the carried set it needs first)
    ("media", "cm_rb_media", "x", "media", _MEDIA, None),
    ("chat_messages", "cm_rb_msg", "m", "message", _MSG, _MSG_CARRIED),
    ("chats", "cm_rb_chat", "c", "chat", _CHAT, _CHAT_CARRIED),
)
SETS = {("public", table): temp for table, temp, *_ in _STEPS}
# the keys the sets are built from: a row kept because of them is never deleted
_BY_CONSTRUCTION = {("public", "media", ("chat_message_id",)), ("public", "chat_messages", ("chat_id",))}


@dataclass(slots=True)
class RollbackCounts:
    media: int = 0
    messages: int = 0
    chats: int = 0
    kept_messages: int = 0
    kept_chats: int = 0
    run_id: int | None = None
    indexes_dropped: list[str] = field(default_factory=list)  # the plan's indexes the run(s) had created
    indexes_kept: list[str] = field(default_factory=list)  # ... left in place (--keep-indexes, another run, not owner)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str
    child: tuple[str, str]  # (schema, table)
    child_cols: tuple[str, ...]
    parent: tuple[str, str]
    parent_cols: tuple[str, ...]


_FKS = """
SELECT k.conname::text, cn.nspname::text, c.relname::text, pn.nspname::text, p.relname::text,
  ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o),
  ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
        JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE k.contype = 'f' AND k.confrelid = ANY(ARRAY['public.chats'::regclass, 'public.chat_messages'::regclass,
                                                  'public.media'::regclass])
ORDER BY 2, 3, 1
"""


def foreign_keys(conn: psycopg.Connection[Any]) -> list[ForeignKey]:
    """Every foreign key that references chats, chat_messages or media."""
    return [ForeignKey(r[0], (r[1], r[2]), tuple(r[5]), (r[3], r[4]), tuple(r[6]))
            for r in conn.execute(_FKS).fetchall()]


def _display(table: tuple[str, str]) -> str:
    return ".".join(table)


def _guard(conn: psycopg.Connection[Any], fks: list[ForeignKey], run_id: int | None) -> None:
    """Refuse when a row outside the sets references a row about to be deleted (it would cascade)."""
    for fk in fks:
        if (*fk.child, fk.child_cols) in _BY_CONSTRUCTION:
            continue
        child, parent_set = sql.Identifier(*fk.child), sql.Identifier(SETS[fk.parent])
        if fk.parent_cols == ("id",):
            join = sql.SQL("JOIN {} d ON d.del AND d.id = c.{}").format(parent_set, sql.Identifier(fk.child_cols[0]))
        else:
            on = sql.SQL(" AND ").join(sql.SQL("c.{} = p.{}").format(sql.Identifier(a), sql.Identifier(b))
                                       for a, b in zip(fk.child_cols, fk.parent_cols, strict=True))
            join = sql.SQL("JOIN {} p ON {} JOIN {} d ON d.del AND d.id = p.id").format(
                sql.Identifier(*fk.parent), on, parent_set)
        own: sql.Composable = sql.SQL("")
        if fk.child in SETS:  # its own rows that go too do not count
            own = sql.SQL(" WHERE NOT EXISTS (SELECT 1 FROM {} e WHERE e.id = c.id AND e.del)").format(
                sql.Identifier(SETS[fk.child]))
        row = conn.execute(sql.SQL("SELECT count(*) FROM {} c {}{}").format(child, join, own)).fetchone()
        if row and row[0]:
            raise CascadeRefused(run_id, _display(fk.child), int(row[0]))


def _sets(conn: psycopg.Connection[Any], run_id: int | None) -> None:
    params = {"run": run_id, "batch": BATCH}
    for table, temp, alias, kind, statement, carried in _STEPS:
        if carried:
            conn.execute(carried)
        src = (_LEDGER_SRC.format(table=table, a=alias, kind=kind) if run_id is not None
               else f"public.{table} {alias}")
        conn.execute(statement.format(src=src), params)
        conn.execute(f"CREATE INDEX ON {temp} (batch)")
        conn.execute(f"ANALYZE {temp}")


def _delete(conn: psycopg.Connection[Any], table: str, temp: str, label: str, progress: Progress) -> tuple[int, int]:
    """Delete the set's rows batch by batch; (deleted, kept)."""
    row = conn.execute(sql.SQL("SELECT count(*) FILTER (WHERE del), count(*) FILTER (WHERE NOT del) FROM {}").format(
        sql.Identifier(temp))).fetchone()
    assert row is not None
    todo, kept = int(row[0]), int(row[1])
    progress.start(label, todo)
    done = 0
    stmt = sql.SQL("DELETE FROM {} t USING {} d WHERE d.batch = %s AND t.id = d.id").format(
        sql.Identifier("public", table), sql.Identifier(temp))
    for batch in range(max(1, (todo + BATCH - 1) // BATCH)):  # one DELETE even of none: statement triggers fire
        done += conn.execute(stmt, (batch,)).rowcount
        progress.update(done)
    progress.finish()
    return done, kept


def _indexes(conn: psycopg.Connection[Any], run_id: int | None, keep: bool, out: RollbackCounts) -> None:
    """Drop the plan's indexes the rolled-back run(s) created (or keep them, saying why)."""
    runs = ledger.committed(conn)
    gone = [r for r in runs if run_id is None or r.run_id == run_id]
    names = sorted({n for r in gone for n in r.indexes})
    staying = [r for r in runs if r not in gone]
    if not names:
        return
    if staying or keep:  # a committed run still uses them (it takes them over), or asked to keep
        out.indexes_kept = names
        if staying:
            ledger.record_indexes(conn, staying[-1].run_id, names)
    else:
        tables = {name: table for name, table, *_ in ix.INDEXES}
        for name in names:
            if ix.owns(conn, "public", tables.get(name, "chats")):
                ix.drop(conn, f"public.{name}")
                out.indexes_dropped.append(name)
            else:
                out.indexes_kept.append(name)
    conn.execute("UPDATE chatmigrate.runs SET indexes = '{}' WHERE run_id = ANY(%s)", ([r.run_id for r in gone],))


def _forget(conn: psycopg.Connection[Any], run_id: int | None) -> None:
    """The ledger keeps the rows that were kept (still the run's); the deleted ones, and any already gone, go."""
    which = "run_id = %(run)s" if run_id is not None else "true"  # constants only below
    for table, _temp, alias, kind, *_ in _STEPS:
        conn.execute(f"DELETE FROM chatmigrate.run_rows WHERE {which} AND kind = '{kind}' AND NOT EXISTS "  # noqa: S608
                     f"(SELECT 1 FROM public.{table} {alias} WHERE {alias}.id = run_rows.id)", {"run": run_id})
    done = "UPDATE chatmigrate.runs SET status = 'rolled back', rolled_back_at = clock_timestamp() WHERE "
    conn.execute(done + which + " AND status = 'committed'", {"run": run_id})


def _rollback(conn: psycopg.Connection[Any], run_id: int | None, keep_indexes: bool,
              progress: Progress) -> RollbackCounts:
    out = RollbackCounts(run_id=run_id)
    has_ledger = ledger.exists(conn)
    conn.execute(LOCK_TABLES)
    progress.start("rollback: finding the rows", None)
    _sets(conn, run_id)
    fks = foreign_keys(conn)
    _guard(conn, fks, run_id)
    helpers = [name for fk in fks if (name := ix.ensure_fk_index(conn, *fk.child, list(fk.child_cols)))]
    progress.finish()
    out.media, _ = _delete(conn, "media", "cm_rb_media", "rollback: deleting chat images", progress)
    out.messages, out.kept_messages = _delete(conn, "chat_messages", "cm_rb_msg", "rollback: deleting messages",
                                              progress)
    out.chats, out.kept_chats = _delete(conn, "chats", "cm_rb_chat", "rollback: deleting chats", progress)
    for name in helpers:
        ix.drop(conn, name)
    if has_ledger:
        _indexes(conn, run_id, keep_indexes, out)
        _forget(conn, run_id)
    return out


def rollback_run(conn: psycopg.Connection[Any], run_id: int, *, keep_indexes: bool = False,
                 progress: Progress = NO_PROGRESS) -> RollbackCounts:
    """Delete exactly run ``run_id``'s ledger rows (minus those the app has built on), in one transaction."""
    with conn.transaction():
        phase_lock(conn)
        ledger.run_to_roll_back(conn, run_id)
        return _rollback(conn, run_id, keep_indexes, progress)


def count_all(conn: psycopg.Connection[Any]) -> RollbackCounts:
    """What :func:`wipe_all` would delete now (for the confirmation prompt)."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM public.media WHERE media_type = 'chat_image'), "
        "(SELECT count(*) FROM public.chat_messages), (SELECT count(*) FROM public.chats)").fetchone()
    assert row is not None
    return RollbackCounts(media=int(row[0]), messages=int(row[1]), chats=int(row[2]))


def wipe_all(conn: psycopg.Connection[Any], *, keep_indexes: bool = False,
             progress: Progress = NO_PROGRESS) -> RollbackCounts:
    """The plan's rollback: every chat_image media row, every message, every chat -- except
    messages carrying other media and the chats of kept messages (reported as kept) -- with
    the same batches, indexes and cascade guard as :func:`rollback_run`."""
    with conn.transaction():
        phase_lock(conn)
        return _rollback(conn, None, keep_indexes, progress)
