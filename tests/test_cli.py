"""The ``chatmigrate`` command line as a user meets it: ``python -m chatmigrate`` in a subprocess.

Exit codes (0 success, 1 the migration or validation found problems, 2 bad input or
usage), errors as one line starting with ``error:`` and no traceback unless
``--debug``, a password in the database URL never printed nor written to any file,
``validate --sql`` printing a suite psql can run, and ``run`` writing
``phase-6-migration-stats.json``. Worlds are built with ``world.World`` (real
MariaDB dump, real PostgreSQL target); ``DATABASE_URL`` / ``MYSQL_DUMP_PATH`` are
removed from the environment unless a test sets them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import pgdb
from chatmigrate import planfiles as f
from world import World

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]
PASSWORD = "Hunter2-s3cret-Pw"
UNREACHABLE = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/nowhere"


@pytest.fixture
def world(mariadb: Any, tmp_path: Path) -> Any:
    w = World(mariadb, tmp_path, "cli")
    yield w
    w.close()


def chatmigrate(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MYSQL_DUMP_PATH")}
    return subprocess.run([sys.executable, "-m", "chatmigrate", *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=300)


def with_password(url: str, password: str = PASSWORD) -> str:
    return url.replace(f"postgresql://{pgdb.USER}@", f"postgresql://{pgdb.USER}:{password}@")


def assert_secret_kept(proc: subprocess.CompletedProcess[str], root: Path, secret: str = PASSWORD) -> None:
    leaked = [name for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr)) if secret in text]
    leaked += [str(p) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert not leaked, f"the password {secret!r} appears in {leaked}:\n{proc.stderr}"


def assert_one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The error is one line, the last on stderr; only progress log lines ("… step") may precede it."""
    assert "Traceback" not in proc.stderr + proc.stdout
    *before, last = proc.stderr.strip().splitlines()
    assert last.startswith("error: ") and all(x.startswith("… ") for x in before), proc.stderr
    return last


def small(w: World, *, failing: bool = False) -> World:
    """Two migrated chats and a skipped one; ``failing`` adds a chat whose booking is absent from the target."""
    for n in range(2):
        chat = w.chat(w.booking())
        for i in range(4):
            w.message(chat, is_from=("buyer", "stylist")[i % 2], image=i == 3 and n == 0)
    w.message(w.chat(None))
    if failing:
        w.message(w.chat(w.booking(in_target=False)))
    return w.build()


# --------------------------------------------------------------------------- 0: success


def test_run_succeeds_and_writes_the_stats_file(world: World, tmp_path: Path) -> None:
    small(world)
    proc = chatmigrate("run", "--dump", str(world.dump_path), "--temp-dir", str(world.temp_dir),
                       "--database-url", with_password(world.url), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "error:" not in proc.stderr
    assert "is_valid: true" in proc.stdout and "success" in proc.stdout
    stats = json.loads((world.temp_dir / f.MIGRATION_STATS).read_text(encoding="utf-8"))
    assert {"phase", "started_at", "completed_at", "duration_seconds", "success", "steps"} <= set(stats)
    assert stats["phase"] == 6 and stats["success"] is True
    assert {"extraction", "creation", "validation"} <= set(stats["steps"])
    assert all(stats["steps"][s]["success"] is True for s in ("extraction", "creation", "validation"))
    started, completed = (datetime.fromisoformat(stats[k].replace("Z", "+00:00"))
                          for k in ("started_at", "completed_at"))
    assert started <= completed and stats["duration_seconds"] >= 0
    assert stats["steps"]["creation"]["successfully_created_messages"] == 8
    assert world.pg.counts() == {"chats": 2, "chat_messages": 8, "media": 1}
    assert_secret_kept(proc, tmp_path)


# --------------------------------------------------------------------------- 1: problems found


def test_validate_finds_a_deleted_message_exit_1(world: World, tmp_path: Path) -> None:
    small(world)
    env = {"MYSQL_DUMP_PATH": str(world.dump_path), "DATABASE_URL": with_password(world.url)}  # env fallbacks
    assert chatmigrate("run", "--temp-dir", str(world.temp_dir), cwd=tmp_path, env=env).returncode == 0
    world.pg.execute("DELETE FROM public.chat_messages WHERE id = %s", (world.migrated_messages()[0].id,))
    proc = chatmigrate("validate", "--temp-dir", str(world.temp_dir), cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    assert "is_valid: false" in proc.stdout and "Traceback" not in proc.stderr
    assert world.migrated_messages()[0].id in (world.temp_dir / f.VALIDATION_RESULTS).read_text(encoding="utf-8")
    assert_secret_kept(proc, tmp_path)


@pytest.mark.parametrize("max_rate, committed", [("0.5", True), ("0.05", False)],
                         ids=["failed-rows-under-threshold", "threshold-exceeded"])
def test_create_with_failed_rows_exit_1(world: World, tmp_path: Path, max_rate: str, committed: bool) -> None:
    small(world, failing=True)  # 2 of 12 rows fail: 17%
    assert chatmigrate("extract", "--dump", str(world.dump_path), "--temp-dir", str(world.temp_dir),
                       cwd=tmp_path).returncode == 0
    proc = chatmigrate("create", "--temp-dir", str(world.temp_dir), "--database-url", with_password(world.url),
                       "--max-error-rate", max_rate, cwd=tmp_path)
    assert proc.returncode == 1
    assert (world.temp_dir / f.FAILED_CREATION).is_file()
    if committed:
        assert "Traceback" not in proc.stderr and "error:" not in proc.stderr
        assert world.pg.counts() == {"chats": 2, "chat_messages": 8, "media": 1}
    else:
        line = assert_one_error_line(proc)
        assert "--max-error-rate" in line and "nothing was committed" in line
        assert world.pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}
    assert_secret_kept(proc, tmp_path)


# --------------------------------------------------------------------------- 2: bad input


def bad_input(case: str, w: World, tmp: Path) -> list[str]:
    temp, empty = str(w.temp_dir), str(tmp / "empty")
    if case == "missing-dump-file":
        w.build(target=False)
        return ["extract", "--dump", str(tmp / "nope.sql"), "--temp-dir", temp]
    if case == "missing-phase-files":
        (tmp / "legacy.sql").write_text("-- empty\n")
        return ["extract", "--dump", str(tmp / "legacy.sql"), "--temp-dir", empty]
    if case == "missing-step1-output":
        return ["create", "--temp-dir", empty, "--database-url", UNREACHABLE]
    if case == "missing-manifest":
        return ["rollback", "--temp-dir", empty, "--database-url", UNREACHABLE]
    if case == "unreachable-database-create":
        w.build(target=False)
        w.temp_dir.joinpath(f.CHATS_EXTRACTED).write_text('{"metadata": {}}')
        return ["create", "--temp-dir", temp, "--database-url", UNREACHABLE]
    if case == "unreachable-database-run":
        w.build(target=False)
        return ["run", "--dump", str(w.dump_path), "--temp-dir", temp, "--database-url", UNREACHABLE]
    assert case == "unreachable-database-schema"
    return ["schema", "--database-url", UNREACHABLE]


BAD_INPUT = ["missing-dump-file", "missing-phase-files", "missing-step1-output", "missing-manifest",
             "unreachable-database-create", "unreachable-database-run", "unreachable-database-schema"]


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_exit_2_with_one_error_line(world: World, tmp_path: Path, case: str) -> None:
    world.message(world.chat(world.booking()))
    args = bad_input(case, world, tmp_path)
    proc = chatmigrate(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = assert_one_error_line(proc)
    expected = {"missing-dump-file": "nope.sql", "missing-phase-files": "user-id-mapping.json",
                "missing-step1-output": "chats-extracted.json", "missing-manifest": "chats-created.json"}
    assert expected.get(case, "cannot connect") in line
    if case.startswith("unreachable"):
        assert "postgresql://postgres:***@127.0.0.1:1/nowhere" in line
    if case == "unreachable-database-run":
        stats = json.loads((world.temp_dir / f.MIGRATION_STATS).read_text(encoding="utf-8"))
        assert stats["success"] is False and "cannot connect" in stats["steps"]["error"]
    assert_secret_kept(proc, tmp_path)


@pytest.mark.parametrize("command", ["schema", "run"])
@pytest.mark.parametrize("password", ["pa ss word", "50%off-Pw"], ids=["space", "percent-sign"])
def test_password_never_shown_even_when_the_url_is_malformed(tmp_path: Path, password: str, command: str) -> None:
    """libpq quotes the offending password in its parse error; chatmigrate must not repeat it anywhere."""
    pgdb.require()
    url = pgdb.url_for("postgres", password=password)
    temp = tmp_path / "temp"
    temp.mkdir()  # phase inputs that pass run's preflight up to the database connection
    (temp / "user-id-mapping.json").write_text('{"metadata": {}, "mapping": {}}')
    (temp / "bookings-created.json").write_text('{"metadata": {}, "results": [{"id": "b", "success": true}]}')
    args = {"schema": ["schema"], "run": ["run", "--dump", str(tmp_path / "legacy.sql"), "--temp-dir", str(temp)]}
    proc = chatmigrate(*args[command], "--database-url", url, cwd=tmp_path)
    assert proc.returncode == 2
    assert_one_error_line(proc)
    assert_secret_kept(proc, tmp_path, password)


def test_missing_required_option_exit_2_without_traceback(tmp_path: Path) -> None:
    proc = chatmigrate("extract", "--temp-dir", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--dump" in proc.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    plain = chatmigrate("extract", "--dump", str(tmp_path / "nope.sql"), "--temp-dir", str(tmp_path), cwd=tmp_path)
    debug = chatmigrate("--debug", "extract", "--dump", str(tmp_path / "nope.sql"), "--temp-dir", str(tmp_path),
                        cwd=tmp_path)
    assert plain.returncode == debug.returncode == 2
    assert "Traceback" not in plain.stderr and "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()


# --------------------------------------------------------------------------- validate --sql


def test_validate_sql_prints_a_suite_psql_runs(tmp_path: Path) -> None:
    proc = chatmigrate("validate", "--sql", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    sql = proc.stdout
    assert "SET default_transaction_read_only = on;" in sql
    assert "FROM chat_messages" in sql and "'Orphaned Chats Check' as validation_check" in sql
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    (tmp_path / "suite.sql").write_text(sql, encoding="utf-8")
    with pgdb.throwaway("clisql") as db:
        run = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url, "-f", str(tmp_path / "suite.sql")],
            capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "ERROR" not in run.stderr
