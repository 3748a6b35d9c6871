"""Every byte of a dump is accounted for: between statements only whitespace, comments
and version comments; statements only those mysqldump / mariadb-dump write.

A stray byte glued to ``INSERT INTO `message``` used to make the reader skip the whole
statement as "some other statement" (4,809 of 8,062 messages lost, and the run said
valid). Here a real dump (made by mariadb-dump with --routines --events --triggers
--single-transaction --add-drop-database --databases, the default layout, and MySQL 8's
one-line layout) gets a stray letter, NUL, byte-order mark or ``)`` at every statement
boundary, and each is refused with the line and byte offset of the stray byte, whichever
tables are read. The MariaDB client refuses the same files (checked with the real client).
Also refused: UTF-16, random bytes, an empty file, files that are not dumps.
"""

from __future__ import annotations

import io
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatmigrate.dump import DumpReader
from chatmigrate.errors import DumpError, TruncatedDumpError, UnexpectedInputError
from legacy_dumps import dump_all_options, fill, statement_boundaries, to_mysql8

pytestmark = pytest.mark.mariadb

BOM = b"\xef\xbb\xbf"
STRAYS = {"letter": b"x", "nul": b"\x00", "bom": BOM, "paren": b")"}


@pytest.fixture(scope="module")
def dumps(mariadb) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    database = mariadb.create_database("h1stray")
    fill(mariadb, database)
    default = mariadb.dump(database)
    return {
        "all-options": dump_all_options(mariadb, database),
        "default": default,
        "mysql8-one-line": to_mysql8(default),
    }


def rows_of(data: bytes, tables: Any = None) -> list[tuple[str, dict[str, Any]]]:
    return [(r.table, r.values) for r in DumpReader(io.BytesIO(data), tables)]


def test_the_dumps_hold_what_the_sweep_must_cross(dumps: dict[str, bytes]) -> None:
    full = dumps["all-options"]
    for needle in (b"DELIMITER ;;", b"/*!50003 CREATE*/", b"EVENT `tidy`", b"FUNCTION `twice`",
                   b"PROCEDURE `add_message`", b"CREATE DATABASE", b"USE `", b"DROP DATABASE", b"CREATE SEQUENCE",
                   b"DO SETVAL", b"/*!50001 CREATE ALGORITHM", b"LOCK TABLES", b"/*M!999999"):
        assert needle in full, needle
    assert b"INSERT INTO `message` VALUES (" in dumps["mysql8-one-line"]
    for data in dumps.values():  # every layout reads, and completely
        reader = DumpReader(io.BytesIO(data))
        assert sum(1 for r in reader if r.table == "message") == 60 and reader.completed


@pytest.mark.parametrize("tables", [None, ("message",), ("booking", "chat")], ids=["all", "message", "not-message"])
@pytest.mark.parametrize("layout", ["all-options", "default", "mysql8-one-line"])
def test_a_stray_byte_at_every_statement_boundary_is_refused(dumps, layout: str, tables: Any) -> None:  # type: ignore[no-untyped-def]
    data = dumps[layout]
    clean = rows_of(data, tables)
    boundaries = statement_boundaries(data)
    assert len(boundaries) > 60 and boundaries[0] == 0 and boundaries[-1] == len(data)
    assert data.index(b"INSERT INTO `message`") in boundaries
    wrong = []
    for at in boundaries:
        for kind, stray in STRAYS.items():
            damaged = data[:at] + stray + data[at:]
            try:
                got: object = rows_of(damaged, tables)
            except DumpError as exc:
                got = exc
            if kind == "bom" and at == 0:  # the client skips a BOM at the start of the file, and so do we
                ok = got == clean
            else:
                line = data[:at].count(b"\n") + 1
                ok = isinstance(got, UnexpectedInputError) and (got.offset, got.line) == (at, line)
            if not ok:
                wrong.append(f"{kind} at {at} «{data[max(0, at - 20):at]!r}|{data[at:at + 20]!r}»: {got!r}"[:300])
    assert not wrong, f"{len(wrong)} of {len(boundaries) * len(STRAYS)} damaged dumps:\n" + "\n".join(wrong[:20])


def test_the_message_names_the_place_and_escapes_the_bytes(dumps: dict[str, bytes]) -> None:
    data = dumps["default"]
    at = data.index(b"INSERT INTO `message`")
    with pytest.raises(UnexpectedInputError) as info:
        rows_of(data[:at] + b"\x00" + data[at:], ["chat"])
    text = str(info.value)
    line = data[:at].count(b"\n") + 1
    assert f"line {line}, byte offset {at}" in text
    assert "«\\x00INSERT INTO `message`" in text and "\x00" not in text
    assert info.value.exit_code == 2
    with pytest.raises(UnexpectedInputError) as info:
        rows_of(data[:at] + BOM + data[at:])
    assert "«\\ufeffINSERT INTO `message`" in str(info.value)


def _client(mariadb: Any, database: str, sql: bytes) -> subprocess.CompletedProcess[bytes]:
    command = ["mariadb", "--no-defaults", "--host=127.0.0.1", "--port=3306", "--user=root", database]
    return subprocess.run(command, input=sql, capture_output=True, timeout=60)


@pytest.mark.parametrize("kind", list(STRAYS))
def test_the_mariadb_client_refuses_the_same_file(mariadb, dumps, kind: str) -> None:  # type: ignore[no-untyped-def]
    data = dumps["default"]
    at = data.index(b"INSERT INTO `message`")
    damaged = data[:at] + STRAYS[kind] + data[at:]
    proc = _client(mariadb, mariadb.create_database("h1client"), damaged)
    # ERROR 1064 (a syntax error), or for the NUL "ASCII '\0' appeared in the statement"
    assert proc.returncode != 0 and (b"ERROR 1064" in proc.stderr or b"ASCII '\\0' appeared" in proc.stderr), proc.stderr
    with pytest.raises(UnexpectedInputError):
        rows_of(damaged, ["message"])


def test_a_leading_bom_is_accepted_by_the_client_and_by_the_reader(mariadb, dumps) -> None:  # type: ignore[no-untyped-def]
    data = BOM + dumps["default"]
    database = mariadb.create_database("h1bom")
    proc = _client(mariadb, database, data)
    assert proc.returncode == 0, proc.stderr
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM message")
        assert cur.fetchone()[0] == 60
    rows = list(DumpReader(io.BytesIO(data), ["message"]))
    assert len(rows) == 60 and rows[0].offset == dumps["default"].index(b"('M0000'") + 3


def test_an_insert_hidden_in_a_version_comment_is_refused(dumps: dict[str, bytes]) -> None:
    # the client runs /*!40000 ... */ as SQL: data there cannot be skipped as a comment
    data = dumps["default"]
    at = data.index(b"/*!40000 ALTER TABLE `message` ENABLE KEYS")
    hidden = b"/*!40000 INSERT INTO `message` VALUES ('M9','x',0,'buyer','C000',0,'2024-01-01') */;\n"
    with pytest.raises(UnexpectedInputError) as info:
        rows_of(data[:at] + hidden + data[at:], ["chat"])
    assert info.value.offset == at


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_dump_is_refused_saying_so(dumps: dict[str, bytes], encoding: str) -> None:
    data = dumps["default"].decode("utf-8").encode(encoding)
    with pytest.raises(UnexpectedInputError) as info:
        rows_of(data)
    assert info.value.offset == 0 and "UTF-16" in str(info.value)


NOT_DUMPS = {
    "empty": b"",
    "whitespace": b"\n\n  \n",
    "comments-only": b"-- MariaDB dump 10.19\n/* nothing */\n# more\n",
    "json": b'{"chats": [{"id": 1}]}\n',
    "csv": b"id,message,chat_id\n1,hello,C1\n",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "python": b"import os\nprint('INSERT INTO `message` VALUES (1);')\n",
    "psql": b"COPY public.message (id, message) FROM stdin;\n1\thello\n\\.\n",
    "select": b"SELECT * FROM message;\n",
}


@pytest.mark.parametrize("name", list(NOT_DUMPS))
def test_a_file_that_is_not_a_dump_is_refused(name: str) -> None:
    with pytest.raises(UnexpectedInputError) as info:
        rows_of(NOT_DUMPS[name])
    assert info.value.line is not None and info.value.offset is not None


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_are_refused(seed: int) -> None:
    data = random.Random(seed).randbytes(1 << 16)
    with pytest.raises(DumpError):
        rows_of(data)


def test_a_dump_cut_inside_a_statement_word_is_truncated_not_unexpected(dumps: dict[str, bytes]) -> None:
    data = dumps["default"]
    at = data.index(b"INSERT INTO `message`")
    for cut in range(at + 1, at + 6):  # "I" .. "INSER"
        with pytest.raises(TruncatedDumpError) as info:
            rows_of(data[:cut])
        assert info.value.offset == at


def test_the_cli_exits_2_with_one_sentence(dumps: dict[str, bytes], tmp_path: Path) -> None:
    data = dumps["default"]
    at = data.index(b"INSERT INTO `message`")
    path = tmp_path / "stray.sql"
    path.write_bytes(data[:at] + b"x" + data[at:])
    proc = subprocess.run([sys.executable, "-m", "chatmigrate", "inspect", str(path), "-t", "chat"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"byte offset {at}" in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ the allow-list, statement by statement

CREATE_T = "CREATE TABLE `t` (`id` int NOT NULL, `v` text);"
ROW_BEFORE = "INSERT INTO `t` VALUES (1,'before');"
ROW_AFTER = "INSERT INTO `t` VALUES (2,'after');"
WRITTEN_BY_DUMPERS = {  # what mysqldump 5.7/8.x and mariadb-dump write with their options, beyond the dumps above
    "gtid-purged": "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5';",
    "sql-log-bin": "SET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN;\nSET @@SESSION.SQL_LOG_BIN= 0;",
    "source-data": "CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;",
    "master-data": "CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=328;",
    "gtid-slave-pos": "SET GLOBAL gtid_slave_pos='0-1-2';",
    "dump-replica": "STOP REPLICA;\nSTART REPLICA;",
    "dump-slave": "STOP SLAVE;\nSTART SLAVE;",
    "transaction": "START TRANSACTION;\nBEGIN;\nCOMMIT;",
    "savepoints": "SAVEPOINT sp;\nRELEASE SAVEPOINT sp;\nROLLBACK TO SAVEPOINT sp;",
    "flush-privileges": "FLUSH PRIVILEGES;",
    "locks": "LOCK TABLES `t` WRITE;\nUNLOCK TABLES;",
    "alter-database": "ALTER DATABASE `legacy` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci ;",
    "users": "CREATE USER IF NOT EXISTS `app`@`%`;\nGRANT SELECT ON `legacy`.* TO `app`@`%`;",
    "sequence": "DO SETVAL(`ticket`, 1, 0);",
    "insert-ignore": "INSERT IGNORE INTO `other` VALUES (1);\nREPLACE INTO `other` VALUES (2);",
    "lowercase": "set names utf8mb4;\nlock tables `t` write;",
    "delimiter-block": "DELIMITER ;;\n/*!50003 SET sql_mode = '' */ ;;\n/* plain */ /*!50003 SET @x = 1 */ ;;\nDELIMITER ;",
}


@pytest.mark.parametrize("name", list(WRITTEN_BY_DUMPERS))
def test_what_dumpers_write_is_read(make_dump, name: str) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(CREATE_T, ROW_BEFORE, WRITTEN_BY_DUMPERS[name], ROW_AFTER)
    assert [v["id"] for _, v in rows_of(data, ["t"])] == [1, 2]


NOT_WRITTEN_BY_DUMPERS = {  # statements that would change data when loaded: never skipped
    "delete": "DELETE FROM `t` WHERE id = 1;",
    "update": "UPDATE `t` SET v = 'changed';",
    "truncate": "TRUNCATE TABLE `t`;",
    "select": "SELECT * FROM `t`;",
    "call": "CALL add_message();",
    "load-data": "LOAD DATA INFILE '/tmp/rows.csv' INTO TABLE `t`;",
    "insert-in-version-comment-in-delimiter-block": "DELIMITER ;;\n/*!50003 INSERT INTO `t` VALUES (3,'hidden') */;;\nDELIMITER ;",
    "insert-after-comment-in-delimiter-block": "DELIMITER ;;\n/* note */ INSERT INTO `t` VALUES (3,'hidden');;\nDELIMITER ;",
    "replace-in-version-comment": "/*!40000 REPLACE INTO `t` VALUES (3,'hidden') */;",
    "dash-dash-without-space": "--not a comment\n",
}


@pytest.mark.parametrize("name", list(NOT_WRITTEN_BY_DUMPERS))
@pytest.mark.parametrize("tables", [["t"], ["other"]], ids=["table-read", "table-not-read"])
def test_other_statements_are_refused(make_dump, name: str, tables: list[str]) -> None:  # type: ignore[no-untyped-def]
    statement = NOT_WRITTEN_BY_DUMPERS[name]
    data = make_dump(CREATE_T, ROW_BEFORE, statement, ROW_AFTER)
    with pytest.raises(UnexpectedInputError) as info:
        rows_of(data, tables)
    start = data.index(statement.encode())
    first = start + (statement.index("\n") + 1 if statement.startswith("DELIMITER") else 0)
    assert info.value.offset == first and info.value.line == data[:first].count(b"\n") + 1
