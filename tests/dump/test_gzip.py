"""A damaged ``.gz`` dump is a DumpError saying how far the data was read and to re-copy
the file; never ``EOFError``, ``BadGzipFile`` or ``zlib.error``.

A real mariadb-dump, compressed by the real ``gzip`` and by Python, is cut at many points
(inside the header, the deflate data, the CRC and the length trailer), has its CRC, its
length or a data byte changed, or gets trailing garbage. The rows read before a cut are
exactly the first rows of the dump, and the reported offset is the number of
uncompressed bytes that were read.
"""

from __future__ import annotations

import gzip
import io
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatmigrate.dump import DumpReader
from chatmigrate.errors import CorruptDumpError, DumpError, TruncatedDumpError
from legacy_dumps import fill

pytestmark = pytest.mark.mariadb


@pytest.fixture(scope="module")
def plain(mariadb) -> bytes:  # type: ignore[no-untyped-def]
    database = mariadb.create_database("h1gzip")
    fill(mariadb, database)
    # enough hardly compressible rows that the compressed stream spans many decoder reads
    rnd = random.Random(7)
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO personal_message (message) VALUES (%s)",
                        [(rnd.randbytes(60).hex(),) for _ in range(4000)])
    data = mariadb.dump(database, "--skip-extended-insert")
    assert len(data) > 400_000 and len(gzip.compress(data)) > 200_000
    return data


@pytest.fixture(scope="module")
def packed(plain: bytes, tmp_path_factory) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("gz")
    (folder / "dump.sql").write_bytes(plain)
    subprocess.run(["gzip", "-9", "-k", str(folder / "dump.sql")], check=True)
    return {"gzip-cli": (folder / "dump.sql.gz").read_bytes(), "python": gzip.compress(plain, 6)}


def read(data: bytes, chunk_size: int = 4096) -> tuple[list[Any], DumpError | None]:
    rows: list[Any] = []
    try:
        for r in DumpReader(io.BytesIO(data), chunk_size=chunk_size):
            rows.append((r.table, r.values, r.offset))
    except DumpError as exc:
        return rows, exc
    return rows, None


def check_damage(plain: bytes, data: bytes, kind: type[DumpError]) -> DumpError:
    full, _ = read(plain)
    rows, error = read(data)
    assert isinstance(error, kind), f"{type(error).__name__}: {error}"
    assert rows == full[: len(rows)], "a row that is not the dump's"
    assert error.offset is not None and 0 <= error.offset <= len(plain)
    if rows:  # every row yielded was read before the damage
        assert rows[-1][2] < error.offset
    assert "re-copy" in str(error) and error.exit_code == 2
    return error


@pytest.mark.parametrize("packer", ["gzip-cli", "python"])
def test_a_gz_cut_anywhere_is_truncated(plain: bytes, packed: dict[str, bytes], packer: str) -> None:
    data = packed[packer]
    cuts = sorted({1, 2, 5, 10, 11, 20, *(len(data) * k // 20 for k in range(1, 20)), *(len(data) - k for k in range(1, 9))})
    offsets = []
    for cut in cuts:
        error = check_damage(plain, data[:cut], (TruncatedDumpError if cut > 2 else DumpError))
        offsets.append(error.offset)
        assert "gzip" in str(error) or cut <= 2, error
    assert offsets == sorted(offsets), "the offset reached grows with the part of the file kept"
    # cut in the 8-byte trailer: all the data was there, so the offset is its whole length
    assert offsets[-8:] == [len(plain)] * 8
    # a cut in the middle gives an offset in the middle: the reader says how far it got
    middle = offsets[cuts.index(len(data) * 10 // 20)]
    assert len(plain) * 0.2 < middle < len(plain) * 0.8


@pytest.mark.parametrize(
    "damage",
    ["crc", "length", "data-byte", "trailing-garbage"],
)
def test_a_damaged_gz_is_refused(plain: bytes, packed: dict[str, bytes], damage: str) -> None:
    data = bytearray(packed["python"])
    if damage == "crc":
        data[-8] ^= 0xFF
    elif damage == "length":
        data[-1] ^= 0x01
    elif damage == "data-byte":
        data[len(data) // 2] ^= 0x55
    else:
        data += b"this is not gzip"
    if damage == "data-byte":
        # deflate has no check of its own until the CRC at the end: the changed byte may
        # decode to other bytes that still parse (rows are streamed, so some are yielded
        # before the CRC refuses the file) or to SQL the reader refuses first. Either
        # way the read fails: no step that reads this file can succeed.
        _, error = read(bytes(data))
        assert isinstance(error, DumpError), error
        return
    error = check_damage(plain, bytes(data), CorruptDumpError)
    assert error.offset == len(plain)


def test_gzip_tests_agree(packed: dict[str, bytes], tmp_path: Path) -> None:
    # the same damage is what `gzip -t` reports, so the advice to check with it is sound
    path = tmp_path / "cut.sql.gz"
    path.write_bytes(packed["gzip-cli"][: len(packed["gzip-cli"]) // 2])
    assert subprocess.run(["gzip", "-t", str(path)], capture_output=True).returncode != 0


def test_the_cli_says_it_in_one_sentence(packed: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "cut.sql.gz"
    path.write_bytes(packed["gzip-cli"][: len(packed["gzip-cli"]) // 2])
    proc = subprocess.run([sys.executable, "-m", "chatmigrate", "inspect", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "byte offset" in proc.stderr and "re-copy" in proc.stderr
    assert "EOFError" not in proc.stderr and "Traceback" not in proc.stderr
