"""Connections to the target PostgreSQL, its schema, and the Phase 1-4 seed for demos.

Owns: connecting (with the password never shown: :func:`redact`), mapping connection
failures to one sentence, creating the Supabase-compatible tables (``schema.sql``) for
demos and tests, seeding profiles and bookings from CSV files by COPY, and the plan's
indexes.

Does not own: the migration steps (``load``, ``checks``, ``rollback``).
"""

from __future__ import annotations

import csv
import re
from urllib.parse import unquote
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ..errors import ChatmigrateError

INDEXES = (
    ("idx_chats_booking_id", "chats", "(booking_id)", ""),
    ("idx_chat_messages_chat_id", "chat_messages", "(chat_id)", ""),
    ("idx_chat_messages_sender_id", "chat_messages", "(sender_id)", ""),
    ("idx_chat_messages_created_at", "chat_messages", "(created_at)", ""),
    ("idx_chats_created_at", "chats", "(created_at)", ""),
    ("idx_chat_messages_read_status", "chat_messages", "(is_read, created_at)", ""),
    ("idx_media_chat_message_id", "media", "(chat_message_id)", "WHERE media_type = 'chat_image'"),
)


class TargetError(ChatmigrateError):
    """The target database cannot be reached or lacks what the step needs."""


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print or write)."""
    url = re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", url)  # up to the last @ before the host
    return re.sub(r"(?i)(password\s*=\s*)('[^']*'|[^\s&]*)", r"\1***", url)


def _secrets(url: str) -> list[str]:
    """The password as written in the URL or conninfo, and percent-decoded."""
    found = re.findall(r"://[^:/@]*:([^/]*)@", url) + re.findall(r"(?i)password\s*=\s*('[^']*'|[^\s&]*)", url)
    out: set[str] = set()
    for raw in found:
        raw = raw.strip("'")
        if raw:
            out.add(raw)
            try:
                out.add(unquote(raw, errors="strict"))
            except UnicodeDecodeError:
                pass
    return sorted(out, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with the URL's password, in any form, replaced by ``***``."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return redact(text)


def connect(url: str | None, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    if not url:
        raise TargetError("no target database given: pass --database-url or set DATABASE_URL.")
    try:
        return psycopg.connect(url, autocommit=autocommit, application_name="chatmigrate")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TargetError(
            f"cannot connect to the target database {scrub(url, url)} ({scrub(reason, url)}): "
            "check --database-url / DATABASE_URL and that the server runs."
        ) from None


CHAT_SCHEMAS = ("booking", "participants")


def schema_sql(chat_schema: str = "booking") -> str:
    """The target tables; ``chat_schema`` picks the chats table: per booking or per pair.

    schema.sql is the plan's schema, runnable as it is; for the later schema its block
    between ``-- chats: begin`` and ``-- chats: end`` is replaced.
    """
    files = resources.files("chatmigrate.postgres")
    text = files.joinpath("schema.sql").read_text(encoding="utf-8")
    if chat_schema == "booking":
        return text
    begin, end = text.index("-- chats: begin"), text.index("-- chats: end")
    chats = files.joinpath(f"schema_chats_{chat_schema}.sql").read_text(encoding="utf-8")
    return text[:begin] + chats + text[end:]


def create_schema(url: str, chat_schema: str = "booking") -> list[str]:
    """Create the target tables that are absent; return the tables that now exist."""
    if chat_schema not in CHAT_SCHEMAS:
        raise TargetError(f"--chat-schema {chat_schema!r} is not one of {', '.join(CHAT_SCHEMAS)}.")
    with connect(url, autocommit=True) as conn:
        conn.execute(schema_sql(chat_schema))  # type: ignore[arg-type]
        return missing_tables(conn, invert=True)


def chat_schema(conn: psycopg.Connection[Any]) -> str:
    """Which chats table the target has: "booking" (chats.booking_id) or "participants"."""
    cols = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'chats'"
    ).fetchall()}
    if "booking_id" in cols:
        return "booking"
    if {"customer_id", "stylist_id"} <= cols:
        return "participants"
    raise TargetError("the target's chats table has neither booking_id nor customer_id and stylist_id: "
                      "it is not a schema chatmigrate knows.")


REQUIRED = ("profiles", "bookings", "chats", "chat_messages", "media")


def missing_tables(conn: psycopg.Connection[Any], invert: bool = False) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)",
        (list(REQUIRED),),
    ).fetchall()
    present = {r[0] for r in rows}
    return [t for t in REQUIRED if (t in present) == invert]


def require_tables(conn: psycopg.Connection[Any], url: str) -> None:
    missing = missing_tables(conn)
    if missing:
        raise TargetError(
            f"the target database {redact(url)} has no table(s) {', '.join(missing)}: "
            "run the earlier phases' migrations (or `chatmigrate schema` for a test database)."
        )


def insert_triggers(conn: psycopg.Connection[Any]) -> list[str]:
    """User triggers that fire on INSERT into the tables step 2 writes ("table.trigger").

    A notification or realtime trigger would fire once for every migrated message; the
    operator should know before the cut-over (and may disable it for the load).
    """
    rows = conn.execute(
        "SELECT c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
        "AND c.relname IN ('chats', 'chat_messages', 'media') AND NOT t.tgisinternal "
        "AND (t.tgtype & 4) <> 0 ORDER BY 1"  # bit 2: fires on INSERT
    ).fetchall()
    return [r[0] for r in rows]


def create_indexes(conn: psycopg.Connection[Any], chat_schema: str = "booking") -> list[str]:
    """The plan's indexes, IF NOT EXISTS; returns their names.

    The later schema has no chats.booking_id (its UNIQUE (customer_id, stylist_id) indexes
    the pair already), so idx_chats_booking_id is left out there.
    """
    built = []
    for name, table, cols, where in INDEXES:
        if chat_schema != "booking" and "booking_id" in cols:
            continue
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} {} {}").format(
                sql.Identifier(name), sql.Identifier("public", table), sql.SQL(cols), sql.SQL(where)
            )
        )
        built.append(name)
    return built


def seed_from_csv(url: str, seed_dir: Path) -> dict[str, int]:
    """Load Phase 1-4 rows (profiles.csv, bookings.csv as written by ``synth``) by COPY."""
    counts: dict[str, int] = {}
    with connect(url) as conn, conn.transaction():
        for table, extra in (("profiles", True), ("bookings", False)):
            path = seed_dir / f"{table}.csv"
            with open(path, newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                header = next(reader)
                rows = list(reader)
            if extra:  # every profile needs its auth.users row first
                with conn.cursor().copy("COPY auth.users (id, email) FROM STDIN") as cp:
                    id_i, email_i = header.index("id"), header.index("email")
                    for row in rows:
                        cp.write_row((row[id_i], row[email_i]))
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in header)
            stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier("public", table), cols)
            with conn.cursor().copy(stmt) as cp:
                for row in rows:
                    cp.write_row([v if v != "" else None for v in row])
            counts[table] = len(rows)
    return counts
