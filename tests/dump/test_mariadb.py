"""Differential tests: what the reader finds in real ``mariadb-dump`` output equals what
the server returns for ``SELECT * ... ORDER BY id``, value for value.

A throw-away database shaped like the legacy one (``buyer``, ``stylist``, ``chat`` with
its keys and foreign keys, ``message``, the decoy ``personal_message`` and a table of
binary columns) is filled with hostile content, dumped in every layout the spec lists
(default, --complete-insert, --skip-extended-insert, --hex-blob, --compatible=ansi, a
small --net-buffer-length, --routines), plus a gzip copy, a pipe straight from
mariadb-dump and a rewrite into MySQL 8's one-line INSERTs. Both sides are compared in
a canonical form: bytes for every value (text as UTF-8, numbers as written), None for NULL.
"""

from __future__ import annotations

import gzip
import io
import random
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chatmigrate.dump import DumpReader, read_rows, scan_dump
from chatmigrate.errors import InvalidTextError
from legacy_dumps import to_mysql8

pytestmark = pytest.mark.mariadb

SCHEMA = [
    "CREATE TABLE buyer (id varchar(36) NOT NULL, name varchar(100) NOT NULL, PRIMARY KEY (id))",
    "CREATE TABLE stylist (id varchar(36) NOT NULL, name varchar(100) NOT NULL, PRIMARY KEY (id))",
    """CREATE TABLE chat (
      id varchar(36) NOT NULL,
      buyer_id varchar(36) NOT NULL,
      stylist_id varchar(36) NOT NULL,
      buyer_has_unread tinyint NOT NULL DEFAULT 0,
      stylist_has_unread tinyint NOT NULL DEFAULT 0,
      created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
      booking_id varchar(255) NULL,
      is_active tinyint NOT NULL DEFAULT 1 COMMENT 'active, or archived (soft-deleted)',
      PRIMARY KEY (id),
      UNIQUE KEY UQ_BUYER_STYLIST_BOOKING (buyer_id, stylist_id, booking_id),
      KEY (stylist_id),
      CONSTRAINT FK_chat_buyer FOREIGN KEY (buyer_id) REFERENCES buyer (id) ON DELETE CASCADE,
      CONSTRAINT FK_chat_stylist FOREIGN KEY (stylist_id) REFERENCES stylist (id))""",
    """CREATE TABLE message (
      id varchar(36) NOT NULL, message text NOT NULL, is_image tinyint NOT NULL DEFAULT 0,
      is_from enum('buyer','stylist') NOT NULL, chat_id varchar(36) NOT NULL,
      is_unread tinyint NOT NULL DEFAULT 1, created_at datetime(6) NOT NULL,
      PRIMARY KEY (id), KEY (chat_id),
      CONSTRAINT FK_message_chat FOREIGN KEY (chat_id) REFERENCES chat (id) ON DELETE CASCADE)""",
    """CREATE TABLE personal_message (
      id int NOT NULL AUTO_INCREMENT, message text NOT NULL, sender varchar(36) DEFAULT NULL, PRIMARY KEY (id))""",
    """CREATE TABLE binary_data (
      id int NOT NULL, vb varbinary(255) DEFAULT NULL, bl blob DEFAULT NULL, pt point DEFAULT NULL,
      amount decimal(10,2) DEFAULT NULL, flags bit(3) DEFAULT NULL, note text DEFAULT NULL, PRIMARY KEY (id))""",
]
TABLES = ["buyer", "stylist", "chat", "message", "personal_message", "binary_data"]
CHAT_COLUMNS = ["id", "buyer_id", "stylist_id", "buyer_has_unread", "stylist_has_unread", "created_at",
                "updated_at", "booking_id", "is_active"]


def uid(kind: int, n: int) -> str:
    return f"{kind:08X}-ABCD-4EF0-9A1B-{n:012X}"


BIG = ("æøå 😀 ;),( \\ ' \" \n\t%_ NULL " * 3000).encode()[:65535].decode("utf-8", errors="ignore")
HOSTILE = [
    "hello", "", "NULL", "null", "\x00", "NUL\x00inside\x00", "\\", "back\\slash\\", "'", "it's", '"', 'say "hi"',
    "line\nbreak", "cr\rlf\r\n", "tab\there", "ctrl-z\x1a", "backspace\x08", "\\0 is not NUL", "\\n is not a newline",
    "\\%", "\\_", "100% \\% _ \\_ %_\\\\", "\\'", "😀🎉👍🏽", "æøå ÆØÅ — blåbærsyltetøy", ";)", "),(", "(", ")",
    "');\nINSERT INTO `message` VALUES ('x');--", "/* not a comment */", "-- not a comment", "# not a comment",
    "`backtick`", "DELIMITER ;;", "9B2D6C1E-5F3A-4E7B-8C9D-0A1B2C3D4E5F", BIG,
]
DATES = ["2024-01-02 03:04:05.678901", "0000-00-00 00:00:00", "1999-12-31 23:59:59.999999", "2038-01-19 03:14:08"]
BUYERS = [(uid(1, i), name) for i, name in enumerate(["Åse Ørnes", "Bjørn", "Zoë 😀"], 1)]
STYLISTS = [(uid(2, i), name) for i, name in enumerate(["Kari", "Ola Nordmann", "Æsa"], 1)]
CHATS = [
    (uid(3, 1), BUYERS[0][0], STYLISTS[0][0], 0, 1, DATES[0], DATES[0], None, 1),
    (uid(3, 2), BUYERS[0][0], STYLISTS[0][0], 1, 0, DATES[1], DATES[1], None, 0),
    (uid(3, 3), BUYERS[0][0], STYLISTS[0][0], 127, -128, DATES[2], DATES[3], "NULL", 1),
    (uid(3, 4), BUYERS[1][0], STYLISTS[1][0], 0, 0, DATES[3], DATES[2], "", 1),
    (uid(3, 5), BUYERS[1][0], STYLISTS[2][0], 1, 1, DATES[0], DATES[1], uid(9, 99), 1),
    (uid(3, 6), BUYERS[2][0], STYLISTS[0][0], 0, 1, DATES[0], DATES[0], "a'),(b;\\", 0),
]
MESSAGES = [
    (uid(4, i), text, i % 2, ["buyer", "stylist", "bad value"][i % 3], CHATS[i % len(CHATS)][0], (i + 1) % 2,
     DATES[i % len(DATES)])
    for i, text in enumerate(HOSTILE + [f"#{n} {HOSTILE[n % (len(HOSTILE) - 1)]} 😀 {n}" * 3 for n in range(300)])
]
_rnd = random.Random(6)
BINARY = [
    (1, b"\xff\xfe\x00'\\\"\n\r\x1a\x08", bytes(range(256)), "POINT(59.91 10.75)", Decimal("-12.50"), 5, "ok"),
    (2, b"\xc3\x28\xa0\xa1", b"", None, Decimal("0.00"), 0, ""),
    (3, None, None, None, None, None, None),
    (4, b"_binary '", b"0x41", "POINT(-180 -90)", Decimal("99999999.99"), 7, "NULL"),
    (5, b"", bytes(_rnd.getrandbits(8) for _ in range(65535)), None, Decimal("0.01"), 2, BIG),
]


def fill(mariadb, database: str) -> None:  # type: ignore[no-untyped-def]
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")  # zero dates and a bad enum value become ''
        for statement in SCHEMA:
            cur.execute(statement)
        cur.executemany("INSERT INTO buyer VALUES (%s, %s)", BUYERS)
        cur.executemany("INSERT INTO stylist VALUES (%s, %s)", STYLISTS)
        cur.executemany("INSERT INTO chat VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", CHATS)
        cur.executemany("INSERT INTO message VALUES (%s, %s, %s, %s, %s, %s, %s)", MESSAGES)
        cur.executemany("INSERT INTO personal_message (message, sender) VALUES (%s, %s)",
                        [(f"decoy {i}: {text}", uid(1, 1) if i % 2 else None) for i, text in enumerate(HOSTILE[:12])])
        cur.executemany("INSERT INTO binary_data VALUES (%s, %s, %s, ST_GeomFromText(%s), %s, %s, %s)", BINARY)
        cur.execute("CREATE TRIGGER pm_sender BEFORE INSERT ON personal_message FOR EACH ROW "
                    "SET NEW.sender = COALESCE(NEW.sender, 'nobody; really')")
        cur.execute("CREATE PROCEDURE add_message() BEGIN\n  -- don't run me\n"
                    "  INSERT INTO message VALUES ('X', 'from a procedure; ;)', 0, 'buyer', 'Y', 0, NOW());\nEND")


LAYOUTS = {
    "default": [],
    "complete-insert": ["--complete-insert"],
    "skip-extended-insert": ["--skip-extended-insert"],
    "hex-blob": ["--hex-blob"],
    # --compatible makes mariadb-dump fall back to latin1 (see test_ansi_dump_in_latin1...)
    "compatible-ansi": ["--compatible=ansi", "--default-character-set=utf8mb4"],
    "net-buffer-4096": ["--net-buffer-length=4096"],
    "routines": ["--routines"],
}
DERIVED = ["gzip", "pipe", "mysql8-one-line"]


@pytest.fixture(scope="module")
def legacy(mariadb, tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    database = mariadb.create_database("legacy")
    fill(mariadb, database)
    folder: Path = tmp_path_factory.mktemp("dumps")
    paths = {}
    for name, options in LAYOUTS.items():
        paths[name] = folder / f"{name}.sql"
        paths[name].write_bytes(mariadb.dump(database, *options))
    default = paths["default"].read_bytes()
    paths["gzip"] = folder / "default.sql.gz"
    paths["gzip"].write_bytes(gzip.compress(default))
    paths["mysql8-one-line"] = folder / "mysql8.sql"
    paths["mysql8-one-line"].write_bytes(to_mysql8(default))
    return {"database": database, "paths": paths, "mariadb": mariadb}


def read(legacy, layout: str, tables: list[str] | None) -> tuple[list[Any], DumpReader]:  # type: ignore[no-untyped-def]
    if layout != "pipe":
        reader = DumpReader(legacy["paths"][layout], tables)
        return list(reader), reader
    command = legacy["mariadb"].dump_command(legacy["database"])
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        reader = DumpReader(proc.stdout, tables, chunk_size=4096)  # type: ignore[arg-type]
        rows = list(reader)
        assert proc.wait() == 0, proc.stderr.read()  # type: ignore[union-attr]
    return rows, reader


def canon(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value).encode()
    raise TypeError(f"unexpected value type {type(value).__name__}: {value!r}")


def python_type(field_type: int, server_value: object) -> type:
    """The type the reader must give a value, from the server's column type."""
    from pymysql.constants import FIELD_TYPE as F

    if isinstance(server_value, bytes):  # binary character set, BIT, geometry
        return bytes
    if field_type in (F.TINY, F.SHORT, F.INT24, F.LONG, F.LONGLONG, F.YEAR):
        return int
    if field_type in (F.DECIMAL, F.NEWDECIMAL):
        return Decimal
    return str


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("layout", [*LAYOUTS, *DERIVED])
def test_rows_equal_the_server(legacy, layout: str, table: str) -> None:  # type: ignore[no-untyped-def]
    fields, server_rows = legacy["mariadb"].select_raw(legacy["database"], table)
    columns = [name for name, _ in fields]
    rows, reader = read(legacy, layout, [table])
    assert {r.table for r in rows} <= {table}
    assert all(list(r.values) == columns for r in rows), f"columns {columns}"
    for r, server_row in zip(rows, server_rows, strict=True):
        for (name, field_type), value, server_value in zip(fields, r.values.values(), server_row, strict=True):
            if server_value is not None:
                assert type(value) is python_type(field_type, server_value), f"{table}.{name} = {value!r}"
    got = [[canon(v) for v in r.values.values()] for r in rows]
    want = [[canon(v) for v in row] for row in server_rows]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == w, f"row id {w[0]!r}"
    assert reader.completed and reader.tables[table].rows == len(want)


@pytest.mark.parametrize("layout", [*LAYOUTS, *DERIVED])
def test_tables_columns_and_decoy(legacy, layout: str) -> None:  # type: ignore[no-untyped-def]
    rows, reader = read(legacy, layout, ["message"])
    assert rows and {r.table for r in rows} == {"message"}
    assert not any(str(r.values["message"]).startswith("decoy") for r in rows)
    assert set(reader.tables) == set(TABLES)
    assert reader.tables["personal_message"].inserts >= 1 and reader.tables["personal_message"].rows == 0
    assert [c.name for c in reader.tables["chat"].columns] == CHAT_COLUMNS
    assert [c.type for c in reader.tables["binary_data"].columns][:6] == [
        "int(11)", "varbinary(255)", "blob", "point", "decimal(10,2)", "bit(3)"]


def test_layouts_are_what_they_claim(legacy) -> None:  # type: ignore[no-untyped-def]
    data = {name: path.read_bytes() for name, path in legacy["paths"].items() if name != "gzip"}
    for name, dump in data.items():
        assert dump.startswith(b"/*M!999999\\- enable the sandbox mode */"), name
        assert b"-- Dump completed" in dump[-200:], name
    with pytest.raises(UnicodeDecodeError):
        data["default"].decode("utf-8")  # raw non-UTF-8 bytes in binary columns
    assert b"INSERT INTO `message` VALUES\n(" in data["default"]
    assert b"INSERT INTO `message` (`id`, `message`, `is_image`" in data["complete-insert"]
    assert data["skip-extended-insert"].count(b"\nINSERT INTO `message` VALUES (") == len(MESSAGES)
    assert b"0xFFFE00275C220A0D1A08" in data["hex-blob"]
    assert b'INSERT INTO "message" VALUES' in data["compatible-ansi"]
    assert data["net-buffer-4096"].count(b"\nINSERT INTO `message` VALUES") > 5
    assert b"CREATE DEFINER=" in data["routines"] and b"DELIMITER ;;" in data["routines"]
    mysql8 = data["mysql8-one-line"]
    assert b" VALUES\n" not in mysql8 and mysql8.count(b"\nINSERT INTO `message` VALUES (") == 1
    assert b"),(" in mysql8[mysql8.index(b"INSERT INTO `message`"):]
    assert gzip.decompress(legacy["paths"]["gzip"].read_bytes()) == data["default"]


def test_truncated_real_dump_is_not_completed(legacy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = legacy["paths"]["default"].read_bytes()
    cut = tmp_path / "cut.sql"
    cut.write_bytes(data[: data.rindex(b"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;")])
    reader = scan_dump(cut)
    assert not reader.completed and reader.tables["message"].rows == len(MESSAGES)


def test_ansi_dump_in_latin1_fails_loudly(legacy) -> None:  # type: ignore[no-untyped-def]
    # without --default-character-set, --compatible=ansi writes latin1 (and '?' for emoji):
    # the reader must refuse it rather than return mojibake
    data = legacy["mariadb"].dump(legacy["database"], "--compatible=ansi")
    assert b"SET NAMES" not in data and "Åse".encode("latin1") in data
    with pytest.raises(InvalidTextError) as info:
        scan_dump(io.BytesIO(data))
    assert (info.value.table, info.value.row_key, info.value.column) == ("binary_data", "5", "note")


def test_trigger_with_a_comment_in_a_real_dump(mariadb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # mariadb-dump writes trigger code inside /*!50003 ... */ with its comments intact;
    # an INSERT in that code is not data (same case as test_dump_statements, real dump).
    database = mariadb.create_database("trigger")
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE message (id int NOT NULL, message text NOT NULL, PRIMARY KEY (id))")
        cur.execute("CREATE TABLE personal_message (id int NOT NULL, message text NOT NULL)")
        cur.execute("INSERT INTO message VALUES (1, 'real')")
        cur.execute("CREATE TRIGGER copy_pm AFTER INSERT ON personal_message FOR EACH ROW BEGIN\n"
                    "  /* keep a copy; it's needed */\n  INSERT INTO message VALUES (NEW.id + 1000, 'copy');\nEND")
    path = tmp_path / "trigger.sql"
    path.write_bytes(mariadb.dump(database))
    assert b"/* keep a copy; it's needed */" in path.read_bytes()
    assert [(r.table, r.values) for r in read_rows(path, ["message"])] == [("message", {"id": 1, "message": "real"})]
