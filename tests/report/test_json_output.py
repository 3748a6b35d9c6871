"""``--json`` and ``--quiet`` on run, validate, plan and rollback, and the report a real run writes.

``--json`` prints one JSON document on stdout (the results) and nothing else there;
``--quiet`` prints nothing but errors. A real ``run`` (``world.World``: a real
mariadb-dump dump, a real PostgreSQL target) writes ``phase-6-report.html``, whose
figures, opened in headless Chromium, equal the run's own JSON.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatmigrate import planfiles as pf
from clirun import chatmigrate, one_error_line
from headless import Page, dump_dom
from world import World

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]


@pytest.fixture
def world(mariadb: Any, tmp_path: Path) -> Any:
    w = World(mariadb, tmp_path, "report")
    yield w
    w.close()


def small(w: World) -> World:
    """Two migrated chats (one image), a chat without booking (skipped), an inactive one."""
    for n in range(2):
        chat = w.chat(w.booking())
        for i in range(4):
            w.message(chat, is_from=("buyer", "stylist")[i % 2], image=i == 3 and n == 0)
    w.message(w.chat(None))
    w.message(w.chat(w.booking(), active=False))
    return w.build()


def args(w: World, *more: str) -> list[str]:
    return ["--dump", str(w.dump_path), "--temp-dir", str(w.temp_dir), "--database-url", w.url, *more]


def test_run_json_piped_into_python_prints_true(world: World, tmp_path: Path) -> None:
    small(world)
    cmd = " ".join(shlex.quote(x) for x in [sys.executable, "-m", "chatmigrate", "run", *args(world), "--json"])
    reader = shlex.quote(sys.executable) + " -c 'import json,sys; print(json.load(sys.stdin)[\"is_valid\"])'"
    proc = subprocess.run(f"{cmd} | {reader}", shell=True, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, executable="/bin/bash")
    assert proc.returncode == 0 and proc.stdout == "True\n", proc.stderr


def test_run_json_is_the_whole_stdout_and_the_report_shows_it(world: World, tmp_path: Path) -> None:
    small(world)
    proc = chatmigrate("run", *args(world), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole of stdout is one document
    assert doc["is_valid"] is True and doc["success"] is True and doc["link_mode"] == "strict"
    assert doc["migration_stats"] == pf.read_migration_stats(world.temp_dir)
    assert doc["validation"] == pf.read_validation_results(world.temp_dir)
    assert Path(doc["files"]["report"]) == world.temp_dir / pf.REPORT
    assert "Step 1" not in proc.stderr + proc.stdout  # the summaries are not printed at all
    creation = pf.read_creation_stats(world.temp_dir)
    meta = pf.read_extracted_metadata(world.temp_dir)
    assert meta is not None
    p = Page(dump_dom(world.temp_dir / pf.REPORT, tmp_path))
    # the chat without a booking is 1 of 4 active chats: step 1's alert (threshold 1%) makes it a warning
    assert (p.figures["is_valid"], p.figures["rating"], p.figures["link_mode"]) == (
        "true", "pass with warnings", "strict")
    assert [a for a in meta["alerts"] if "no booking in the legacy data" in a] and "1 alerts from step 1" in p.text
    assert p.figure("messages.source") == doc["validation"]["total_mysql_messages"] == 10
    assert p.figure("messages.migrated") == creation["successfully_created_messages"] == 8
    assert p.figure("chats.migrated") == creation["successfully_created_chats"] == 2
    assert p.figure("messages.failed") == creation["failed_message_creations"] == 0
    for reason, n in meta["skip_reasons"]["chats"].items():
        assert p.figure(f"chats.skipped.{reason}") == n
    for check in doc["validation"]["sql_checks"]:
        if check["status"] != "INFO":
            assert p.figures[f"check.{check['id']}"] == check["status"]
    steps = doc["migration_stats"]["steps"]
    shown = float(p.figures["seconds.extract"].replace(",", ""))  # two decimals
    assert shown == pytest.approx(steps["extraction"]["duration_seconds"], abs=0.005)
    assert p.figure("rows.create") == 2 + 8 + 1  # chats, messages, media inserted


def test_validate_json_and_quiet(world: World, tmp_path: Path) -> None:
    small(world)
    assert chatmigrate("run", *args(world), "--quiet", cwd=tmp_path).returncode == 0
    world.pg.execute("DELETE FROM public.chat_messages WHERE id = %s", (world.migrated_messages()[0].id,))
    proc = chatmigrate("validate", *args(world), "--json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["is_valid"] is False and doc["missing_messages"] and doc["files"]["report"]
    quiet = chatmigrate("validate", *args(world), "--quiet", cwd=tmp_path)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (1, "", "")
    p = Page((world.temp_dir / pf.REPORT).read_text(encoding="utf-8"))
    assert (p.figures["is_valid"], p.figures["rating"]) == ("false", "fail")


def test_quiet_run_prints_nothing(world: World, tmp_path: Path) -> None:
    small(world)
    proc = chatmigrate("run", *args(world), "--quiet", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert (world.temp_dir / pf.REPORT).is_file()


def test_plan_json(world: World, tmp_path: Path) -> None:
    small(world)
    proc = chatmigrate("plan", "--dump", str(world.dump_path), "--temp-dir", str(world.temp_dir), "--json",
                       cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    written = pf.read_impact(world.temp_dir)
    assert doc["modes"] == written["modes"] and doc["files"]["impact"] == str(world.temp_dir / pf.IMPACT)
    assert doc["modes"]["strict"]["messages_migrating"] == 8


def test_rollback_json(world: World, tmp_path: Path) -> None:
    small(world)
    assert chatmigrate("run", *args(world), "--quiet", cwd=tmp_path).returncode == 0
    report = (world.temp_dir / pf.REPORT).read_bytes()
    proc = chatmigrate("rollback", "--temp-dir", str(world.temp_dir), "--database-url", world.url, "--json",
                       cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["deleted"] == {"chats": 2, "messages": 8, "media": 1} and isinstance(doc["run_id"], int)
    folder = Path(doc["rolled_back_folder"])
    assert folder.parent == world.temp_dir / pf.ROLLED_BACK and folder.name.endswith(f"-run-{doc['run_id']}")
    assert pf.REPORT in doc["moved_files"] and not (world.temp_dir / pf.REPORT).exists()
    assert (folder / pf.REPORT).read_bytes() == report
    assert json.loads((folder / pf.ROLLBACK_RECORD).read_text())["files_moved"] == doc["moved_files"]
    assert world.pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}


@pytest.mark.parametrize("flag", ["--json", "--quiet"])
def test_an_error_is_one_line_on_stderr_and_stdout_stays_empty(world: World, tmp_path: Path, flag: str) -> None:
    small(world)
    proc = chatmigrate("run", "--dump", str(tmp_path / "absent.sql"), "--temp-dir", str(world.temp_dir),
                       "--database-url", world.url, flag, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "absent.sql" in one_error_line(proc.stdout, proc.stderr)
