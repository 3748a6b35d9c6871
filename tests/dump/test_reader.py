"""The streaming reader (``chatmigrate.dump.reader``): rows out of whole dumps.

Covers: hostile values inside INSERTs in every layout (MySQL 8 single line, MariaDB one
row per line, one INSERT per row, column lists), identical results for tiny chunk sizes
and for a buffer boundary at every byte of the hostile rows, the inputs it accepts
(path, ``-``, binary stream, pipe, gzip), row offsets and table statistics,
``completed``, and every error: truncation at each byte of an INSERT, column count,
invalid UTF-8, oversized rows and missing column lists -- each naming where it happened.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from chatmigrate.dump import DumpReader, read_rows, scan_dump
from chatmigrate.errors import (
    ColumnCountError,
    DumpError,
    InvalidTextError,
    MalformedStatementError,
    MissingColumnsError,
    RowTooLargeError,
    TruncatedDumpError,
)

CHUNK_SIZES = [1, 2, 3, 7, 64]

CREATE_V = (
    "CREATE TABLE `v` (\n  `id` int(11) NOT NULL,\n  `t` text DEFAULT NULL,\n  `b` blob DEFAULT NULL,\n"
    "  `d` decimal(10,2) DEFAULT NULL,\n  `f` double DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;"
)
COLS = ("id", "t", "b", "d", "f")


def row(*values: object) -> tuple[str, dict[str, object]]:
    return ("v", dict(zip(COLS, values, strict=True)))


N = b"NULL"
# (id, the literals of one tuple as they appear in an INSERT, the row they stand for)
VALUE_CASES = [
    ("every-escape", [b"1", rb"'\0\'\"\b\n\r\t\Z\\\%\_\q'", N, N, N], row(1, "\x00'\"\x08\n\r\t\x1a\\\\%\\_q", None, None, None)),
    ("doubled-quote", [b"2", b"'it''s'", N, N, N], row(2, "it's", None, None, None)),
    ("null-vs-the-word", [b"3", b"'NULL'", N, N, N], row(3, "NULL", None, None, None)),
    ("empty-not-null", [b"4", b"''", b"''", b"0.00", b"0"], row(4, "", b"", Decimal("0.00"), 0.0)),
    ("delimiters-in-strings", [b"5", rb"';),(\n(\'),;'", b"'),('", N, N], row(5, ";),(\n('),;", b"),(", None, None)),
    ("raw-tab-and-newline", [b"6", b"'a\tb\nc'", N, N, N], row(6, "a\tb\nc", None, None, None)),
    ("emoji-and-norwegian", [b"7", "'æøå ÆØÅ 😀👍🏽 ;)'".encode(), N, N, N], row(7, "æøå ÆØÅ 😀👍🏽 ;)", None, None, None)),
    ("numbers", [b"-8", N, N, b"-12.50", b"-1.5e-3"], row(-8, None, None, Decimal("-12.50"), -1.5e-3)),
    ("exponent-and-max-decimal", [b"9", N, N, b"99999999.99", b"2E+10"], row(9, None, None, Decimal("99999999.99"), 2e10)),
    ("hex-blob", [b"10", N, b"0x00FF275C0A", N, N], row(10, None, b"\x00\xff'\\\n", None, None)),
    ("x-quote-and-bits", [b"11", b"X'C3A6'", b"b'101'", N, N], row(11, "æ", b"\x05", None, None)),
    ("binary-introducer-invalid-utf8", [b"12", N, b"_binary '\xff\\'\xfe\\0'", N, N],
     row(12, None, b"\xff'\xfe\x00", None, None)),
    ("zero-date-and-uuid", [b"13", b"'0000-00-00 00:00:00'", b"'9B2D6C1E-5F3A-4E7B-8C9D-0A1B2C3D4E5F'", N, N],
     row(13, "0000-00-00 00:00:00", b"9B2D6C1E-5F3A-4E7B-8C9D-0A1B2C3D4E5F", None, None)),
    ("spaces-around-values", [b" 14 ", b" 'a' ", b"\n NULL ", b" 1.00 ", b" 1 "], row(14, "a", None, Decimal("1.00"), 1.0)),
    ("double-quoted-string", [b"15", b"\"dq \\\" ' ;\"", N, N, N], row(15, "dq \" ' ;", None, None, None)),
]
CASE_IDS = [c[0] for c in VALUE_CASES]
TUPLES = [b"(" + b",".join(c[1]) + b")" for c in VALUE_CASES]
ROWS = [c[2] for c in VALUE_CASES]


@pytest.mark.parametrize("chunk_size", [*CHUNK_SIZES, 1 << 22])
@pytest.mark.parametrize(("tup", "expected"), list(zip(TUPLES, ROWS, strict=True)), ids=CASE_IDS)
def test_each_value_case(make_dump, read_dump, tup: bytes, expected, chunk_size: int) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(CREATE_V, b"INSERT INTO `v` VALUES\n" + tup + b";")
    assert read_dump(data, ["v"], chunk_size=chunk_size) == [expected]


LAYOUTS = {
    "mysql8-one-line": b"INSERT INTO `v` VALUES " + b",".join(TUPLES) + b";",
    "mariadb-row-per-line": b"INSERT INTO `v` VALUES\n" + b",\n".join(TUPLES) + b";",
    "one-insert-per-row": b"\n".join(b"INSERT INTO `v` VALUES " + t + b";" for t in TUPLES),
    "split-statements": b"INSERT INTO `v` VALUES " + b",".join(TUPLES[:5]) + b";\nINSERT INTO `v` VALUES "
    + b",".join(TUPLES[5:]) + b";",
    "complete-insert-reordered": b"INSERT INTO `v` (`f`, `d`, `b`, `t`, `id`) VALUES "
    + b",".join(b"(" + b",".join(c[1][::-1]) + b")" for c in VALUE_CASES) + b";",
    "replace-and-ignore": b"REPLACE INTO `v` VALUES " + b",".join(TUPLES[:7]) + b";\nINSERT IGNORE INTO `v` VALUES "
    + b",".join(TUPLES[7:]) + b";",
}


@pytest.mark.parametrize("chunk_size", [*CHUNK_SIZES, 1 << 22])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layouts_give_identical_rows(make_dump, read_dump, layout: str, chunk_size: int) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(CREATE_V, "LOCK TABLES `v` WRITE;", LAYOUTS[layout], "UNLOCK TABLES;")
    assert read_dump(data, ["v"], chunk_size=chunk_size) == ROWS


EXPONENT_CASES = {"numbers", "exponent-and-max-decimal"}


def _sweep_rows(boundary_sweep, make_dump, cases, chunk_size: int) -> None:  # type: ignore[no-untyped-def]
    # The reader reads ahead ~64 KB before each statement, so small dumps never split a
    # value; a long first row pushes the hostile rows to where the buffer really ends.
    before = make_dump(CREATE_V, trailer=False) + b"INSERT INTO `v` VALUES\n(0,'"
    segment = b"',NULL,NULL,NULL),\n" + b",\n".join(b"(" + b",".join(c[1]) + b")" for c in cases) + b";\n"
    after = b"INSERT INTO `v` VALUES (99,'next',NULL,NULL,NULL);\n-- Dump completed\n"
    expected = [c[2] for c in cases] + [row(99, "next", None, None, None)]
    boundary_sweep(before, segment, after, expected=expected, chunk_size=chunk_size, tables=["v"], skip_rows=1)


@pytest.mark.parametrize("chunk_size", [1, 3, 64])
def test_buffer_boundary_at_every_byte_of_hostile_rows(boundary_sweep, make_dump, chunk_size: int) -> None:  # type: ignore[no-untyped-def]
    cases = [c for c in VALUE_CASES if c[0] not in EXPONENT_CASES]
    _sweep_rows(boundary_sweep, make_dump, cases, chunk_size)


def test_buffer_boundary_inside_a_number_exponent(boundary_sweep, make_dump) -> None:  # type: ignore[no-untyped-def]
    # `-1.5e-3` cut after `-1.5e` or `-1.5e-`: the first part is a valid number, the
    # rest must be awaited, not reported as "expected ',' or ')' after a value"
    _sweep_rows(boundary_sweep, make_dump, [c for c in VALUE_CASES if c[0] in EXPONENT_CASES], 64)


def test_buffer_boundary_in_a_skipped_table(boundary_sweep, make_dump) -> None:  # type: ignore[no-untyped-def]
    # the same sweep over a table that is skipped without parsing its values
    other = CREATE_V.replace("`v`", "`personal_v`")
    before = make_dump(CREATE_V, other, trailer=False) + b"INSERT INTO `personal_v` VALUES\n(0,'"
    segment = b"',NULL,NULL,NULL),\n" + b",\n".join(TUPLES) + b";\n"
    after = b"INSERT INTO `v` VALUES (99,'after',NULL,NULL,NULL);\n-- Dump completed\n"
    boundary_sweep(before, segment, after, expected=[row(99, "after", None, None, None)], chunk_size=1, tables=["v"])


# --------------------------------------------------------------------------- inputs

SMALL = [CREATE_V, "INSERT INTO `v` VALUES (1,'æ',0x00,1.00,1),(2,NULL,NULL,NULL,NULL);"]
SMALL_ROWS = [row(1, "æ", b"\x00", Decimal("1.00"), 1.0), row(2, None, None, None, None)]


@pytest.mark.parametrize("kind", ["str-path", "pathlike", "gzip-path", "binary-file", "gzip-stream", "pipe", "stdin"])
def test_every_kind_of_input(make_dump, tmp_path: Path, monkeypatch, kind: str) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(*SMALL)
    plain, packed = tmp_path / "d.sql", tmp_path / "d.sql.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    sources = {"str-path": str(plain), "pathlike": plain, "gzip-path": packed}
    with open(plain, "rb") as file, subprocess.Popen(["cat", str(packed)], stdout=subprocess.PIPE) as proc:
        sources["binary-file"] = file
        sources["gzip-stream"] = io.BytesIO(packed.read_bytes())
        sources["pipe"] = proc.stdout  # non-seekable, as in `mariadb-dump | gzip | chatmigrate ... -`
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(proc.stdout))  # type: ignore[arg-type]
        sources["stdin"] = "-"
        reader = DumpReader(sources[kind], ["v"], chunk_size=5)
        assert [(r.table, r.values) for r in reader] == SMALL_ROWS
        assert reader.completed


def test_row_offsets_point_at_the_tuple(make_dump) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(CREATE_V, LAYOUTS["mariadb-row-per-line"], LAYOUTS["mysql8-one-line"])
    rows = list(read_rows(io.BytesIO(data), ["v"]))
    assert len(rows) == 2 * len(VALUE_CASES)
    for r, tup in zip(rows, TUPLES + TUPLES, strict=True):
        assert data.startswith(tup, r.offset), f"row {r.values['id']}: offset {r.offset} is at {data[r.offset:r.offset + 6]!r}"


@pytest.mark.parametrize("chunk_size", [3, 1 << 22])
def test_batches_are_the_rows_one_statement_each(make_dump, chunk_size: int) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(CREATE_V, *LAYOUTS.values(), CREATE_V.replace("`v`", "`w`"),
                     LAYOUTS["mysql8-one-line"].replace(b"`v`", b"`w`"), LAYOUTS["mariadb-row-per-line"])
    rows = list(DumpReader(io.BytesIO(data), chunk_size=chunk_size))
    reader = DumpReader(io.BytesIO(data), chunk_size=chunk_size)
    batches = list(reader.batches())
    assert [x for b in batches for x in b] == rows
    assert all(len({x.table for x in b}) == 1 for b in batches)  # one statement's rows: one table
    assert len(batches) >= len(VALUE_CASES) + 3  # one INSERT per row in one layout
    assert reader.completed and reader.tables["w"].rows == len(VALUE_CASES)


def test_table_statistics_and_completed(make_dump) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(*SMALL, CREATE_V.replace("`v`", "`w`"), LAYOUTS["one-insert-per-row"].replace(b"`v`", b"`w`"))
    reader = scan_dump(io.BytesIO(data), ["v"])
    assert reader.completed
    assert (reader.tables["v"].rows, reader.tables["v"].inserts) == (2, 1)
    assert (reader.tables["w"].rows, reader.tables["w"].inserts) == (0, len(VALUE_CASES))
    everything = scan_dump(io.BytesIO(data))
    assert everything.tables["w"].rows == len(VALUE_CASES)
    cut = data[: data.index(b"/*!40101 SET CHARACTER_SET_CLIENT=@OLD")]
    assert not scan_dump(io.BytesIO(cut)).completed


def test_trailer_without_final_newline_is_complete(make_dump) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(*SMALL).rstrip(b"\n")
    reader = DumpReader(io.BytesIO(data), ["v"])
    assert [(r.table, r.values) for r in reader] == SMALL_ROWS
    assert reader.completed


# --------------------------------------------------------------------------- errors

TRUNCATION_INSERTS = [  # (statement, number of rows)
    ("INSERT INTO `v` VALUES (1,'a;b\\'c',_binary 'x\\0',-1.5,NULL);", 1),
    ("INSERT INTO `v` VALUES\n(2,'NULL',0x0A0B,12.50,1e-3),\n(3,'\\\\',X'FF',0.00,-2E5);", 2),
    ("INSERT INTO `v` VALUES (4,'😀',b'11',NULL,NULL);", 1),
]


@pytest.mark.slow
def test_truncated_at_every_byte_of_the_inserts(make_dump) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(CREATE_V, *[s for s, _ in TRUNCATION_INSERTS])
    full = [(r.table, r.values) for r in read_rows(io.BytesIO(data))]
    assert len(full) == sum(n for _, n in TRUNCATION_INSERTS)
    spans, rows_before = [], 0  # (first byte, byte after ';', rows of the statements before)
    for statement, n in TRUNCATION_INSERTS:
        start = data.index(statement.encode())
        spans.append((start, start + len(statement.encode()), rows_before))
        rows_before += n
    for cut in range(spans[0][0], spans[-1][1] + 2):
        inside = [(a, b, before) for a, b, before in spans if a < cut < b]
        got = []
        try:
            for r in DumpReader(io.BytesIO(data[:cut])):
                got.append((r.table, r.values))
        except (TruncatedDumpError, MalformedStatementError) as exc:
            assert inside, f"cut at {cut} is between statements, yet {exc!r}"
            assert exc.path == "<stream>" and exc.offset is not None and exc.offset <= cut, f"cut at {cut}"
            assert got == full[: len(got)], f"cut at {cut}: a garbled row before the error"
        except Exception as exc:
            pytest.fail(f"cut at {cut}: {type(exc).__name__} is not a DumpError: {exc}")
        else:
            assert not inside, f"cut at {cut} inside an INSERT went unnoticed, rows {got}"
            complete = sum(n for (_, b, _), (_, n) in zip(spans, TRUNCATION_INSERTS, strict=True) if b <= cut)
            assert got == full[:complete], f"cut at {cut}"


@pytest.mark.parametrize("layout", ["mariadb-row-per-line", "mysql8-one-line"])
def test_column_count_error_names_table_line_and_offset(make_dump, layout: str) -> None:  # type: ignore[no-untyped-def]
    bad = b"(3,'only three',NULL)"
    sep = b",\n" if layout.startswith("mariadb") else b","
    head = b"INSERT INTO `v` VALUES\n" if layout.startswith("mariadb") else b"INSERT INTO `v` VALUES "
    data = make_dump(CREATE_V, head + sep.join([TUPLES[0], TUPLES[1], bad]) + b";")
    with pytest.raises(ColumnCountError) as info:
        list(DumpReader(io.BytesIO(data), ["v"]))
    err = info.value
    offset = data.index(bad)
    line = data[:offset].count(b"\n") + 1
    assert (err.table, err.line, err.offset) == ("v", line, offset)
    assert "`v`" in str(err) and f"line {line}" in str(err) and f"byte offset {offset}" in str(err)
    assert "3 values" in str(err) and "5 columns" in str(err)


def test_invalid_utf8_text_names_row_and_column_but_binary_is_fine(make_dump) -> None:  # type: ignore[no-untyped-def]
    create_m = "CREATE TABLE `m` (`id` varchar(36) NOT NULL, `message` text NOT NULL, `blob` blob);"
    binary = b"INSERT INTO `v` VALUES (1,NULL,_binary '\xff\xfe\xc3(',NULL,NULL),(2,NULL,'\xc3(',NULL,NULL);"
    good = b"INSERT INTO `m` VALUES ('A-1','fine \xc3\xa6',_binary '\xff');"  # fine æ
    data = make_dump(CREATE_V, create_m, binary, good)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert read_dump_rows(data, ["m"]) == [("m", {"id": "A-1", "message": "fine æ", "blob": b"\xff"})]
    assert read_dump_rows(data, None)[:2] == [row(1, None, b"\xff\xfe\xc3(", None, None), row(2, None, b"\xc3(", None, None)]

    bad = b"INSERT INTO `m` VALUES ('A-2','ok',''),('B-2','bad \xc3\x28 text','');"
    data = make_dump(CREATE_V, create_m, binary, good, bad)
    with pytest.raises(InvalidTextError) as info:
        read_dump_rows(data, ["m"])
    err = info.value
    assert (err.table, err.row_key, err.column) == ("m", "B-2", "message")
    assert err.offset == data.index(b"('B-2'") and err.line == data[: err.offset].count(b"\n") + 1
    assert "'B-2'" in str(err) and "`message`" in str(err)


def read_dump_rows(data: bytes, tables: object) -> list:  # type: ignore[type-arg]
    return [(r.table, r.values) for r in DumpReader(io.BytesIO(data), tables)]  # type: ignore[arg-type]


def test_unterminated_string_is_row_too_large(make_dump) -> None:  # type: ignore[no-untyped-def]
    # no quote follows, so the string would swallow the rest of the file
    rest = "".join(f"INSERT INTO `v` VALUES ({i},NULL,NULL,NULL,NULL);\n" for i in range(2, 400))
    data = make_dump(CREATE_V, "INSERT INTO `v` VALUES (1,'never closed,NULL,NULL,NULL);", rest)
    with pytest.raises(RowTooLargeError) as info:
        list(DumpReader(io.BytesIO(data), ["v"], chunk_size=256, max_row_bytes=4096))
    assert info.value.offset is not None and info.value.offset <= data.index(b"(1,'never")
    # the same dump with a large enough limit is just truncated
    with pytest.raises(TruncatedDumpError):
        list(DumpReader(io.BytesIO(data), ["v"], chunk_size=256, max_row_bytes=1 << 20))


def test_unterminated_string_in_a_skipped_table_is_truncation(make_dump) -> None:  # type: ignore[no-untyped-def]
    # a table not asked for is skipped in bounded memory, whatever the size of its values
    # (see tests/dump/test_limits.py), so the row size limit does not apply: the string runs
    # to the end of the file, which is a truncated dump, reported where the string opens
    rest = "".join(f"INSERT INTO `v` VALUES ({i},NULL,NULL,NULL,NULL);\n" for i in range(2, 400))
    data = make_dump(CREATE_V, "INSERT INTO `personal_v` VALUES (1,'never closed,NULL,NULL,NULL);", rest)
    with pytest.raises(TruncatedDumpError) as info:
        list(DumpReader(io.BytesIO(data), ["v"], chunk_size=256, max_row_bytes=4096))
    assert info.value.offset == data.index(b"'never")
    assert info.value.line == data[: data.index(b"'never")].count(b"\n") + 1


def test_row_just_under_the_limit_is_read(make_dump) -> None:  # type: ignore[no-untyped-def]
    big = "ø" * 1500  # 3000 bytes
    data = make_dump(CREATE_V, f"INSERT INTO `v` VALUES (1,'{big}',NULL,NULL,NULL);", *[
        f"INSERT INTO `v` VALUES ({i},'y',NULL,NULL,NULL);" for i in range(2, 300)])
    rows = list(DumpReader(io.BytesIO(data), ["v"], chunk_size=64, max_row_bytes=4096))
    assert len(rows) == 299 and rows[0].values["t"] == big


def test_insert_without_columns_or_create_table(make_dump) -> None:  # type: ignore[no-untyped-def]
    data = make_dump("INSERT INTO `v` VALUES (1,'a',NULL,NULL,NULL);")
    with pytest.raises(MissingColumnsError) as info:
        list(DumpReader(io.BytesIO(data), ["v"]))
    assert info.value.table == "v" and info.value.offset == data.index(b"INSERT")
    # a column list is enough; unknown types are read as text
    data = make_dump("INSERT INTO `v` (`id`, `t`) VALUES ('1','a');")
    assert read_dump_rows(data, ["v"]) == [("v", {"id": "1", "t": "a"})]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO `v` VALUES (1,'a' 'b',NULL,NULL,NULL);",
        "INSERT INTO `v` VALUES (1,abc,NULL,NULL,NULL);",
        "INSERT INTO `v` VALUES (1,'a',NULL,NULL,NULL) (2,'b',NULL,NULL,NULL);",
        "INSERT INTO `v` VALUES ();",
        "INSERT INTO `v` SET id = 1;",
    ],
    ids=["two-strings", "bare-word", "missing-comma", "empty-row", "insert-set"],
)
def test_malformed_insert(make_dump, statement: str) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(CREATE_V, statement)
    with pytest.raises(MalformedStatementError) as info:
        list(DumpReader(io.BytesIO(data), ["v"]))
    assert data.index(b"INSERT") <= info.value.offset < data.index(b";", data.index(b"INSERT"))  # type: ignore[operator]
    assert isinstance(info.value, DumpError) and info.value.line == data[: data.index(b"INSERT")].count(b"\n") + 1


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        ([b"INSERT INTO `v\xff` VALUES (1);"], "a table or column name that is not UTF-8 text"),
        ([b"CREATE TABLE `w\xff` (`id` int);"], "a table or column name that is not UTF-8 text"),
        ([b"CREATE TABLE `w` (`id\xff` int);"], "a table or column name that is not UTF-8 text"),
        ([b"INSERT INTO `v` (`id\xff`) VALUES (1);"], "a table or column name that is not UTF-8 text"),
        ([b"CREATE TABLE `d` (`x` decimal(10,2));", b"INSERT INTO `d` VALUES ('\x80');"], "not a decimal number"),
    ],
    ids=["insert-table", "create-table", "create-column", "insert-column", "decimal-not-ascii"],
)
def test_bytes_that_are_not_text_where_text_must_be(make_dump, statements: list[bytes], problem: str) -> None:  # type: ignore[no-untyped-def]
    """Found by fuzzing: these raised a bare UnicodeDecodeError (a traceback) before."""
    data = make_dump(*statements)
    with pytest.raises(MalformedStatementError, match=problem) as info:
        list(DumpReader(io.BytesIO(data)))
    start = data.index(statements[-1])
    assert start <= info.value.offset < start + len(statements[-1])  # type: ignore[operator]
    assert info.value.line == data[:start].count(b"\n") + 1


def test_a_table_created_again_is_read_with_its_new_columns() -> None:
    """Concatenated dumps re-create a table; each INSERT follows the CREATE TABLE before it
    (the reader caches how to read a table's rows, and must not reuse a stale plan)."""
    dump = (
        b"CREATE TABLE `t` (`a` int, `b` text);\n"
        b"INSERT INTO `t` VALUES (1,'x');\nINSERT INTO `t` VALUES (2,'y');\n"
        b"CREATE TABLE `t` (`b` text, `a` int, `c` varbinary(4));\n"
        b"INSERT INTO `t` VALUES ('z',3,0x0102);\n"
        b"INSERT INTO `t` (`a`, `b`, `c`) VALUES (4,'w',NULL);\n"
        b"-- Dump completed\n"
    )
    rows = [r.values for r in read_rows(io.BytesIO(dump), ["t"])]
    assert rows == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"b": "z", "a": 3, "c": b"\x01\x02"},
                    {"a": 4, "b": "w", "c": None}]


def test_one_insert_per_row_reads_every_row() -> None:
    """The --skip-extended-insert layout: thousands of one-row statements."""
    body = b"".join(b"INSERT INTO `t` VALUES (%d,'r%d;),(');\n" % (i, i) for i in range(5000))
    dump = b"CREATE TABLE `t` (`a` int, `b` text);\n" + body + b"-- Dump completed\n"
    reader = DumpReader(io.BytesIO(dump), ["t"], chunk_size=4096)
    rows = [r.values for r in reader]
    assert rows == [{"a": i, "b": f"r{i};),("} for i in range(5000)]
    assert reader.tables["t"].inserts == 5000 and reader.completed


def test_the_engine_fixture_selects_the_engine(engine: str) -> None:
    """Every test here runs once per engine (tests/dump/conftest.py), and really with it."""
    assert DumpReader(io.BytesIO(b"")).engine == engine
