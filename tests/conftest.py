"""Shared fixtures, and the markers a test gets from them.

- ``mariadb``: the session's MariaDB handle (see ``tests/mariadb.py``); every database it
  creates is dropped when the session ends. Skips without MariaDB, fails when ``CI=true``.
- ``postgres``: PostgreSQL answers (see ``tests/pgdb.py``; its value is that module). Skips
  without it, fails when ``CI=true``.
- markers: a test using ``mariadb`` (directly or through another fixture) is marked
  ``mariadb``, one using ``postgres`` is marked ``postgres``, one using ``boundary_sweep``
  is marked ``slow``. A test that reaches a server without its marker fails
  (``tests/servermarks.py``).
- ``make_dump`` / ``read_dump``: build a small mysqldump text in memory (a MariaDB-style
  header and trailer around the given statements) and read it back with ``DumpReader``
  as ``[(table, values), ...]``.
- ``boundary_sweep``: read one dump many times so that the reader's buffer ends at every
  byte of a chosen segment (see :func:`sweep_boundaries`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import mariadb as mariadb_helper
import pgdb
import servermarks
from chatmigrate.dump import DumpReader
from chatmigrate.errors import DumpError

HEADER = (
    b"/*M!999999\\- enable the sandbox mode */ \n"
    b"-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n"
    b"--\n-- Host: 127.0.0.1    Database: legacy\n"
    b"-- ------------------------------------------------------\n"
    b"-- Server version\t10.11.19-MariaDB\n\n"
    b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
    b"/*!40101 SET NAMES utf8mb4 */;\n"
    b"/*!40103 SET TIME_ZONE='+00:00' */;\n\n"
)
TRAILER = (
    b"\n/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n\n"
    b"-- Dump completed on 2024-05-01 10:00:00\n"
)


def build_dump(*statements: str | bytes, header: bool = True, trailer: bool = True) -> bytes:
    """The statements (each a str or bytes, written as given) one per line, framed like a dump."""
    body = b"\n".join(s.encode("utf-8") if isinstance(s, str) else s for s in statements) + b"\n"
    return (HEADER if header else b"") + body + (TRAILER if trailer else b"")


def read_values(data: bytes, tables: Any = None, **reader_options: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every row the reader yields for ``data``, as ``(table, values)``."""
    return [(row.table, row.values) for row in DumpReader(io.BytesIO(data), tables, **reader_options)]


class TrickleSource(io.BytesIO):
    """A stream with ``peek`` (so the reader uses it as it is) recording where each read ends."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.ends: list[int] = []

    def peek(self, size: int = 1) -> bytes:
        pos = self.tell()
        return self.getbuffer()[pos : pos + max(size, 1)].tobytes()

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.ends.append(self.tell())
        return data


def _refill_point(ends: list[int], after: int) -> int | None:
    """The first read end past ``after`` where the reader stopped growing its buffer.

    The reader reads ahead in growing steps before it parses a statement; the read end
    after which the next read is smaller is where parsing first meets the end of the
    buffer (and where a boundary bug would show).
    """
    sizes = [b - a for a, b in zip([0, *ends], ends, strict=False)]
    for i in range(len(ends) - 1):
        if ends[i] > after and 0 < sizes[i + 1] < sizes[i]:
            return ends[i]
    return None


def sweep_boundaries(
    before: bytes, segment: bytes, after: bytes, *, expected: Any, chunk_size: int, tables: Any = None,
    skip_rows: int = 0,
) -> int:
    """Read ``before + b"x" * pad + segment + after`` once for every offset ``j`` of
    ``segment``, with ``pad`` chosen so the reader's buffer ends right before
    ``segment[j]``, and assert the rows (after the first ``skip_rows``) equal ``expected``.

    ``before`` must end where a run of ``x`` is harmless (inside a string or comment of
    a statement). A failure lists every offset that went wrong as ``j: «before|after»
    -> outcome``. Also fails if some offset could not be reached, so the sweep never
    silently tests nothing. Returns the number of reads done.
    """
    assert segment[:1] != b"x", "the segment must not start with the padding byte"

    def run(pad: int) -> tuple[int | None, Any]:
        src = TrickleSource(before + b"x" * pad + segment + after)
        try:
            rows: Any = [(r.table, r.values) for r in DumpReader(src, tables, chunk_size=chunk_size)][skip_rows:]
        except DumpError as exc:
            rows = exc
        return _refill_point(src.ends, len(before)), rows

    edge, _ = run(1 << 18)
    assert edge is not None, "the reader never refilled inside the padding: the sweep needs a new layout"
    missed, wrong = [], []
    for j in range(len(segment)):
        got_edge, rows = run(edge - j - len(before))
        if rows != expected:
            wrong.append(f"{j}: «{segment[max(0, j - 8):j]!r}|{segment[j:j + 8]!r}» -> {rows!r}"[:240])
        elif got_edge != edge:
            missed.append(j)
    assert not wrong, f"{len(wrong)} of {len(segment)} buffer boundaries give other rows:\n" + "\n".join(wrong[:25])
    assert not missed, f"could not put a buffer boundary at segment offsets {missed}"
    return len(segment)


@pytest.fixture(scope="session")
def boundary_sweep() -> Callable[..., int]:
    return sweep_boundaries


@pytest.fixture(scope="session")
def make_dump() -> Callable[..., bytes]:
    return build_dump


@pytest.fixture(scope="session")
def read_dump() -> Callable[..., list[tuple[str, dict[str, Any]]]]:
    return read_values


@pytest.fixture(scope="session")
def mariadb() -> Iterator[mariadb_helper.MariaDB]:
    server = mariadb_helper.require()
    try:
        yield server
    finally:
        server.drop_all()


@pytest.fixture(scope="session")
def postgres() -> Any:
    pgdb.require()
    return pgdb


FIXTURE_MARKS = {"mariadb": "mariadb", "postgres": "postgres", "boundary_sweep": "slow"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in FIXTURE_MARKS and item.get_closest_marker(FIXTURE_MARKS[fixture]) is None:
                item.add_marker(FIXTURE_MARKS[fixture])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    servermarks.CURRENT[0] = item


def pytest_sessionfinish() -> None:
    servermarks.CURRENT[0] = None
