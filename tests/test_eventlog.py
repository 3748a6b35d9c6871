"""The event log (``--log-file``): JSON lines, created 0600, never through a planted path.

As a library (``chatmigrate.eventlog``) and as the CLI writes it: a whole ``run`` logs its
command, every task with its seconds, each step's counts (equal to the JSON the run prints),
its warnings, and its end; a failing command logs its one-sentence error and exit code,
and never the password of the URL.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from chatmigrate.errors import UsageError
from chatmigrate.eventlog import EventLog, LoggedProgress
from clirun import chatmigrate
from progressrec import Recording
from world import World

PASSWORD = "Log-s3cret-Pw9"


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- the file


def test_log_is_created_0600_and_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        log.emit("one", n=1)
    with EventLog(path) as log:
        log.emit("two", text="<script>\x1b[31m")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    got = events(path)
    assert [e["event"] for e in got] == ["one", "two"]
    assert got[1]["text"] == "<script>\x1b[31m"  # JSON-escaped on disk, the value intact
    assert "\x1b" not in path.read_text(encoding="utf-8")
    assert all(e["ts"].endswith("Z") and len(e["ts"]) == 24 for e in got)


def test_an_existing_log_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("")
    path.chmod(0o644)
    EventLog(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("plant", ["symlink", "hardlink", "directory", "fifo"])
def test_a_planted_path_is_refused(tmp_path: Path, plant: str) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    path = tmp_path / "events.jsonl"
    if plant == "symlink":
        path.symlink_to(victim)
    elif plant == "hardlink":
        os.link(victim, path)
    elif plant == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    with pytest.raises(UsageError, match="--log-file"):
        EventLog(path)
    assert victim.read_text() == "keep\n"


def test_no_path_logs_nothing(tmp_path: Path) -> None:
    log = EventLog(None)
    log.emit("ignored")
    assert not log.enabled and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- progress


def test_logged_progress_passes_everything_on_and_logs_tasks(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "events.jsonl"
    inner = Recording()
    now = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    with EventLog(path) as log:
        p = LoggedProgress(inner, log)
        p.start("reading dump.sql", 100, "bytes")
        for t, done in ((0.5, 10), (1.2, 40), (1.4, 60), (2.6, 80)):  # logged: at 1.2 and 2.6 s
            now[0] = t
            p.update(done)
        now[0] = 3.0
        p.finish()
        p.start("classifying", None)  # never finished: closed by the task that follows
        now[0] = 4.0
        p.start("inserting", None)
    assert inner.calls == [("start", "reading dump.sql", 100, "bytes"), ("update", 10), ("update", 40),
                           ("update", 60), ("update", 80), ("finish",), ("start", "classifying", None, "rows"),
                           ("start", "inserting", None, "rows")]
    got = [(e["event"], e.get("label"), e.get("done"), e.get("seconds")) for e in events(path)]
    assert got == [("task_started", "reading dump.sql", None, None), ("task_progress", "reading dump.sql", 40, None),
                   ("task_progress", "reading dump.sql", 80, None), ("task_finished", "reading dump.sql", 80, 3.0),
                   ("task_started", "classifying", None, None), ("task_finished", "classifying", 0, 1.0),
                   ("task_started", "inserting", None, None)]
    assert events(path)[3]["rows_per_second"] == 27


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def world(mariadb: Any, tmp_path: Path) -> Any:
    w = World(mariadb, tmp_path, "evlog")
    yield w
    w.close()


@pytest.mark.postgres
def test_a_whole_run_is_logged_with_the_counts_it_prints(world: World, tmp_path: Path) -> None:
    for n in range(3):
        chat = world.chat(world.booking())
        for i in range(5):
            world.message(chat, is_from=("buyer", "stylist")[i % 2], image=i == 4 and n == 0)
    world.message(world.chat(None))  # a chat skipped with a reason
    world.build()
    log = tmp_path / "run.jsonl"
    url = world.url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    proc = chatmigrate("run", "--dump", str(world.dump_path), "--temp-dir", str(world.temp_dir), "--database-url",
                       url, "--json", "--log-file", str(log), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    got = events(log)
    kinds = [e["event"] for e in got]
    assert kinds[0] == "command_started" and got[0]["command"] == "run"
    assert kinds[-1] == "command_finished" and got[-1]["exit_code"] == 0
    steps = {e["step"]: e for e in got if e["event"] == "step_finished"}
    assert list(steps) == ["extraction", "creation", "validation"]
    ex = doc["migration_stats"]["steps"]["extraction"]
    assert steps["extraction"]["processed_messages"] == ex["processed_messages"] == 15
    assert steps["extraction"]["skipped_chats"] == ex["skipped_chats"] == 1
    assert steps["creation"]["messages"] == {"attempted": 15, "created": 15, "already_present": 0, "failed": 0}
    assert steps["creation"]["media"]["created"] == 1 and steps["creation"]["run_id"] >= 1
    assert steps["validation"]["is_valid"] is True and doc["is_valid"] is True
    assert steps["validation"]["expected_messages"] == doc["validation"]["expected_messages"] == 15
    labels = [e["label"] for e in got if e["event"] == "task_finished"]
    assert any(x.startswith("extract, pass 1 of 2: reading") for x in labels), labels
    assert any(x.startswith("create: inserting the messages") for x in labels), labels
    starts = [e["label"] for e in got if e["event"] == "task_started"]
    assert sorted(starts) == sorted(labels)  # every task that began also ended
    assert PASSWORD not in log.read_text(encoding="utf-8")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_failing_command_logs_its_error_and_exit_code(tmp_path: Path) -> None:
    log = tmp_path / "validate.jsonl"
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/nowhere"
    proc = chatmigrate("validate", "--dump", str(tmp_path / "absent.sql"), "--temp-dir", str(tmp_path),
                       "--database-url", url, "--log-file", str(log), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    got = events(log)
    assert [e["event"] for e in got] == ["command_started", "error", "command_finished"]
    assert got[1]["exit_code"] == got[2]["exit_code"] == 2
    assert got[1]["text"] in proc.stderr.replace("\n", " ") or got[1]["text"][:40] in proc.stderr
    assert PASSWORD not in log.read_text(encoding="utf-8") + proc.stderr


def test_a_log_file_that_cannot_be_opened_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "victim").write_text("keep\n")
    (tmp_path / "planted.jsonl").symlink_to(tmp_path / "victim")
    proc = chatmigrate("extract", "--dump", str(tmp_path / "x.sql"), "--temp-dir", str(tmp_path),
                       "--log-file", str(tmp_path / "planted.jsonl"), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "symbolic link" in proc.stderr and "--log-file" in proc.stderr
    assert (tmp_path / "victim").read_text() == "keep\n"
