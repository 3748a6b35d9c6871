"""Fixtures for the tests of ``chatmigrate.postgres``: a fresh seeded target per test.

``target``: a throw-away database with the target schema (``pgdb.throwaway``) and the
people and bookings of ``pgrows.seed``, as ``(database, seeded ids)``; dropped afterwards.
Using it marks the test ``postgres`` (through the ``postgres`` fixture).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import pgdb
import pgrows


@pytest.fixture
def target(postgres: Any) -> Iterator[tuple[pgdb.PgDatabase, pgrows.Seeded]]:
    with pgdb.throwaway("pgtest") as db:
        yield db, pgrows.seed(db)
