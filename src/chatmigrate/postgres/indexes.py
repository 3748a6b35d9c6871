"""The plan's indexes, and the indexes a rollback needs for the time it runs.

Owns: the plan's index list (:data:`INDEXES`), finding an index that already serves one
of them (:func:`equivalent`: a valid index on the same table whose leading key columns
are the plan's -- e.g. the UNIQUE constraint's ``chats_booking_id_key`` for
``idx_chats_booking_id`` -- without a predicate, or under the plan's own name), creating
only the ones without such an equivalent (:func:`create_plan_indexes`, whose ``created``
the ledger records so that rollback removes exactly those), printing them as a Supabase
migration file (:func:`migration_sql`), and the plain indexes that make a rollback's
foreign-key checks index lookups (:func:`ensure_fk_index`: created inside the rollback's
transaction where no usable one exists, dropped before it commits).

Does not own: the ledger (``ledger``), deleting rows (``rollback``), privileges
(``preflight``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ..progress import NO_PROGRESS, Progress

# (name, table, columns, predicate): the plan's, in its order
INDEXES = (
    ("idx_chats_booking_id", "chats", "(booking_id)", ""),
    ("idx_chat_messages_chat_id", "chat_messages", "(chat_id)", ""),
    ("idx_chat_messages_sender_id", "chat_messages", "(sender_id)", ""),
    ("idx_chat_messages_created_at", "chat_messages", "(created_at)", ""),
    ("idx_chats_created_at", "chats", "(created_at)", ""),
    ("idx_chat_messages_read_status", "chat_messages", "(is_read, created_at)", ""),
    ("idx_media_chat_message_id", "media", "(chat_message_id)", "WHERE media_type = 'chat_image'"),
)


def columns(cols: str) -> list[str]:
    """``"(is_read, created_at)"`` -> ``["is_read", "created_at"]``."""
    return [c.strip() for c in cols.strip("()").split(",")]


def plan_indexes(chat_schema: str = "booking") -> list[tuple[str, str, str, str]]:
    """The plan's indexes for this chats table (the later schema has no chats.booking_id)."""
    return [ix for ix in INDEXES if chat_schema == "booking" or "booking_id" not in ix[2]]


@dataclass(slots=True)
class IndexOutcome:
    """What :func:`create_plan_indexes` did: ``created`` by it, ``served`` plan name -> the index in place."""

    created: list[str] = field(default_factory=list)
    served: dict[str, str] = field(default_factory=dict)

    @property
    def in_place(self) -> list[str]:
        """The plan's indexes now in place, by the name of the index that serves each."""
        return [*self.created, *self.served.values()]


_KEYS = """
SELECT c.relname::text, i.indpred IS NOT NULL,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= i.indnkeyatts ORDER BY k.ord)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = %s::regclass AND i.indisvalid AND i.indisready AND i.indexprs IS NULL
ORDER BY i.indisunique DESC, i.indisprimary DESC, c.relname
"""


def equivalent(conn: psycopg.Connection[Any], schema: str, table: str, cols: list[str], *,
               name: str | None = None) -> str | None:
    """The name of a usable index on ``schema.table`` whose leading key columns are ``cols``.

    Without a predicate it serves any query on those columns (a partial index only the
    queries that repeat its predicate); ``name``, when given, is also accepted as it is.
    """
    rel = sql.Identifier(schema, table).as_string(conn)
    for idx, partial, keys in conn.execute(_KEYS, (rel,)).fetchall():
        if idx == name or (not partial and list(keys[:len(cols)]) == cols):
            return str(idx)
    return None


def create_statement(name: str, table: str, cols: str, where: str) -> sql.Composed:
    return sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} {}{}").format(
        sql.Identifier(name), sql.Identifier("public", table), sql.SQL(cols),
        sql.SQL(" " + where if where else ""))


def create_plan_indexes(conn: psycopg.Connection[Any], chat_schema: str = "booking",
                        progress: Progress = NO_PROGRESS) -> IndexOutcome:
    """Create each of the plan's indexes that no index in place serves already."""
    out = IndexOutcome()
    for name, table, cols, where in plan_indexes(chat_schema):
        have = equivalent(conn, "public", table, columns(cols), name=name)
        if have is not None:
            out.served[name] = have
            continue
        progress.start(f"creating index {name} on {table}", None)
        conn.execute(create_statement(name, table, cols, where))
        progress.finish()
        out.created.append(name)
    return out


def migration_sql(chat_schema: str = "booking") -> str:
    """The plan's indexes as a Supabase migration file (``supabase/migrations/<stamp>_chat_indexes.sql``).

    idx_chats_booking_id is left out: ``chats.booking_id UNIQUE`` already has its index
    (``chats_booking_id_key``), and the later schema has no booking_id.
    """
    lines = [
        "-- The Phase 6 chat indexes, for the app's schema to own (chatmigrate schema --indexes-sql).",
        "-- Save as supabase/migrations/<timestamp>_chat_indexes.sql; `chatmigrate create` then finds",
        "-- them in place and creates none, and rollback leaves them.",
        "-- idx_chats_booking_id is not needed: the UNIQUE constraint on chats.booking_id has its own index.",
    ]
    for name, table, cols, where in plan_indexes(chat_schema):
        if "booking_id" in cols:
            continue
        lines.append(f"CREATE INDEX IF NOT EXISTS {name} ON public.{table} {cols}{' ' + where if where else ''};")
    return "\n".join(lines) + "\n"


def owns(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    """Whether the role has the owner's rights on the table (needed to create or drop its indexes)."""
    row = conn.execute("SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = %s::regclass",
                       (sql.Identifier(schema, table).as_string(conn),)).fetchone()
    return bool(row and row[0])


def ensure_fk_index(conn: psycopg.Connection[Any], schema: str, table: str, cols: list[str]) -> str | None:
    """A plain index on ``schema.table (cols)`` for the transaction's foreign-key checks.

    Returns the name of an index created here (drop it with :func:`drop` before the
    transaction commits), or None when a usable one exists or the role may not create one.
    """
    if equivalent(conn, schema, table, cols) is not None or not owns(conn, schema, table):
        return None
    name = ("cm_rollback_" + table + "_" + "_".join(cols))[:63]
    conn.execute(sql.SQL("CREATE INDEX {} ON {} ({})").format(
        sql.Identifier(name), sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, cols))))
    return f"{schema}.{name}"


def drop(conn: psycopg.Connection[Any], qualified: str) -> None:
    schema, name = qualified.split(".", 1)
    conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(schema, name)))
