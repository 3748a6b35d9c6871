"""Step 2, create, against a real PostgreSQL: exact, re-runnable, row-isolated, atomic.

Each test builds its own legacy world (MariaDB -> mariadb-dump) and target database,
runs step 1 (``extract``) and then step 2 -- through ``steps.create.create``, or, for the
crash test, as ``python -m chatmigrate create`` in a subprocess that is killed with
SIGKILL mid-load. The target tables are then compared value by value with the rows
the world declared.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from chatmigrate import planfiles as f
from chatmigrate.phase6 import records as r
from chatmigrate.postgres.db import INDEXES
from chatmigrate.steps.create import ThresholdExceeded, create
from chatmigrate.steps.extract import extract
from chatmigrate.steps.validate import validate
from world import World, utc

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]
U = uuid.UUID
HOSTILE_TEXTS = [
    "Hei;) ses i morgen;", "),(", "'; DROP TABLE chats; --", 'sa "hei" og \'hade\'', "C:\\mappe\\ny\\t.txt",
    "linje 1\nlinje 2\r\nlinje 3", "tab\there", "💇‍♀️ æøå ÆØÅ", "NULL", "", "   mellomrom   ", "\\% og \\_",
    "ctrl-z \x1a backspace \x08", "nul\x00byte\x00", "x" * 5000,
]
HOSTILE_TEXTS_CLEAN = [t.replace("\x00", "") for t in HOSTILE_TEXTS]


@pytest.fixture
def world(mariadb: Any, tmp_path: Any) -> Any:
    w = World(mariadb, tmp_path, "create")
    yield w
    w.close()


def hostile(w: World) -> None:
    """Two migrated chats with hostile texts, images on both hosts, both read states; skipped rows."""
    a, b = w.chat(w.booking()), w.chat(w.booking(), id_case="upper", booking_id_case="upper", updated_at=None)
    for i, text in enumerate(HOSTILE_TEXTS):
        w.message(a if i % 2 else b, is_from=("buyer", "stylist")[i % 3 == 0], text=text, unread=bool(i % 4))
    w.message(a, is_from="stylist", image=True, image_host="regional")
    w.message(b, is_from="buyer", image=True, image_host="global", chat_id_case="upper")
    w.message(w.chat(w.booking(migrated=False)))  # skipped with its chat


def extracted(w: World, **build: Any) -> World:
    w.build(**build)
    extract(str(w.dump_path), w.temp_dir)
    return w


def read(w: World, name: str) -> dict[str, Any]:
    return json.loads((w.temp_dir / name).read_text(encoding="utf-8"))


def test_full_migration_equals_the_source_value_by_value(world: World) -> None:
    hostile(world)
    res = create(extracted(world).temp_dir, world.url)
    chats, messages = world.migrated_chats(), world.migrated_messages()
    assert (res.counts.chats.created, res.counts.messages.created, res.counts.media.created) == (2, 17, 2)
    pg = world.pg
    assert pg.query("SELECT id, booking_id, created_at, updated_at FROM public.chats ORDER BY id") == sorted(
        (U(c.id), U(c.booking.id), utc(c.created_at), utc(c.updated_at or c.created_at)) for c in chats)
    got = pg.query("SELECT id, chat_id, sender_id, content, is_read, created_at FROM public.chat_messages ORDER BY id")
    want = sorted((U(m.id), U(m.chat.id), U(m.sender.new_id), m.content, not m.unread, utc(m.created_at))
                  for m in messages)
    assert got == want
    assert {m.text.replace("\x00", "") for m in messages if not m.image} == set(HOSTILE_TEXTS_CLEAN)
    assert pg.query("SELECT id, owner_id, file_path, media_type::text, chat_message_id, is_preview_image "
                    "FROM public.media ORDER BY id") == sorted(
        (U(r.media_id(m.id)), U(m.sender.new_id), m.file_path, "chat_image", U(m.id), False)
        for m in messages if m.image)
    roles = dict(pg.query("SELECT p.role::text, count(*) FROM public.chat_messages m "
                          "JOIN public.profiles p ON p.id = m.sender_id GROUP BY 1"))
    assert roles == {role: sum(m.sender.role == role for m in messages) for role in ("customer", "stylist")}


def test_rerun_after_success_changes_nothing(world: World) -> None:
    hostile(world)
    create(extracted(world).temp_dir, world.url)
    before = world.pg.snapshot()
    again = create(world.temp_dir, world.url)
    c = again.counts
    assert (c.chats.created, c.messages.created, c.media.created) == (0, 0, 0)
    assert (c.chats.present, c.messages.present, c.media.present) == (2, 17, 2)
    assert (c.chats.failed, c.messages.failed, c.media.failed) == (0, 0, 0)
    assert world.pg.snapshot() == before
    manifest = read(world, f.CHATS_CREATED)
    assert manifest["created_chats"] == manifest["created_messages"] == manifest["created_media"] == []
    assert {x["id"] for x in manifest["already_present_messages"]} == {m.id for m in world.migrated_messages()}
    assert read(world, f.CREATION_STATS)["message_success_rate"] == "100.00%"


def failing_world(w: World, case: str) -> tuple[Any, list[Any], str]:
    """Three good chats (5 messages each) and one chat that cannot go in: (bad chat, its messages, reason)."""
    for _ in range(3):
        good = w.chat(w.booking())
        for i in range(5):
            w.message(good, is_from=("buyer", "stylist")[i % 2])
    if case == "booking-absent-from-target":
        bad, reason = w.chat(w.booking(in_target=False)), "Booking not found in the target bookings table"
    elif case == "booking-has-an-app-chat":
        bad, reason = w.chat(w.booking()), "Booking already has another chat (chats.booking_id is unique)"
    else:  # two legacy chats (different buyer rows) link one booking; the second in file order fails
        shared = w.booking()
        first, second = sorted([w.chat(shared), w.chat(shared, buyer=w.buyer())], key=lambda c: c.dump_id)
        bad, reason = second, "Another chat in this migration links the same booking"
        w.message(first, is_from="stylist")
    msgs = [w.message(bad, is_from="buyer"), w.message(bad, is_from="stylist", image=True)]
    extracted(w)
    if case == "booking-has-an-app-chat":
        w.pg.execute("INSERT INTO public.chats (booking_id) VALUES (%s)", (bad.booking.id,))
    return bad, msgs, reason


FAILURE_CASES = ["booking-absent-from-target", "booking-has-an-app-chat", "two-chats-one-booking"]


@pytest.mark.parametrize("case", FAILURE_CASES)
def test_failures_are_isolated_to_the_row(world: World, case: str) -> None:
    bad, msgs, reason = failing_world(world, case)
    app_chats = world.pg.count("chats")
    res = create(world.temp_dir, world.url, max_error_rate=0.5)
    failed = read(world, f.FAILED_CREATION)
    assert failed["failed_chats"] == [{"chat": {"id": bad.id, "booking_id": bad.booking.id}, "error": reason}]
    assert failed["failed_messages"] == [{"message": {"id": m.id, "chat_id": bad.id}, "error": "Chat was not created"}
                                         for m in sorted(msgs, key=lambda m: m.id)]
    assert [x["media"]["message_id"] for x in failed["failed_media"]] == [msgs[1].id]
    good_msgs = [m for m in world.migrated_messages() if m.chat is not bad]
    assert res.counts.chats.created == world.pg.count("chats") - app_chats == len(world.migrated_chats()) - 1
    assert {str(x[0]) for x in world.pg.query("SELECT id FROM public.chat_messages")} == {m.id for m in good_msgs}
    stats = read(world, f.CREATION_STATS)
    assert (stats["failed_chat_creations"], stats["failed_message_creations"]) == (1, 2)
    n = len(world.migrated_chats())
    assert stats["chat_success_rate"] == f"{100 * (n - 1) / n:.2f}%"
    assert stats["message_success_rate"] == f"{100 * len(good_msgs) / (len(good_msgs) + 2):.2f}%"
    manifest = read(world, f.CHATS_CREATED)
    assert bad.id not in {x["id"] for x in manifest["created_chats"]}


def test_threshold_exceeded_commits_nothing(world: World) -> None:
    bad, msgs, _ = failing_world(world, "booking-absent-from-target")  # 3 of 21 rows fail: 14% > 5%
    before = world.pg.snapshot()
    with pytest.raises(ThresholdExceeded) as exc:
        create(world.temp_dir, world.url)
    assert exc.value.exit_code == 1 and "nothing was committed" in str(exc.value)
    assert world.pg.snapshot() == before
    failed = read(world, f.FAILED_CREATION)
    assert [x["chat"]["id"] for x in failed["failed_chats"]] == [bad.id]
    assert {x["message"]["id"] for x in failed["failed_messages"]} == {m.id for m in msgs}
    assert read(world, f.CREATION_STATS)["committed"] is False
    assert not (world.temp_dir / f.CHATS_CREATED).exists()


@pytest.mark.parametrize("nothing_to_create", [False, True], ids=["some-rows", "nothing-to-create"])
def test_success_rates_are_percent_strings(world: World, nothing_to_create: bool) -> None:
    if nothing_to_create:  # every chat is skipped in step 1; a migrated booking keeps preflight happy
        world.booking()
        world.message(world.chat(world.booking(), active=False))
    else:
        hostile(world)
    create(extracted(world).temp_dir, world.url)
    stats = read(world, f.CREATION_STATS)
    rates = [stats[k] for k in ("chat_success_rate", "message_success_rate", "media_success_rate")]
    assert rates == (["0.00%"] * 3 if nothing_to_create else ["100.00%"] * 3)
    assert all(re.fullmatch(r"\d{1,3}\.\d\d%", x) for x in rates)


@pytest.mark.parametrize("indexes", [True, False], ids=["indexes", "skip-indexes"])
def test_plan_indexes(world: World, indexes: bool) -> None:
    world.message(world.chat(world.booking()))
    create(extracted(world).temp_dir, world.url, indexes=indexes)
    names = {name for name, *_ in INDEXES}
    assert len(names) == 7
    built = names - {"idx_chats_booking_id"}  # chats_booking_id_key (the UNIQUE constraint's) serves it
    present = world.pg.index_names() & names
    assert present == (built if indexes else set())
    assert "chats_booking_id_key" in world.pg.index_names()
    # with or without indexes, the loaded tables' statistics are fresh (validation plans its joins on them)
    analyzed = world.pg.query("SELECT schemaname || '.' || relname FROM pg_stat_user_tables "
                             "WHERE last_analyze IS NOT NULL")
    assert {"public.chats", "public.chat_messages", "public.media", "chatmigrate.run_rows"} <= {a for (a,) in analyzed}


# --------------------------------------------------------------------------- crash safety

CHATS, PER_CHAT = 200, 100  # 20,000 messages (few per chat: the plan's per-chat subqueries are quadratic)


def big(w: World) -> World:
    for i in range(CHATS):
        chat = w.chat(w.booking())
        for j in range(PER_CHAT):
            w.message(chat, is_from=("buyer", "stylist")[j % 2], image=j == 7,
                      text=None if j == 7 else f"melding {i}/{j}: " + "hei; ),( " * (j % 9))
    return extracted(w)


def _wait(pred: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.002)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.parametrize("moment", ["during-copy", "blocked-after-chats-inserted"])
def test_kill_mid_load_leaves_target_as_before_and_rerun_finishes(world: World, moment: str) -> None:
    big(world)
    pg, total = world.pg, {"chats": CHATS, "chat_messages": CHATS * PER_CHAT, "media": CHATS}
    before = pg.snapshot()
    assert pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}
    cmd = [sys.executable, "-m", "chatmigrate", "create", "--temp-dir", str(world.temp_dir),
           "--database-url", world.url]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MYSQL_DUMP_PATH")}
    watch = pg.connect()
    caught = None
    for _attempt in range(10):
        blocker = pg.connect(autocommit=False)
        if moment == "blocked-after-chats-inserted":  # INSERT INTO chat_messages waits behind this lock
            blocker.execute("LOCK TABLE public.chat_messages IN SHARE MODE")
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def loading(proc: subprocess.Popen[bytes] = proc) -> Any:  # called in this iteration only
            for _pid, state, wait, query in watch.execute(
                    "SELECT pid, state, wait_event_type, query FROM pg_stat_activity WHERE datname = %s "
                    "AND application_name = 'chatmigrate'", (pg.name,)).fetchall():
                if moment == "during-copy" and state == "active" and query.startswith("COPY cm_stage_msg"):
                    return query
                if wait == "Lock" and query.startswith("INSERT INTO public.chat_messages"):
                    return query
            return "exited" if proc.poll() is not None else None

        seen = _wait(loading, 60, "the create process to start loading")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        blocker.rollback()
        blocker.close()
        _wait(lambda: not pg.backends(), 30, "the killed process's backend to end")
        counts = pg.counts()
        if counts == total and seen == "exited":  # finished before we could kill it: start over
            pg.execute("TRUNCATE public.chats CASCADE")
            continue
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
        assert counts == {"chats": 0, "chat_messages": 0, "media": 0}, f"killed {moment}: partial data {counts}"
        caught = seen
        break
    assert caught and caught != "exited", "never caught the create process mid-load"
    assert pg.snapshot() == before
    assert not (world.temp_dir / f.CHATS_CREATED).exists()

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert pg.counts() == total
    res = validate(str(world.dump_path), world.temp_dir, world.url)
    assert res.is_valid, res.doc["validation_errors"]
    watch.close()
