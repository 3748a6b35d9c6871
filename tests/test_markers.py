"""The test suite's own rule: a test that needs a server carries its marker.

``-m "not postgres"`` / ``-m "not mariadb"`` must deselect every test that needs that
server, so the markers are set from the fixtures a test uses, and a test that reaches a
server without its marker fails instead of running (``tests/servermarks.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

import mariadb as mariadb_helper
import pgdb


def test_reaching_postgres_unmarked_fails() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"uses PostgreSQL .* but is not marked: add @pytest.mark.postgres"):
        pgdb.require()
    with pytest.raises(pytest.fail.Exception, match="not marked"):
        pgdb.url_for("postgres")


def test_reaching_mariadb_unmarked_fails() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"uses MariaDB .* but is not marked: add @pytest.mark.mariadb"):
        mariadb_helper.require()


@pytest.mark.postgres
def test_a_marked_test_may_reach_its_server() -> None:
    assert pgdb.url_for("postgres").endswith(f"@{pgdb.HOST}:{pgdb.PORT}/postgres")


@pytest.fixture
def through_another_fixture(postgres: Any) -> str:
    return str(postgres.url_for("postgres"))


def test_a_server_fixture_marks_the_test_even_through_another_fixture(
    through_another_fixture: str, request: pytest.FixtureRequest
) -> None:
    assert request.node.get_closest_marker("postgres") is not None
    assert request.node.get_closest_marker("mariadb") is None


def test_the_boundary_sweep_is_slow(boundary_sweep: Any, request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("slow") is not None
