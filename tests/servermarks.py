"""Every test that reaches a server carries that server's marker -- checked, not hoped for.

``tests/conftest.py`` marks a test from the fixtures it uses (``mariadb`` -> ``mariadb``,
``postgres`` -> ``postgres``, see ``FIXTURE_MARKS`` there) and records here the test being
run. The helpers that reach a server (``pgdb.require`` / ``pgdb.url_for``,
``mariadb.require``) call :func:`check`, which fails a test that got there without the
marker -- so ``-m "not postgres"`` never runs a test that needs PostgreSQL, and a new
test cannot be added unmarked.
"""

from __future__ import annotations

from typing import Any

import pytest

CURRENT: list[Any] = [None]  # the pytest item being set up, run or torn down; None outside pytest


def check(marker: str, what: str) -> None:
    """Fail the running test when it uses ``what`` without ``@pytest.mark.<marker>``."""
    item = CURRENT[0]
    if item is not None and item.get_closest_marker(marker) is None:
        pytest.fail(
            f"{item.nodeid} uses {what} but is not marked: add @pytest.mark.{marker} "
            f"(or use the `{marker}` fixture), so that -m 'not {marker}' deselects it",
            pytrace=False,
        )
