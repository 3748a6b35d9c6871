"""The target's schema helpers (``chatmigrate.postgres.db``) on a real PostgreSQL.

Creating the tables is idempotent and keeps the rows already there; the chats table of
either schema is recognised, and one chatmigrate does not know is refused by name;
missing tables are named; the plan's indexes are created once, under their names, and only
where no index in place has their leading columns (the UNIQUE constraint's, an app's own).
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


PLAN = [name for name, *_ in target_db.INDEXES]


@pytest.mark.parametrize("chat_schema", target_db.CHAT_SCHEMAS)
def test_the_plans_indexes_are_created_once_and_only_where_none_serves(postgres: Any, chat_schema: str) -> None:
    with pgdb.throwaway("pgtest_db", schema=False) as db:
        target_db.create_schema(db.url, chat_schema)
        before = db.index_names()
        with db.connect() as conn:
            made = target_db.create_indexes(conn, chat_schema)
            again = target_db.create_indexes(conn, chat_schema)
        # chats.booking_id UNIQUE has its index already (the later schema has no booking_id)
        expected = [n for n in PLAN if n != "idx_chats_booking_id"]
        assert made.created == expected
        assert made.served == ({"idx_chats_booking_id": "chats_booking_id_key"} if chat_schema == "booking" else {})
        assert again.created == [] and sorted(again.in_place) == sorted(made.in_place)
        assert db.index_names() - before == set(expected)
        partial = db.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_media_chat_message_id'")[0][0]
        assert "WHERE (media_type = 'chat_image'::media_type)" in partial


# an index the app has: (its definition, the plan's index it serves, or None when it serves none)
EQUIVALENTS = [
    ("ON public.media (chat_message_id)", "idx_media_chat_message_id"),  # plain serves the partial's queries
    ("ON public.chat_messages (chat_id, created_at)", "idx_chat_messages_chat_id"),  # leading column
    ("ON public.chat_messages (is_read, created_at, id)", "idx_chat_messages_read_status"),
    ("ON public.chat_messages (created_at, is_read)", "idx_chat_messages_created_at"),
    ("ON public.chat_messages (sender_id) WHERE is_read", None),  # partial: serves only its own predicate
    ("ON public.chat_messages (lower(content))", None),  # an expression
    ("ON public.chat_messages (content, sender_id)", None),  # not the leading column
]


@pytest.mark.parametrize(("definition", "serves"), EQUIVALENTS)
def test_an_index_in_place_with_the_plans_leading_columns_is_used_instead(
        postgres: Any, definition: str, serves: str | None) -> None:
    with pgdb.throwaway("pgtest_db") as db:
        db.execute(f"CREATE INDEX app_index {definition}")
        with db.connect() as conn:
            made = target_db.create_indexes(conn, "booking")
        if serves is None:
            assert "app_index" not in made.served.values()
            assert made.created == [n for n in PLAN if n != "idx_chats_booking_id"]
        else:
            assert made.served[serves] == "app_index" and serves not in made.created
            assert serves not in db.index_names()


def test_the_indexes_migration_file_leaves_out_the_unique_constraints_index() -> None:
    text = target_db.indexes.migration_sql("booking")
    lines = [line for line in text.splitlines() if not line.startswith("--")]
    assert lines == [
        "CREATE INDEX IF NOT EXISTS idx_chat_messages_chat_id ON public.chat_messages (chat_id);",
        "CREATE INDEX IF NOT EXISTS idx_chat_messages_sender_id ON public.chat_messages (sender_id);",
        "CREATE INDEX IF NOT EXISTS idx_chat_messages_created_at ON public.chat_messages (created_at);",
        "CREATE INDEX IF NOT EXISTS idx_chats_created_at ON public.chats (created_at);",
        "CREATE INDEX IF NOT EXISTS idx_chat_messages_read_status ON public.chat_messages (is_read, created_at);",
        "CREATE INDEX IF NOT EXISTS idx_media_chat_message_id ON public.media (chat_message_id) "
        "WHERE media_type = 'chat_image';",
    ]
    assert target_db.indexes.migration_sql("participants") == text


@pytest.mark.parametrize("chat_schema", target_db.CHAT_SCHEMAS)
def test_the_migration_file_applied_leaves_create_nothing_to_build(postgres: Any, chat_schema: str) -> None:
    with pgdb.throwaway("pgtest_db", schema=False) as db:
        target_db.create_schema(db.url, chat_schema)
        with db.connect() as conn:
            conn.execute(target_db.indexes.migration_sql(chat_schema))  # as `supabase db push` would
            assert target_db.create_indexes(conn, chat_schema).created == []
