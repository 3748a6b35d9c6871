"""Throw-away PostgreSQL databases for the Phase 6 tests.

:func:`throwaway` creates a uniquely named database on 127.0.0.1:5432 (user postgres,
trust auth; ``CHATMIGRATE_TEST_PG_HOST`` / ``_PORT`` / ``_USER`` override them), applies the target schema with ``chatmigrate.postgres.db.create_schema``
and drops it again (``WITH (FORCE)``) when the block ends. :func:`require` is what
fixtures call first: it skips the test when PostgreSQL is unreachable -- except on CI
(``CI=true``), where that is a failure.

:class:`PgDatabase` carries the database's name and URL plus a few read helpers the
tests share (counts, a full snapshot of the Phase 6 tables, the index names).

A test that reaches the server (:func:`require`, :func:`url_for`) must be marked
``postgres`` (``tests/servermarks.py``); the ``postgres`` fixture marks it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import servermarks

psycopg = pytest.importorskip("psycopg")

HOST = os.environ.get("CHATMIGRATE_TEST_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("CHATMIGRATE_TEST_PG_PORT", "5432"))
USER = os.environ.get("CHATMIGRATE_TEST_PG_USER", "postgres")
PHASE6_TABLES = ("chats", "chat_messages", "media")
# every column, in a stable order, so two snapshots compare value by value
_SNAPSHOT = {
    "chats": "SELECT id, booking_id, created_at, updated_at FROM public.chats ORDER BY id",
    "chat_messages": "SELECT id, chat_id, sender_id, content, is_read, created_at "
                     "FROM public.chat_messages ORDER BY id",
    "media": "SELECT id, owner_id, file_path, media_type::text, chat_message_id, created_at "
             "FROM public.media ORDER BY id",
}


def url_for(dbname: str, *, password: str | None = None, port: int = PORT) -> str:
    servermarks.check("postgres", f"PostgreSQL ({HOST}:{port})")
    auth = f"{USER}:{password}" if password is not None else USER
    return f"postgresql://{auth}@{HOST}:{port}/{dbname}"


def _admin() -> Any:
    return psycopg.connect(host=HOST, port=PORT, user=USER, dbname="postgres", autocommit=True, connect_timeout=5)


def require() -> None:
    """Return when PostgreSQL answers; else skip (fail when ``CI=true``) saying why."""
    servermarks.check("postgres", f"PostgreSQL ({HOST}:{PORT})")
    try:
        _admin().close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required when CI=true: {reason}", pytrace=False)
        pytest.skip(f"PostgreSQL not available at {HOST}:{PORT}: {reason}")


class PgDatabase:
    """One throw-away database; ``url`` has no password (trust auth)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.url = url_for(name)

    def connect(self, **kw: Any) -> Any:
        kw.setdefault("autocommit", True)
        return psycopg.connect(self.url, connect_timeout=5, **kw)

    def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Any = ()) -> int:
        with self.connect() as conn:
            return conn.execute(sql, params).rowcount

    def count(self, table: str, where: str = "TRUE") -> int:
        assert table in (*PHASE6_TABLES, "bookings", "profiles")
        return self.query(f"SELECT count(*) FROM public.{table} WHERE {where}")[0][0]

    def counts(self) -> dict[str, int]:
        return {t: self.count(t) for t in PHASE6_TABLES}

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of chats, chat_messages and media, all columns, in id order."""
        with self.connect() as conn:
            return {t: conn.execute(q).fetchall() for t, q in _SNAPSHOT.items()}

    def index_names(self) -> set[str]:
        return {r[0] for r in self.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}

    def backends(self, application: str = "chatmigrate") -> list[tuple[Any, ...]]:
        """(pid, state, wait_event_type, query) of other sessions on this database."""
        return self.query(
            "SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
            (self.name, application),
        )


def create(label: str, *, schema: bool = True) -> PgDatabase:
    from chatmigrate.postgres.db import create_schema

    require()
    name = f"cm_{label}_{os.getpid()}_{secrets.token_hex(4)}".lower()
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db = PgDatabase(name)
    if schema:
        create_schema(db.url)
    return db


def drop(db: PgDatabase) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


@contextmanager
def throwaway(label: str, *, schema: bool = True) -> Iterator[PgDatabase]:
    db = create(label, schema=schema)
    try:
        yield db
    finally:
        drop(db)
