"""The target's schema helpers (``chatmigrate.postgres.db``) on a real PostgreSQL.

Creating the tables is idempotent and keeps the rows already there; the chats table of
either schema is recognised, and one chatmigrate does not know is refused by name;
missing tables are named; the plan's indexes are created once, under their names.
"""

from __future__ import annotations

from typing import Any

import pytest

import pgdb
from chatmigrate.postgres import db as target_db
from chatmigrate.postgres.db import TargetError

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("chat_schema", target_db.CHAT_SCHEMAS)
def test_creating_the_schema_twice_changes_nothing_and_keeps_the_rows(chat_schema: str) -> None:
    with pgdb.throwaway("pgtest_db", schema=False) as db:
        assert target_db.create_schema(db.url, chat_schema) == list(target_db.REQUIRED)
        db.execute("INSERT INTO auth.users (id) VALUES ('6f1e4a52-3c1b-4d7e-9a55-2b8c0f6d1e01')")
        db.execute("INSERT INTO public.profiles (id) VALUES ('6f1e4a52-3c1b-4d7e-9a55-2b8c0f6d1e01')")
        columns = db.query("SELECT table_name, column_name, data_type FROM information_schema.columns "
                           "WHERE table_schema IN ('public', 'auth') ORDER BY 1, 2")
        assert target_db.create_schema(db.url, chat_schema) == list(target_db.REQUIRED)
        assert db.query("SELECT table_name, column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema IN ('public', 'auth') ORDER BY 1, 2") == columns
        assert db.count("profiles") == 1
        with db.connect() as conn:
            assert target_db.chat_schema(conn) == chat_schema


def test_an_unknown_chat_schema_is_refused(postgres: Any) -> None:
    with pytest.raises(TargetError, match="--chat-schema 'pairs' is not one of booking, participants"):
        target_db.create_schema(pgdb.url_for("postgres"), "pairs")


def test_a_chats_table_of_neither_schema_is_refused(postgres: Any) -> None:
    with pgdb.throwaway("pgtest_db", schema=False) as db, db.connect() as conn:
        conn.execute("CREATE TABLE public.chats (id uuid PRIMARY KEY, room text)")
        with pytest.raises(TargetError, match="neither booking_id nor customer_id and stylist_id"):
            target_db.chat_schema(conn)


@pytest.mark.parametrize("dropped", [(), ("media",), ("chat_messages", "media"), target_db.REQUIRED[::-1]])
def test_missing_tables_are_named(postgres: Any, dropped: tuple[str, ...]) -> None:
    with pgdb.throwaway("pgtest_db") as db, db.connect() as conn:
        for table in dropped:
            conn.execute(f"DROP TABLE public.{table} CASCADE")
        missing = [t for t in target_db.REQUIRED if t in dropped]
        assert target_db.missing_tables(conn) == missing
        if not missing:
            target_db.require_tables(conn, db.url)
            return
        with pytest.raises(TargetError) as exc:
            target_db.require_tables(conn, db.url)
        assert f"has no table(s) {', '.join(missing)}:" in str(exc.value)


@pytest.mark.parametrize("chat_schema", target_db.CHAT_SCHEMAS)
def test_the_plans_indexes_are_created_once(postgres: Any, chat_schema: str) -> None:
    with pgdb.throwaway("pgtest_db", schema=False) as db:
        target_db.create_schema(db.url, chat_schema)
        before = db.index_names()
        with db.connect() as conn:
            built = target_db.create_indexes(conn, chat_schema)
            assert target_db.create_indexes(conn, chat_schema) == built  # IF NOT EXISTS: a second time is harmless
        expected = [name for name, *_ in target_db.INDEXES
                    if chat_schema == "booking" or name != "idx_chats_booking_id"]
        assert built == expected
        assert db.index_names() - before == set(expected)
        partial = db.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_media_chat_message_id'")[0][0]
        assert "WHERE (media_type = 'chat_image'::media_type)" in partial
