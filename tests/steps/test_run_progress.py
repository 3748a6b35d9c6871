"""``run`` reports every phase to its Progress object, labelled, in order.

A recording Progress (a real object that keeps every call) is handed to ``run`` on a
small synthetic world (a real mariadb-dump dump, a real PostgreSQL target). Each step's
labels begin with the step's name, the two reads of the dump say which pass they are,
and every task that starts finishes before the next one starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatmigrate import planfiles as f
from chatmigrate.postgres import checks, suite
from chatmigrate.postgres.indexes import INDEXES
from chatmigrate.steps.run import run
from progressrec import Recording
from world import World

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]


@pytest.fixture
def world(mariadb: Any, tmp_path: Path) -> Any:
    w = World(mariadb, tmp_path, "runprogress")
    for n in range(2):
        chat = w.chat(w.booking())
        for i in range(3):
            w.message(chat, is_from=("buyer", "stylist")[i % 2], image=i == 2 and n == 0)
    w.build()
    yield w
    w.close()


def test_run_reports_every_phase_in_order(world: World) -> None:
    rec = Recording()
    res = run(str(world.dump_path), world.temp_dir, world.url, progress=rec)
    assert res.validation.is_valid
    dump = world.dump_path.name
    # a fresh target: the UNIQUE constraint's chats_booking_id_key serves idx_chats_booking_id; the rest are built
    indexes = [f"create: creating index {name} on {table}" for name, table, *_ in INDEXES
               if name != "idx_chats_booking_id"]
    labels = rec.labels()
    assert labels[0].startswith(f"extract, pass 1 of 2: reading {dump}")
    cut = labels.index(f"validate, pass 2 of 2: reading {dump} (begun beside create)") + 1
    assert labels[1:cut] == [
        f"create: reading {f.CHATS_EXTRACTED} (step 1's chats and images)",
        "create: staging messages (COPY)",
        "create: classifying the chats (insert, present or failed)",
        "create: classifying the messages (insert, present or failed)",
        "create: classifying the chat images (insert, present or failed)",
        "create: inserting the chats",
        "create: inserting the messages",
        "create: inserting the chat images",
        *indexes,  # built on a second connection while the manifest is written
        "create: updating the planner's statistics of the loaded tables",  # then the statistics, there too
        f"create: writing {f.CHATS_CREATED}",
        f"validate, pass 2 of 2: reading {dump} (begun beside create)",
    ]
    # then step 3's check, on two connections at once: each label says what both are doing,
    # every reconciliation step and every section of the plan's SQL checks shows, and the
    # count reaches every step of both
    checking = labels[cut:]
    assert checking and all(x.startswith("validate: checking ") for x in checking)
    shown = {part for x in checking for part in x.removeprefix("validate: checking ").split("; ")}
    sections = {f"the plan's SQL checks, {c.section}" for c in suite.checks_for("booking")}
    assert shown == set(checks.STEPS) | sections
    total = len(checks.STEPS) + len(suite.checks_for("booking"))
    assert {c[2] for c in rec.calls if c[0] == "start" and c[1] in checking} == {total}
    assert [c for c in rec.calls if c[0] == "update"][-1] == ("update", total)


def test_every_task_finishes_before_the_next_starts_and_counts_up(world: World) -> None:
    rec = Recording()
    run(str(world.dump_path), world.temp_dir, world.url, progress=rec)
    open_task: str | None = None
    done = 0
    for call in rec.calls:
        if call[0] == "start":
            assert open_task is None, f"{call[1]!r} started while {open_task!r} was running"
            open_task, done = call[1], 0
        elif call[0] == "update":
            assert open_task is not None and call[1] >= done
            done = call[1]
        else:
            assert open_task is not None
            open_task = None
    assert open_task is None and rec.calls[-1] == ("finish",)
    staged = [c for c in rec.calls if c[0] == "start" and c[1] == "create: staging messages (COPY)"]
    assert staged == [("start", "create: staging messages (COPY)", 6, "rows")]  # the total known from step 1
