"""The column contract: a table read for its rows must have every column the rules read.

With ``message.message`` renamed in the CREATE TABLE, every message used to be migrated
with empty content (the rules read values with ``.get``); renaming ``chat.booking_id``,
``chat.is_active`` or ``message.chat_id`` gave 0 rows and exit 0. Here each column of
``REQUIRED_COLUMNS`` in turn is renamed in a real MariaDB database, the database is
dumped with mariadb-dump (with its CREATE TABLE, and with --no-create-info
--complete-insert, where only the INSERT's column list names the columns), and the
reader, and step 1 itself, refuse the dump naming the table, the missing column and the
columns found, at the CREATE TABLE (or INSERT) that showed it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from chatmigrate.dump import DumpReader
from chatmigrate.errors import MissingRequiredColumnError
from chatmigrate.phase6.records import CHAT_TABLES, REQUIRED_COLUMNS
from chatmigrate.phase6.rules import legacy_booking, legacy_chat, legacy_message
from chatmigrate.steps.classify import PhaseInputs, classify_dump
from legacy_dumps import COLUMNS, fill

pytestmark = pytest.mark.mariadb

RENAMES = [(table, column) for table, columns in REQUIRED_COLUMNS.items() for column in columns]


def test_the_contract_is_what_the_rules_read() -> None:
    """Each rule function, given a row that records which keys it reads, reads exactly the
    declared columns: a column added to a rule without the contract fails here."""
    class Recorder(dict[str, Any]):
        def __init__(self) -> None:
            super().__init__()
            self.read: list[str] = []

        def __getitem__(self, key: str) -> Any:
            self.read.append(key)
            return "1"

        def get(self, key: str, default: Any = None) -> Any:
            self.read.append(key)
            return "1"

    for table, rule in (("booking", legacy_booking), ("chat", legacy_chat), ("message", legacy_message)):
        row = Recorder()
        rule(row)
        assert sorted(set(row.read)) == sorted(REQUIRED_COLUMNS[table]), table
    assert set(REQUIRED_COLUMNS) == set(CHAT_TABLES)


@pytest.fixture(scope="module")
def renamed_dumps(mariadb, tmp_path_factory) -> dict[tuple[str, str], dict[str, Path]]:  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("renamed")
    out: dict[tuple[str, str], dict[str, Path]] = {}
    for table, column in [*RENAMES, ("none", "none")]:
        database = mariadb.create_database("h1rename")
        fill(mariadb, database, rename=None if table == "none" else (table, column))
        paths = {"create-table": folder / f"{table}.{column}.sql", "column-list": folder / f"{table}.{column}.ci.sql"}
        paths["create-table"].write_bytes(mariadb.dump(database))
        paths["column-list"].write_bytes(mariadb.dump(database, "--no-create-info", "--complete-insert"))
        out[(table, column)] = paths
    return out


@pytest.mark.parametrize("layout", ["create-table", "column-list"])
@pytest.mark.parametrize(("table", "column"), RENAMES, ids=[f"{t}.{c}" for t, c in RENAMES])
def test_a_renamed_required_column_is_refused(renamed_dumps, table: str, column: str, layout: str) -> None:  # type: ignore[no-untyped-def]
    path = renamed_dumps[(table, column)][layout]
    data = path.read_bytes()
    where = (b"CREATE TABLE `%s`" if layout == "create-table" else b"INSERT INTO `%s`") % table.encode()
    at = data.index(where)
    seen: list[str] = []
    with pytest.raises(MissingRequiredColumnError) as info:
        for row in DumpReader(path, CHAT_TABLES, required_columns=REQUIRED_COLUMNS):
            seen.append(row.table)
    error = info.value
    assert table not in seen, "a row of the table was yielded before the contract was checked"
    found = [f"{column}_renamed" if c == column else c for c in COLUMNS[table]]
    assert (error.table, error.missing, error.found) == (table, [column], found)
    assert (error.offset, error.line) == (at, data[:at].count(b"\n") + 1)
    text = str(error)
    assert f"`{column}`" in text and f"`{column}_renamed`" in text and f"table `{table}`" in text
    assert error.exit_code == 2


@pytest.mark.parametrize(("table", "column"), RENAMES, ids=[f"{t}.{c}" for t, c in RENAMES])
def test_step_one_refuses_it(renamed_dumps, table: str, column: str) -> None:  # type: ignore[no-untyped-def]
    path = renamed_dumps[(table, column)]["create-table"]
    inputs = PhaseInputs(mapping={}, migrated=frozenset(), bookings_created_total=0)
    with pytest.raises(MissingRequiredColumnError) as info:
        classified = classify_dump(str(path), inputs)
        list(classified.messages())
    assert (info.value.table, info.value.missing) == (table, [column])


@pytest.mark.parametrize("layout", ["create-table", "column-list"])
def test_the_legacy_shape_passes(renamed_dumps, layout: str) -> None:  # type: ignore[no-untyped-def]
    path = renamed_dumps[("none", "none")][layout]
    rows = list(DumpReader(path, CHAT_TABLES, required_columns=REQUIRED_COLUMNS))
    assert {t: sum(r.table == t for r in rows) for t in CHAT_TABLES} == {"booking": 6, "chat": 6, "message": 60}


def test_a_table_not_read_is_not_held_to_the_contract(renamed_dumps) -> None:  # type: ignore[no-untyped-def]
    path = renamed_dumps[("message", "message")]["create-table"]
    rows = list(DumpReader(path, ["chat"], required_columns=REQUIRED_COLUMNS))
    assert len(rows) == 6


def test_an_insert_column_list_is_checked_even_after_a_good_create_table() -> None:
    dump = (b"CREATE TABLE `t` (`a` int, `b` text);\n"
            b"INSERT INTO `t` VALUES (1,'x');\n"
            b"INSERT INTO `t` (`a`) VALUES (2);\n-- Dump completed\n")
    rows = []
    with pytest.raises(MissingRequiredColumnError) as info:
        for row in DumpReader(io.BytesIO(dump), ["t"], required_columns={"t": ["a", "b"]}):
            rows.append(row.values)
    assert rows == [{"a": 1, "b": "x"}]
    assert info.value.offset == dump.index(b"INSERT INTO `t` (`a`)") and info.value.missing == ["b"]
    assert re.search(r"the columns found are `a`\)", str(info.value))
