"""The two engines of the dump reader side by side: one dump read with each, compared.

``outcome`` reads a dump with one engine and returns everything a caller can observe
(every row with its offset, the error with its class, message, line, offset, table and
excerpt, the per-table counts, ``completed``) as one ``repr`` string, so that two outcomes
compare equal exactly when the engines agree (``repr`` also makes ``Decimal('NaN')`` and
``nan`` comparable). ``dump_of`` frames raw INSERT text as a dump. Used by
``test_engines.py`` (hypothesis) and ``bench/fuzz_reader.py`` (atheris).
"""

from __future__ import annotations

import io

from chatmigrate.dump import DumpReader
from chatmigrate.errors import DumpError

COLUMN_TYPES = (
    "varchar(20)", "text", "int", "bigint unsigned", "tinyint(1)", "blob", "binary(4)",
    "decimal(10,2)", "double", "datetime(6)", "enum('a','b')",
)


def dump_of(types: list[str], inserts: bytes, table: str = "t") -> bytes:
    """A dump of one table with columns ``c0..`` of ``types`` and the given INSERT text."""
    columns = ",\n".join(f"  `c{i}` {t}" for i, t in enumerate(types))
    return (
        b"-- MySQL dump 10.13\n/*!40101 SET NAMES utf8mb4 */;\n"
        + f"CREATE TABLE `{table}` (\n{columns}\n) ENGINE=InnoDB;\n".encode()
        + inserts
        + b"\n-- Dump completed on 2024-05-01 10:00:00\n"
    )


def outcome(data: bytes, engine: str, *, chunk_size: int = 1 << 20, max_row_bytes: int = 64 << 20) -> str:
    """Everything observable about reading ``data`` with ``engine``, as one string."""
    reader = DumpReader(io.BytesIO(data), None, chunk_size=chunk_size, max_row_bytes=max_row_bytes,
                        engine=engine)  # type: ignore[arg-type]
    rows = []
    error: tuple[object, ...] | None = None
    try:
        for row in reader:
            rows.append((row.table, row.values, row.offset))
    except DumpError as exc:
        error = (type(exc).__name__, str(exc), exc.line, exc.offset, exc.table, exc.excerpt)
    stats = {name: (info.rows, info.inserts) for name, info in reader.tables.items()}
    return repr((rows, error, stats, reader.completed))


CHUNK_SIZES = (1 << 20, 1, 7, 64)


def case_of(data: bytes) -> tuple[bytes, int]:
    """A fuzzer's input as (dump, chunk size): byte 0 picks the chunk size, the column count
    and whether an INSERT head is prepended, the next bytes the column types, the rest is
    the INSERT text."""
    b0 = data[0] if data else 0
    n = 1 + (b0 >> 2) % 4
    types = [COLUMN_TYPES[x % len(COLUMN_TYPES)] for x in data[1 : 1 + n]] or ["text"]
    text = data[1 + n :]
    if b0 & 16:
        text = b"INSERT INTO `t` VALUES " + text
    return dump_of(types, text), CHUNK_SIZES[b0 % 4]
