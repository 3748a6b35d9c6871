"""Undoing Phase 6 in the target (``chatmigrate.postgres.rollback``) on a real PostgreSQL.

A migrated target (two chats, their messages, one image's media row) to which the new
app has added rows: its own chat, a message in a migrated chat, media on a migrated
message, an avatar. Rollback of a ledger run deletes exactly the run's rows that carry
nothing of the app's, keeps (and counts) the rest, and ignores ids that are not there;
``wipe_all`` deletes every chat, message and chat image and nothing else.

Both refuse, deleting nothing, when a row outside the rows to delete references one of
them (any foreign key into chats, chat_messages or media: it would cascade); both delete
in batches, report each to the progress bar, and build the plain indexes the foreign-key
checks need for the transaction only; a run's rollback drops the plan's indexes the run
created, unless they are kept or another committed run still uses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

import pgdb
from chatmigrate.errors import CascadeRefused, LedgerError
from chatmigrate.postgres import db, ledger
from chatmigrate.postgres import rollback as rb
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


# --------------------------------------------------------------------------- the cascade guard, set-wise

# an app table with a foreign key into the migration's rows: (its DDL, the row of the target it references)
REFERENCING = [
    ("CREATE TABLE public.message_flags (message_id uuid REFERENCES public.chat_messages ON DELETE SET NULL)",
     "message_flags", lambda t: t.messages[0]),
    ("CREATE TABLE public.media_tags (media_id uuid REFERENCES public.media ON DELETE CASCADE)",
     "media_tags", lambda t: t.media[0]),
    ("CREATE SCHEMA app; CREATE TABLE app.chat_pins (chat uuid NOT NULL, "
     "FOREIGN KEY (chat) REFERENCES public.chats (id) ON DELETE CASCADE)", "app.chat_pins", lambda t: t.chats[0]),
]


@pytest.mark.parametrize(("ddl", "table", "pick"), REFERENCING, ids=[r[1] for r in REFERENCING])
def test_a_row_outside_the_ledger_referencing_a_row_to_delete_refuses_everything(
        target: Target, ddl: str, table: str, pick: Any) -> None:
    t = target
    t.db.execute("DELETE FROM public.chat_messages WHERE id = %s", (t.app["message"],))  # so chat a would go too
    with t.db.connect() as conn:
        conn.execute(ddl)
        qualified = table if "." in table else f"public.{table}"
        conn.execute(f"INSERT INTO {qualified} VALUES (%s)", (pick(t),))
    before = t.db.snapshot()
    with t.db.connect() as conn, pytest.raises(CascadeRefused) as exc:
        rollback_listed(conn, t.chats, t.messages, t.media)
    assert f"1 row(s) of {qualified} that the ledger does not list" in str(exc.value)
    assert "nothing was deleted" in str(exc.value)
    assert t.db.snapshot() == before
    assert t.db.query("SELECT status FROM chatmigrate.runs") == [("committed",)]


def test_a_row_referencing_a_kept_row_is_no_reason_to_refuse(target: Target) -> None:
    t = target  # chat a keeps the app's message, so a pin on a stays with it
    t.db.execute("CREATE TABLE public.chat_pins (chat uuid REFERENCES public.chats ON DELETE CASCADE)")
    t.db.execute("INSERT INTO public.chat_pins VALUES (%s)", (t.chats[0],))
    with t.db.connect() as conn:
        counts = rollback_listed(conn, t.chats, t.messages, t.media)
    assert (counts.chats, counts.kept_chats) == (0, 2)
    assert t.db.query("SELECT chat::text FROM public.chat_pins") == [(t.chats[0],)]


def test_wipe_all_has_the_same_guard(target: Target) -> None:
    t = target
    t.db.execute("CREATE TABLE public.chat_pins (chat uuid REFERENCES public.chats ON DELETE CASCADE)")
    t.db.execute("INSERT INTO public.chat_pins VALUES (%s)", (t.app["chat"],))
    before = t.db.snapshot()
    with t.db.connect() as conn, pytest.raises(CascadeRefused, match=r"^rollback --all refused: .* public\.chat_pins"):
        wipe_all(conn)
    assert t.db.snapshot() == before


def test_wipe_all_keeps_a_message_carrying_media_that_is_no_chat_image(target: Target) -> None:
    t = target  # the plan's wipe would cascade into it; chatmigrate keeps the message and its chat
    t.db.execute("UPDATE public.media SET chat_message_id = %s WHERE id = %s", (t.messages[0], t.app["avatar"]))
    with t.db.connect() as conn:
        counts = wipe_all(conn)
    assert counts == RollbackCounts(media=3, messages=4, chats=2, kept_messages=1, kept_chats=1)
    assert ids(t.db, "chat_messages") == {t.messages[0]} and ids(t.db, "chats") == {t.chats[0]}
    assert ids(t.db, "media") == {t.app["avatar"]}


# --------------------------------------------------------------------------- batches, progress, helper indexes


class Recorder:
    """A Progress that keeps what it was told, and which helper indexes the rollback's transaction had."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.tasks, self.helpers = conn, [], set()  # type: ignore[var-annotated]

    def start(self, label: str, total: int | None, unit: str = "rows") -> None:
        self.tasks.append([label, total])
        self.helpers |= {r[0] for r in self.conn.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'cm_rollback%'").fetchall()}

    def update(self, done: int) -> None:
        self.tasks[-1].append(done)

    def finish(self) -> None:
        self.tasks[-1].append("done")


def test_rollback_in_batches_reports_each_and_leaves_no_helper_index(target: Target,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    t = target
    monkeypatch.setattr(rb, "BATCH", 1)  # every id its own DELETE
    indexes_before = t.db.index_names()
    with t.db.connect() as conn:
        with conn.transaction():
            run_id = ledger.claim(conn, dump_path=None, dump_sha256=uid(), temp_dir="/nowhere",
                                  link_mode="strict", chat_schema="booking")
            conn.execute("INSERT INTO chatmigrate.run_rows (run_id, kind, id) SELECT %s, 'chat', unnest(%s::uuid[]) "
                         "UNION ALL SELECT %s, 'message', unnest(%s::uuid[]) UNION ALL "
                         "SELECT %s, 'media', unnest(%s::uuid[])",
                         (run_id, t.chats, run_id, t.messages, run_id, t.media))
        progress = Recorder(conn)
        counts = rollback_run(conn, run_id, progress=progress)
    assert (counts.media, counts.messages, counts.chats) == (2, 3, 0)
    assert progress.tasks == [["rollback: finding the rows", None, "done"],
                              ["rollback: deleting chat images", 2, 1, 2, "done"],
                              ["rollback: deleting messages", 3, 1, 2, 3, "done"],
                              ["rollback: deleting chats", 0, 0, "done"]]
    # the plan's partial media index cannot serve the cascade check: a plain one did, for the transaction
    assert progress.helpers == {"cm_rollback_media_chat_message_id", "cm_rollback_chat_messages_chat_id"}
    assert t.db.index_names() == indexes_before
    assert ids(t.db, "chat_messages") == {t.messages[2], t.app["message"]}


# --------------------------------------------------------------------------- the plan's indexes


def _run_with_indexes(conn: Any) -> int:
    with conn.transaction():
        run_id = ledger.claim(conn, dump_path=None, dump_sha256=uid(), temp_dir="/nowhere", link_mode="strict",
                              chat_schema="booking", allow_another_dump=True)
        ledger.record_indexes(conn, run_id, db.create_indexes(conn, "booking").created)
    return run_id


BUILT = {name for name, *_ in db.INDEXES} - {"idx_chats_booking_id"}  # chats_booking_id_key serves that one


@pytest.mark.parametrize("keep", [False, True])
def test_rollback_drops_the_indexes_its_run_created_unless_kept(target: Target, keep: bool) -> None:
    t = target
    with t.db.connect() as conn:
        run_id = _run_with_indexes(conn)
        counts = rollback_run(conn, run_id, keep_indexes=keep)
    assert sorted(counts.indexes_kept if keep else counts.indexes_dropped) == sorted(BUILT)
    assert BUILT & t.db.index_names() == (BUILT if keep else set())
    assert "chats_booking_id_key" in t.db.index_names()


def test_indexes_still_used_by_a_committed_run_pass_to_it(target: Target) -> None:
    t = target
    with t.db.connect() as conn:
        first = _run_with_indexes(conn)
        second = _run_with_indexes(conn)  # finds them in place: creates none
        assert ledger.get(conn, second).indexes == []  # type: ignore[union-attr]
        kept = rollback_run(conn, first)
        assert sorted(kept.indexes_kept) == sorted(BUILT) and kept.indexes_dropped == []
        assert sorted(ledger.get(conn, second).indexes) == sorted(BUILT)  # type: ignore[union-attr]
        assert t.db.index_names() >= BUILT
        last = rollback_run(conn, second)
    assert sorted(last.indexes_dropped) == sorted(BUILT) and not BUILT & t.db.index_names()
