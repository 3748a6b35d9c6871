"""Undoing Phase 6 in the target (``chatmigrate.postgres.rollback``) on a real PostgreSQL.

A migrated target (two chats, their messages, one image's media row) to which the new
app has added rows: its own chat, a message in a migrated chat, media on a migrated
message, an avatar. Rollback of a ledger run deletes exactly the run's rows that carry
nothing of the app's, keeps (and counts) the rest, and ignores ids that are not there;
``wipe_all`` deletes every chat, message and chat image and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

import pgdb
from chatmigrate.errors import LedgerError
from chatmigrate.postgres import ledger
from chatmigrate.postgres.rollback import RollbackCounts, rollback_run, wipe_all
from pgrows import Seeded, chat, media, message, seed, uid


@dataclass
class Target:
    db: pgdb.PgDatabase
    s: Seeded
    chats: list[str]  # the migration's: a (gains an app message), b
    messages: list[str]  # a's text, a's image, b's text (gains the app's media), b's image
    media: list[str]  # the migration's chat images (of a's and b's image)
    app: dict[str, str]  # what the app wrote afterwards


@pytest.fixture
def target(postgres: object) -> Iterator[Target]:
    with pgdb.throwaway("pgtest_rollback") as db:
        s = seed(db)
        a, b = chat(s.bookings[0]), chat(s.bookings[1])
        msgs = [message(a, s.customer), message(a, s.stylist, content="", has_image=True),
                message(b, s.customer), message(b, s.customer, content="", has_image=True)]
        planned = [media(msgs[1]), media(msgs[3])]
        with db.connect() as conn, conn.cursor() as cur:
            cur.executemany("INSERT INTO public.chats (id, booking_id) VALUES (%s, %s)",
                            [(c.id, c.booking_id) for c in (a, b)])
            cur.executemany("INSERT INTO public.chat_messages (id, chat_id, sender_id, content) VALUES (%s, %s, %s, %s)",
                            [(m.id, m.chat_id, m.sender_id, m.content) for m in msgs])
            cur.executemany("INSERT INTO public.media (id, owner_id, file_path, media_type, chat_message_id)"
                            " VALUES (%s, %s, %s, 'chat_image', %s)",
                            [(md.id, md.owner_id, md.file_path, md.message_id) for md in planned])
        app = {
            "chat": db.query("INSERT INTO public.chats (booking_id) VALUES (%s) RETURNING id::text", (s.bookings[2],))[0][0],
            "message": db.query("INSERT INTO public.chat_messages (chat_id, sender_id, content) VALUES (%s, %s, 'app')"
                                " RETURNING id::text", (a.id, s.stylist))[0][0],
            "message_media": db.query("INSERT INTO public.media (owner_id, file_path, media_type, chat_message_id)"
                                      " VALUES (%s, 'extra.jpeg', 'chat_image', %s) RETURNING id::text",
                                      (s.customer, msgs[2].id))[0][0],
            "avatar": db.query("INSERT INTO public.media (owner_id, file_path, media_type) VALUES (%s, 'a.png', 'avatar')"
                               " RETURNING id::text", (s.customer,))[0][0],
        }
        yield Target(db, s, [a.id, b.id], [m.id for m in msgs], [md.id for md in planned], app)


def rollback_listed(conn: psycopg.Connection[object], chats: list[str], messages: list[str],
                    media_ids: list[str]) -> RollbackCounts:
    """A ledger run that lists these ids (as create records them), rolled back."""
    with conn.transaction():
        run_id = ledger.claim(conn, dump_path=None, dump_sha256=uid(), temp_dir="/nowhere", link_mode="strict",
                              chat_schema="booking", allow_another_dump=True)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO chatmigrate.run_rows (run_id, kind, id) VALUES (%s, %s, %s) "
                            "ON CONFLICT DO NOTHING",
                            [(run_id, kind, i) for kind, listed in (("chat", chats), ("message", messages),
                                                                    ("media", media_ids)) for i in listed])
    counts = rollback_run(conn, run_id)
    assert counts.run_id == run_id
    counts.run_id = None
    return counts


def ids(db: pgdb.PgDatabase, table: str) -> set[str]:
    assert table in ("chats", "chat_messages", "media")
    return {row[0] for row in db.query(f"SELECT id::text FROM public.{table}")}


def test_manifest_rollback_deletes_only_rows_without_the_apps(target: Target) -> None:
    t = target
    with t.db.connect() as conn:
        counts = rollback_listed(conn, t.chats, t.messages, t.media)
    # b's text carries the app's media, so it stays, and so does b; a keeps the app's message
    assert counts == RollbackCounts(media=2, messages=3, chats=0, kept_messages=1, kept_chats=2)
    assert ids(t.db, "chats") == {*t.chats, t.app["chat"]}
    assert ids(t.db, "chat_messages") == {t.messages[2], t.app["message"]}
    assert ids(t.db, "media") == {t.app["message_media"], t.app["avatar"]}
    assert t.db.count("bookings") == 4 and t.db.count("profiles") == 4


def test_manifest_rollback_without_app_rows_deletes_everything_listed(target: Target) -> None:
    t = target
    t.db.execute("DELETE FROM public.chat_messages WHERE id = %s", (t.app["message"],))
    t.db.execute("DELETE FROM public.media WHERE id = %s", (t.app["message_media"],))
    with t.db.connect() as conn:
        counts = rollback_listed(conn, t.chats, t.messages, t.media)
    assert counts == RollbackCounts(media=2, messages=4, chats=2, kept_messages=0, kept_chats=0)
    assert ids(t.db, "chats") == {t.app["chat"]} and ids(t.db, "chat_messages") == set()
    assert ids(t.db, "media") == {t.app["avatar"]}


def test_manifest_rollback_never_deletes_media_other_than_chat_images(target: Target) -> None:
    t = target
    with t.db.connect() as conn:  # an avatar's id in the manifest (a damaged or hand-edited file)
        counts = rollback_listed(conn, [], [], [t.app["avatar"]])
    assert counts == RollbackCounts()
    assert t.app["avatar"] in ids(t.db, "media")


def test_manifest_rollback_ignores_ids_that_are_gone_or_repeated(target: Target) -> None:
    t = target
    with t.db.connect() as conn:
        first = rollback_listed(conn, [], t.messages[:2] * 2 + [uid()], t.media[:1] * 3)
        again = rollback_listed(conn, [], t.messages[:2], t.media[:1])
    assert (first.media, first.messages) == (1, 2)
    assert (again.media, again.messages, again.kept_messages) == (0, 0, 0)


def test_a_run_rolled_back_is_not_rolled_back_again(target: Target) -> None:
    t = target
    with t.db.connect() as conn:
        with conn.transaction():
            run_id = ledger.claim(conn, dump_path=None, dump_sha256=uid(), temp_dir="/nowhere",
                                  link_mode="strict", chat_schema="booking")
        rollback_run(conn, run_id)
        with pytest.raises(LedgerError, match="already rolled back"):
            rollback_run(conn, run_id)


def test_manifest_rollback_is_one_transaction(target: Target) -> None:
    t = target  # the chats' DELETE fails after the media and messages were deleted: all of it is undone
    t.db.execute("CREATE FUNCTION public.keep() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$ BEGIN RAISE EXCEPTION 'chats are kept'; END $$")
    t.db.execute("CREATE TRIGGER keep BEFORE DELETE ON public.chats FOR EACH ROW EXECUTE FUNCTION public.keep()")
    t.db.execute("DELETE FROM public.chat_messages WHERE id = %s", (t.app["message"],))
    before = t.db.snapshot()
    with t.db.connect() as conn, pytest.raises(psycopg.errors.RaiseException, match="chats are kept"):
        rollback_listed(conn, t.chats, t.messages, t.media)
    assert t.db.snapshot() == before


def test_wipe_all_deletes_every_chat_message_and_chat_image_and_nothing_else(target: Target) -> None:
    t = target
    with t.db.connect() as conn:
        counts = wipe_all(conn)
    assert counts == RollbackCounts(media=3, messages=5, chats=3)
    assert t.db.counts() == {"chats": 0, "chat_messages": 0, "media": 1}
    assert ids(t.db, "media") == {t.app["avatar"]}
    assert t.db.count("bookings") == 4 and t.db.count("profiles") == 4
