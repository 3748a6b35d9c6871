"""The row size limit applies to the tables being read, and only to them.

A 10 MB value (text with quotes, backslashes, ``;`` and ``),(``, and a 6 MB blob written as
``0x...`` by --hex-blob) in a table that is not asked for is skipped in bounded memory
(measured with tracemalloc, far below the value's size), never refused; in a table that
is read, it is refused above the limit (naming ``--max-row-mb``) and read exactly below
it. ``chatmigrate inspect --max-row-mb`` reaches the reader.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from chatmigrate.dump import DumpReader
from chatmigrate.errors import RowTooLargeError
from legacy_dumps import fill

pytestmark = pytest.mark.mariadb

MB = 1 << 20
BIG_TEXT = ("it's; a ),( \\ value 😀 " * 600_000)[: 9 * MB]  # about 10.7 MB as UTF-8 (under max_allowed_packet)
BIG_BLOB = bytes(range(256)) * (6 * MB // 256)  # pymysql sends bytes over 127 as two


@pytest.fixture(scope="module")
def big_dumps(mariadb, tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    database = mariadb.create_database("h1big")
    fill(mariadb, database)
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE attachment (id int NOT NULL, body longtext, data longblob, PRIMARY KEY (id))")
        cur.execute("INSERT INTO attachment VALUES (1, %s, NULL)", (BIG_TEXT,))
        cur.execute("INSERT INTO attachment VALUES (2, NULL, %s)", (BIG_BLOB,))
        cur.execute("INSERT INTO attachment VALUES (3, 'small', NULL)")
    folder: Path = tmp_path_factory.mktemp("big")
    paths = {"default": folder / "big.sql", "hex-blob": folder / "big-hex.sql"}
    paths["default"].write_bytes(mariadb.dump(database, "--skip-extended-insert"))
    paths["hex-blob"].write_bytes(mariadb.dump(database, "--skip-extended-insert", "--hex-blob"))
    for path in paths.values():
        assert path.stat().st_size > 16 * MB
    return paths


@pytest.mark.parametrize("layout", ["default", "hex-blob"])
def test_a_huge_value_in_a_table_not_read_is_skipped_in_bounded_memory(big_dumps, layout: str) -> None:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        reader = DumpReader(big_dumps[layout], ["message", "chat"], chunk_size=64 << 10, max_row_bytes=1 * MB)
        rows = list(reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(r.table == "message" for r in rows) == 60 and reader.completed
    assert reader.tables["attachment"].inserts == 3 and reader.tables["attachment"].rows == 0
    assert peak < 2 * MB, f"skipping held {peak / MB:.1f} MB"


@pytest.mark.parametrize("layout", ["default", "hex-blob"])
def test_the_limit_applies_to_a_table_read(big_dumps, layout: str) -> None:  # type: ignore[no-untyped-def]
    path = big_dumps[layout]
    with pytest.raises(RowTooLargeError) as info:
        list(DumpReader(path, ["attachment"], max_row_bytes=1 * MB))
    data = path.read_bytes()
    assert info.value.table == "attachment" and info.value.offset is not None
    assert data.index(b"INSERT INTO `attachment` VALUES (1,") <= info.value.offset
    assert "--max-row-mb" in str(info.value) and "1 MB" in str(info.value)
    rows = {r.values["id"]: r.values for r in DumpReader(path, ["attachment"], max_row_bytes=64 * MB)}
    assert rows[1]["body"] == BIG_TEXT and rows[2]["data"] == BIG_BLOB and rows[3]["body"] == "small"


def inspect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatmigrate", "inspect", *args],
                          capture_output=True, text=True, timeout=120)


def test_inspect_max_row_mb_reaches_the_reader(big_dumps, engine: str) -> None:  # type: ignore[no-untyped-def]
    path = str(big_dumps["default"])
    refused = inspect(path, "-t", "attachment", "--max-row-mb", "4")
    assert refused.returncode == 2 and "--max-row-mb" in refused.stderr and "4 MB" in refused.stderr, refused.stderr
    read = inspect(path, "-t", "attachment", "--max-row-mb", "32", "--json")
    assert read.returncode == 0, read.stderr
    assert '"rows": 3' in read.stdout
    assert json.loads(read.stdout)["reader"] == engine  # inspect --json names the engine that read the dump
    # the other tables are not held to the limit
    other = inspect(path, "-t", "message", "--max-row-mb", "1", "--json")
    assert other.returncode == 0 and '"rows": 60' in other.stdout, other.stderr
