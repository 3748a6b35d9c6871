"""Rollback and create never lie about what is committed, never delete an app row, never crash
on each other -- on a real PostgreSQL, with real roles, policies, locks, threads and processes.

- rollback as a role whose RLS policies hide an app message is refused (it would cascade);
- a delete that would cascade into a table the ledger does not cover is undone and refused;
- index creation that fails (lock timeout) or is interrupted (SIGINT) after the load's commit
  says the load is committed, writes the stats file, and a re-run finishes;
- create and rollback started together wait for each other on the Phase 6 lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pgroles
from chatmigrate import planfiles as f
from chatmigrate.postgres.db import INDEXES
from chatmigrate.postgres.preflight import PreflightError
from chatmigrate.postgres.rollback import CascadeRefused
from chatmigrate.steps.create import LoadCommitted, create
from chatmigrate.steps.rollback import rollback
from world import World, extracted_world

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]
ALL = {"chats": 3, "chat_messages": 9, "media": 3}
NONE = {"chats": 0, "chat_messages": 0, "media": 0}
# the plan's indexes create builds: chats_booking_id_key (its UNIQUE constraint's) serves idx_chats_booking_id
BUILT = {name for name, *_ in INDEXES} - {"idx_chats_booking_id"}


@pytest.fixture
def world(mariadb: Any, tmp_path: Path) -> Any:
    with extracted_world(mariadb, tmp_path, "rbsafety", chats=3) as w:
        yield w


def pg_of(w: World) -> Any:
    assert w.pg is not None
    return w.pg


def some_chat(w: World) -> tuple[str, str]:
    """(id, a sender) of a migrated chat."""
    return pg_of(w).query("SELECT chat_id::text, sender_id::text FROM public.chat_messages LIMIT 1")[0]  # type: ignore[no-any-return]


def test_rollback_under_rls_that_hides_an_app_message_deletes_nothing(world: World) -> None:
    pg = pg_of(world)
    create(world.temp_dir, pg.url)
    chat, sender = some_chat(world)
    pg.execute("INSERT INTO public.chat_messages (chat_id, sender_id, content) VALUES (%s, %s, 'privat')",
               (chat, sender))
    for table in ("chats", "chat_messages", "media"):
        pg.execute(f"CREATE POLICY see_all ON public.{table} USING (true)")
    pg.execute("DROP POLICY see_all ON public.chat_messages")
    pg.execute("CREATE POLICY hide_private ON public.chat_messages USING (content <> 'privat')")
    before = pg.snapshot()
    with pgroles.role(pg, *pgroles.REMOVER) as role, pytest.raises(PreflightError) as exc:
        rollback(world.temp_dir, role.url)
    assert exc.value.exit_code == 2 and "row level security" in str(exc.value)
    assert pg.snapshot() == before
    counts, _ = rollback(world.temp_dir, pg.url)  # as the owner: the app's message and its chat stay
    assert (counts.chats, counts.messages, counts.media, counts.kept_chats) == (2, 9, 3, 1)
    assert pg.query("SELECT content FROM public.chat_messages") == [("privat",)]


def test_a_role_that_does_not_own_the_tables_rolls_back_and_leaves_the_indexes(world: World) -> None:
    pg = pg_of(world)  # it may not create the helper indexes nor drop the plan's: slower, and it says so
    create(world.temp_dir, pg.url)
    before = pg.index_names()
    with pgroles.role(pg, *pgroles.REMOVER, attributes="BYPASSRLS") as role:
        counts, removed = rollback(world.temp_dir, role.url)
    assert (counts.chats, counts.messages, counts.media) == (3, 9, 3) and f.CHATS_CREATED in removed.moved
    assert sorted(counts.indexes_kept) == sorted(BUILT) and counts.indexes_dropped == []
    assert pg.counts() == NONE and pg.index_names() == before


def test_rollback_removes_the_indexes_create_built_and_only_those(world: World) -> None:
    pg = pg_of(world)
    before = pg.index_names()
    create(world.temp_dir, pg.url)
    assert pg.index_names() - before == BUILT
    counts, _ = rollback(world.temp_dir, pg.url)
    assert sorted(counts.indexes_dropped) == sorted(BUILT)
    assert pg.index_names() == before  # chats_booking_id_key, the primary keys: as they were


def test_a_delete_that_would_cascade_outside_the_ledger_is_undone(world: World) -> None:
    pg = pg_of(world)
    create(world.temp_dir, pg.url)
    chat, _ = some_chat(world)
    pg.execute("CREATE TABLE public.chat_pins (chat_id uuid REFERENCES public.chats ON DELETE CASCADE)")
    pg.execute("INSERT INTO public.chat_pins VALUES (%s)", (chat,))
    before = pg.snapshot()
    with pytest.raises(CascadeRefused) as exc:
        rollback(world.temp_dir, pg.url)
    assert "1 row(s) of public.chat_pins" in str(exc.value) and "nothing was deleted" in str(exc.value)
    assert pg.snapshot() == before and pg.query("SELECT count(*) FROM public.chat_pins") == [(1,)]
    assert pg.query("SELECT status FROM chatmigrate.runs") == [("committed",)]


# --------------------------------------------------------------------------- honest commit reporting


def hold(pg: Any, statement: str) -> Any:
    """A connection holding a table lock in an open transaction (rollback() releases it)."""
    conn = pg.connect(autocommit=False)
    conn.execute(statement)
    return conn


def test_index_failure_after_the_commit_says_committed_and_a_rerun_finishes(world: World) -> None:
    pg = pg_of(world)
    blocker = hold(pg, "LOCK TABLE public.media IN ROW EXCLUSIVE MODE")  # inserts pass, CREATE INDEX waits
    impatient = pg.url + "?options=-c%20lock_timeout%3D300ms"
    try:
        with pytest.raises(LoadCommitted) as exc:
            create(world.temp_dir, impatient)
    finally:
        blocker.rollback()
        blocker.close()
    msg = str(exc.value)
    assert exc.value.exit_code == 1
    assert msg.startswith("the load of run 1 is committed (3 chats, 9 messages, 3 media inserted"), msg
    assert "index creation failed" in msg and "lock timeout" in msg and "re-run create" in msg
    assert "nothing was committed" not in msg
    assert pg.counts() == ALL
    stats = json.loads((world.temp_dir / f.CREATION_STATS).read_text(encoding="utf-8"))
    assert (stats["committed"], stats["run_id"], stats["indexes_built"]) == (True, 1, False)
    assert (world.temp_dir / f.CHATS_CREATED).exists()
    assert not pg.index_names() >= BUILT

    again = create(world.temp_dir, pg.url)
    assert again.run_id == 1 and again.counts.messages.present == 9 and again.counts.messages.created == 0
    assert pg.index_names() >= BUILT
    assert json.loads((world.temp_dir / f.CREATION_STATS).read_text(encoding="utf-8"))["indexes_built"] is True


def wait_for(pred: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def waiting(pg: Any, prefix: str) -> bool:
    return any(w == "Lock" and q.startswith(prefix) for _p, _s, w, q in pg.backends())


def cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MYSQL_DUMP_PATH")}


def test_ctrl_c_during_index_creation_says_committed_and_a_rerun_finishes(world: World) -> None:
    pg = pg_of(world)
    cmd = [sys.executable, "-m", "chatmigrate", "create", "--temp-dir", str(world.temp_dir), "--database-url", pg.url]
    blocker = hold(pg, "LOCK TABLE public.media IN ROW EXCLUSIVE MODE")
    try:
        proc = subprocess.Popen(cmd, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: waiting(pg, "CREATE INDEX"), "create to wait in CREATE INDEX")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        blocker.rollback()
        blocker.close()
    text = " ".join(stderr.split())
    assert proc.returncode == 130, stderr
    assert "the load of run 1 is committed (3 chats, 9 messages, 3 media inserted" in text, stderr
    assert "index creation was interrupted" in text and "nothing was committed" not in text
    assert pg.counts() == ALL
    assert json.loads((world.temp_dir / f.CREATION_STATS).read_text(encoding="utf-8"))["committed"] is True
    rerun = subprocess.run(cmd, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert pg.index_names() >= BUILT and pg.counts() == ALL


# --------------------------------------------------------------------------- concurrency


class Step(threading.Thread):
    """A library call in a thread, keeping its result or exception."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn, self.result, self.error = fn, None, None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:
            self.error = exc


# moment: (the lock that holds create there, the statement create then waits in)
MOMENTS = {
    "inserting": ("LOCK TABLE public.chat_messages IN SHARE MODE", "INSERT INTO public.chat_messages"),
    "building-indexes": ("LOCK TABLE public.media IN ROW EXCLUSIVE MODE", "CREATE INDEX"),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_rollback_started_during_create_waits_then_rolls_back_the_committed_run(world: World, moment: str) -> None:
    pg = pg_of(world)
    lock, statement = MOMENTS[moment]
    blocker = hold(pg, lock)
    try:
        creating = Step(lambda: create(world.temp_dir, pg.url))
        creating.start()
        wait_for(lambda: waiting(pg, statement), f"create to wait in {statement}")
        rolling = Step(lambda: rollback(world.temp_dir, pg.url, run_id=1))
        rolling.start()
        wait_for(lambda: waiting(pg, "SELECT pg_advisory_lock"), "rollback to wait for the Phase 6 lock")
    finally:
        blocker.rollback()
        blocker.close()
    creating.join(60)
    rolling.join(60)
    assert creating.error is None and rolling.error is None, (creating.error, rolling.error)
    counts, removed = rolling.result  # type: ignore[misc]
    assert (counts.chats, counts.messages, counts.media) == (3, 9, 3) and f.CHATS_CREATED in removed.moved
    assert pg.counts() == NONE
    assert pg.query("SELECT run_id, status FROM chatmigrate.runs") == [(1, "rolled back")]


def test_create_started_during_rollback_waits_and_finds_its_file_gone(world: World) -> None:
    pg = pg_of(world)
    create(world.temp_dir, pg.url)
    blocker = hold(pg, "LOCK TABLE public.media IN SHARE MODE")  # rollback's table lock waits behind it
    try:
        rolling = Step(lambda: rollback(world.temp_dir, pg.url))
        rolling.start()
        wait_for(lambda: waiting(pg, "LOCK TABLE"), "rollback to wait for its table locks")
        creating = Step(lambda: create(world.temp_dir, pg.url))
        creating.start()
        wait_for(lambda: waiting(pg, "SELECT pg_advisory_lock"), "create to wait for the Phase 6 lock")
    finally:
        blocker.rollback()
        blocker.close()
    rolling.join(60)
    creating.join(60)
    assert rolling.error is None, rolling.error
    err = creating.error
    assert isinstance(err, f.PhaseFileError) and err.exit_code == 2, repr(err)
    assert "removed while create waited" in str(err) and "nothing was written" in str(err)
    assert pg.counts() == NONE
    assert pg.query("SELECT run_id, status FROM chatmigrate.runs") == [(1, "rolled back")]
