"""The statement grammar of a dump (``chatmigrate.dump.statements``) and its use by the reader.

Covers: CREATE TABLE column parsing (types with commas, enum values with commas,
COMMENTs, KEY / UNIQUE KEY / CONSTRAINT / FOREIGN KEY / CHECK lines excluded, ANSI
quotes); how INSERT statements are recognised (INSERT IGNORE, REPLACE, qualified and
double-quoted names, column lists in another order); what is skipped between and
instead of statements (conditional comments, the MariaDB sandbox line, ``--`` and
``#`` comments, DELIMITER blocks with procedures and triggers whose bodies contain
INSERTs); exact table-name matching. Reader-level cases run at several tiny chunk
sizes, which must never change the result.
"""

from __future__ import annotations

import io

import pytest

from chatmigrate.dump import Column, scan_dump
from chatmigrate.dump import statements as st

CHUNK_SIZES = [1, 2, 3, 7, 64, 1 << 22]

LEGACY_CHAT = """CREATE TABLE `chat` (
  `id` varchar(36) NOT NULL,
  `buyer_id` varchar(36) NOT NULL,
  `stylist_id` varchar(36) NOT NULL,
  `buyer_has_unread` tinyint(4) NOT NULL DEFAULT 0,
  `stylist_has_unread` tinyint(4) NOT NULL DEFAULT 0,
  `created_at` datetime(6) NOT NULL DEFAULT current_timestamp(6),
  `updated_at` datetime(6) NOT NULL DEFAULT current_timestamp(6) ON UPDATE current_timestamp(6),
  `booking_id` varchar(255) DEFAULT NULL,
  `is_active` tinyint(4) NOT NULL DEFAULT 1,
  PRIMARY KEY (`id`),
  UNIQUE KEY `UQ_BUYER_STYLIST_BOOKING` (`buyer_id`,`stylist_id`,`booking_id`),
  KEY `FK_stylist` (`stylist_id`),
  CONSTRAINT `FK_buyer` FOREIGN KEY (`buyer_id`) REFERENCES `buyer` (`id`) ON DELETE CASCADE,
  CONSTRAINT `FK_stylist` FOREIGN KEY (`stylist_id`) REFERENCES `stylist` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;"""
LEGACY_CHAT_COLUMNS = [
    ("id", "varchar(36)"), ("buyer_id", "varchar(36)"), ("stylist_id", "varchar(36)"),
    ("buyer_has_unread", "tinyint(4)"), ("stylist_has_unread", "tinyint(4)"), ("created_at", "datetime(6)"),
    ("updated_at", "datetime(6)"), ("booking_id", "varchar(255)"), ("is_active", "tinyint(4)"),
]

# (id, CREATE TABLE body lines, expected (name, type) pairs)
COLUMN_CASES = [
    ("decimal-with-comma", ["`amount` decimal(10,2) NOT NULL"], [("amount", "decimal(10,2)")]),
    ("enum-value-with-comma", ["`kind` enum('a','b,c') DEFAULT 'a'"], [("kind", "enum('a','b,c')")]),
    ("enum-value-with-paren-and-quote", ["`k` enum('x)','it''s') NOT NULL"], [("k", "enum('x)','it''s')")]),
    ("comment-with-comma", ["`note` varchar(20) DEFAULT NULL COMMENT 'x, y'", "`n` int"],
     [("note", "varchar(20)"), ("n", "int")]),
    ("comment-with-paren-and-escape", ["`c` text COMMENT 'a (b, c\\' d'", "`d` date"], [("c", "text"), ("d", "date")]),
    ("default-with-comma", ["`tags` varchar(9) DEFAULT 'a,b'", "`z` int"], [("tags", "varchar(9)"), ("z", "int")]),
    ("unsigned", ["`u` int(10) unsigned NOT NULL"], [("u", "int(10) unsigned")]),
    ("generated", ["`a` int", "`b` int GENERATED ALWAYS AS (`a` * 2) VIRTUAL"], [("a", "int"), ("b", "int")]),
    ("check-constraint-inline", ["`j` longtext DEFAULT NULL CHECK (json_valid(`j`))"], [("j", "longtext")]),
    ("keyword-named-columns", ["`key` varchar(10)", "`primary` int", "`constraint` int"],
     [("key", "varchar(10)"), ("primary", "int"), ("constraint", "int")]),
    ("ansi-quotes", ['"id" int(11) NOT NULL', '"is_from" enum(\'buyer\',\'stylist\')', 'PRIMARY KEY ("id")'],
     [("id", "int(11)"), ("is_from", "enum('buyer','stylist')")]),
    ("every-kind-of-key-line", [
        "`id` int", "`g` point NOT NULL", "`t` text", "PRIMARY KEY (`id`)", "UNIQUE KEY `u` (`id`,`t`(10))",
        "KEY `k` (`t`(5))", "INDEX `i` (`id`)", "FULLTEXT KEY `f` (`t`)", "SPATIAL KEY `s` (`g`)",
        "CONSTRAINT `c` FOREIGN KEY (`id`) REFERENCES `x` (`id`)", "FOREIGN KEY (`id`) REFERENCES `y` (`id`)",
        "CONSTRAINT `chk` CHECK (`id` > 0)", "CHECK (`id` < 10)",
     ], [("id", "int"), ("g", "point"), ("t", "text")]),
]


@pytest.mark.parametrize(("lines", "expected"), [c[1:] for c in COLUMN_CASES], ids=[c[0] for c in COLUMN_CASES])
def test_create_table_columns(lines: list[str], expected: list[tuple[str, str]]) -> None:
    statement = ("CREATE TABLE `t` (\n  " + ",\n  ".join(lines) + "\n) ENGINE=InnoDB;").encode()
    body = st.table_body(statement)
    assert body is not None
    assert [(c.name, c.type) for c in st.parse_columns(body)] == expected


def test_legacy_chat_has_exactly_its_nine_columns() -> None:
    columns = st.parse_columns(st.table_body(LEGACY_CHAT.encode()))  # type: ignore[arg-type]
    assert [(c.name, c.type) for c in columns] == LEGACY_CHAT_COLUMNS


@pytest.mark.parametrize(
    "head",
    [
        "CREATE TABLE IF NOT EXISTS `t`", "CREATE TEMPORARY TABLE `t`", "create table t", "CREATE TABLE `db`.`t`", 'CREATE TABLE "t"',
    ],
)
def test_table_body_after_any_head(head: str) -> None:
    statement = f"{head} (\n  `a` int,\n  `b` decimal(5,1)\n) ENGINE=InnoDB COMMENT='x (y)';".encode()
    m = st.CREATE_TABLE_HEAD_RE.match(statement)
    assert m is not None and st.unquote_identifier(m.group(1)) == "t"
    assert [c.name for c in st.parse_columns(st.table_body(statement))] == ["a", "b"]  # type: ignore[arg-type]


def test_create_table_like_has_no_body() -> None:
    assert st.table_body(b"CREATE TABLE `t2` LIKE `t`;") is None


@pytest.mark.parametrize(
    ("head", "table", "columns"),
    [
        ("INSERT INTO `message` VALUES", "message", None),
        ("INSERT INTO message VALUES", "message", None),
        ('INSERT INTO "message" VALUES', "message", None),
        ("INSERT IGNORE INTO `message` VALUES", "message", None),
        ("REPLACE INTO `message` VALUES", "message", None),
        ("insert into `message` values", "message", None),
        ("INSERT  INTO\n`legacy`.`message`\nVALUES", "message", None),
        ("INSERT INTO `we``ird` VALUES", "we`ird", None),
        ("INSERT INTO `message` (`id`, `message`) VALUES", "message", ["id", "message"]),
        ('INSERT INTO "message" ("id","message") VALUES', "message", ["id", "message"]),
    ],
    ids=["backticks", "bare", "ansi", "ignore", "replace", "lowercase", "qualified-multiline",
         "doubled-backtick", "column-list", "ansi-column-list"],
)
def test_insert_head(head: str, table: str, columns: list[str] | None) -> None:
    m = st.INSERT_HEAD_RE.match(head.encode() + b" (1,'x');")
    assert m is not None
    assert st.unquote_identifier(m.group(1)) == table
    assert (None if m.group(2) is None else st.identifier_list(m.group(2))) == columns


@pytest.mark.parametrize(
    "gap",
    [
        b"/*M!999999\\- enable the sandbox mode */ \n", b"-- comment\n", b"--\n", b"--\r\n", b"# hash comment\n",
        b"/* multi\nline */", b"/*!40101 SET NAMES utf8mb4 */", b"\n\t  \r\n",
    ],
    ids=["sandbox", "dash-comment", "empty-dash-comment", "empty-dash-comment-crlf", "hash", "block", "conditional", "ws"],
)
def test_gap_skips_comments_and_whitespace(gap: bytes) -> None:
    text = gap + b"INSERT"
    assert st.GAP_RE.match(text).end() == len(gap)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("delimiter", "statement"),
    [
        (b";", b"SET @a = 'x;y', @b = \"p;q\", @`c;` = 1 /* ; */ -- ;\n + 1"),
        (b";;", b"CREATE PROCEDURE p() BEGIN INSERT INTO message VALUES (1,'a;;b'); SELECT 1; END "),
        (b"$$", b"CREATE PROCEDURE p() BEGIN SELECT '$$', 2$3; END "),
    ],
    ids=["semicolons-in-quotes-and-comments", "double-semicolon", "dollars"],
)
def test_skip_body_stops_only_at_the_delimiter(delimiter: bytes, statement: bytes) -> None:
    m = st.skip_body_regex(delimiter).match(statement + delimiter + b"\nNEXT")
    assert m.end() == len(statement)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- through the reader

MESSAGE = "CREATE TABLE `message` (\n  `id` int(11) NOT NULL,\n  `message` text NOT NULL,\n  PRIMARY KEY (`id`)\n);"


def msg(*pairs: tuple[int, str]) -> list[tuple[str, dict[str, object]]]:
    return [("message", {"id": i, "message": m}) for i, m in pairs]


# (id, statements after the header, rows expected for tables=["message"])
READER_CASES = [
    ("insert-ignore", [MESSAGE, "INSERT IGNORE INTO `message` VALUES (1,'a');"], msg((1, "a"))),
    ("replace-into", [MESSAGE, "REPLACE INTO `message` VALUES (1,'a'),(2,'b');"], msg((1, "a"), (2, "b"))),
    ("ansi-double-quoted-names", [MESSAGE.replace("`", '"'), 'INSERT INTO "message" VALUES (1,\'a\');'],
     msg((1, "a"))),
    ("column-list-in-other-order", [MESSAGE, "INSERT INTO `message` (`message`, `id`) VALUES ('x',7);"],
     msg((7, "x"))),
    ("qualified-name", [MESSAGE, "INSERT INTO `legacy`.`message` VALUES (1,'q');"], msg((1, "q"))),
    ("exact-table-names", [
        MESSAGE, MESSAGE.replace("`message` (", "`personal_message` ("),
        MESSAGE.replace("`message` (", "`message_old` ("),
        "INSERT INTO `personal_message` VALUES (1,'decoy');", "INSERT INTO `message_old` VALUES (2,'old');",
        "INSERT INTO `message` VALUES (3,'real');", "INSERT INTO `messages` VALUES (4,'plural');",
     ], msg((3, "real"))),
    ("skipped-insert-with-delimiters-in-strings", [
        MESSAGE, "INSERT INTO `personal_message` VALUES (1,'a;b'),(2,'x\\');\\nINSERT INTO `message` VALUES (9,\\'no\\');');",
        "INSERT INTO `message` VALUES (1,'yes');",
     ], msg((1, "yes"))),
    ("comments-and-conditional-comments", [
        "/*!40101 SET @saved_cs_client = @@character_set_client */;", "-- a comment with 'quote\n--",
        "# INSERT INTO `message` VALUES (5,'hash');", "/* INSERT INTO `message` VALUES (6,'block'); */",
        MESSAGE, "/*!40000 ALTER TABLE `message` DISABLE KEYS */;", "LOCK TABLES `message` WRITE;",
        "INSERT INTO `message` VALUES (1,'a');", "/*!40000 ALTER TABLE `message` ENABLE KEYS */;", "UNLOCK TABLES;",
     ], msg((1, "a"))),
    ("procedure-in-delimiter-block", [
        MESSAGE, "DELIMITER ;;",
        "CREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN\n  -- don't\n"
        "  INSERT INTO message VALUES (98, 'from proc; x');\n  INSERT INTO `message` VALUES (97,'y');\nEND ;;",
        "DELIMITER ;", "INSERT INTO `message` VALUES (1,'after');",
     ], msg((1, "after"))),
    ("trigger-in-versioned-comment", [
        MESSAGE, "DELIMITER ;;",
        "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `trg` BEFORE INSERT ON `log`"
        " FOR EACH ROW INSERT INTO message VALUES (99, 'from trigger') */;;",
        "DELIMITER ;", "INSERT INTO `message` VALUES (1,'after');",
     ], msg((1, "after"))),
    ("create-table-after-other-statements", [
        "DROP TABLE IF EXISTS `message`;", "/*!40101 SET character_set_client = utf8mb4 */;", MESSAGE,
        "INSERT INTO `message` VALUES(1,'no space before paren');",
     ], msg((1, "no space before paren"))),
]


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize(("statements", "expected"), [c[1:] for c in READER_CASES], ids=[c[0] for c in READER_CASES])
def test_statements_through_the_reader(make_dump, read_dump, statements, expected, chunk_size) -> None:  # type: ignore[no-untyped-def]
    assert read_dump(make_dump(*statements), ["message"], chunk_size=chunk_size) == expected


def test_scan_dump_learns_columns_in_declared_order(make_dump) -> None:  # type: ignore[no-untyped-def]
    data = make_dump(LEGACY_CHAT, MESSAGE)
    info = scan_dump(io.BytesIO(data)).tables
    assert list(info) == ["chat", "message"]
    assert list(info["chat"].columns) == [Column(n, t) for n, t in LEGACY_CHAT_COLUMNS]
    assert [c.name for c in info["message"].columns] == ["id", "message"]
    assert info["chat"].create_line == data[: data.index(b"CREATE TABLE `chat`")].count(b"\n") + 1


def test_delimiter_block_does_not_hide_following_statements(make_dump, read_dump) -> None:  # type: ignore[no-untyped-def]
    # the delimiter changes back: a ';' must end statements again after DELIMITER ;
    data = make_dump(
        MESSAGE, "DELIMITER $$", "CREATE FUNCTION f() RETURNS INT RETURN 1 $$", "DELIMITER ;",
        "SET @x = 1;", "INSERT INTO `message` VALUES (1,'a');", "SET @y = 2;", "INSERT INTO `message` VALUES (2,'b');",
    )
    assert read_dump(data, ["message"]) == msg((1, "a"), (2, "b"))


def test_trigger_body_with_a_comment_yields_no_rows(make_dump, read_dump) -> None:  # type: ignore[no-untyped-def]
    # mariadb-dump writes a trigger's code verbatim inside /*!50003 ... */, comments
    # included (test_dump_mariadb has the same case from a real dump). The versioned
    # comment is SQL to MySQL: its own /* */ does not end it, and the INSERT is trigger
    # code, not data.
    data = make_dump(
        MESSAGE, "DELIMITER ;;",
        "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `trg` BEFORE INSERT ON `log`"
        " FOR EACH ROW BEGIN /* copy it */ INSERT INTO message VALUES (99, 'from trigger'); END */;;",
        "DELIMITER ;", "INSERT INTO `message` VALUES (1,'after');",
    )
    assert read_dump(data, ["message"]) == msg((1, "after"))


@pytest.mark.parametrize(
    "comment",
    [b"-- don't; stop\n", b"/* isn't; it */", b"# it's; here\n"],
    ids=["dash-comment", "block-comment", "hash-comment"],
)
def test_buffer_boundary_in_a_comment_inside_a_long_procedure(boundary_sweep, make_dump, comment: bytes) -> None:  # type: ignore[no-untyped-def]
    # Statements shorter than the reader's look-ahead are never split, so the procedure
    # is made long; the buffer then ends at every byte of a comment holding a quote.
    before = make_dump(MESSAGE, "DELIMITER ;;", trailer=False) + b"CREATE PROCEDURE `p`()\nBEGIN\n  SET @pad = '"
    segment = b"';\n  " + comment + b"\n  INSERT INTO message VALUES (2,'inside');\nEND ;;\nDELIMITER ;\n"
    after = b"INSERT INTO `message` VALUES (1,'after');\n-- Dump completed\n"
    boundary_sweep(before, segment, after, expected=msg((1, "after")), chunk_size=1, tables=["message"])


def test_buffer_boundary_in_comments_between_statements(boundary_sweep, make_dump) -> None:  # type: ignore[no-untyped-def]
    # after a long INSERT the reader refills while skipping the comments that follow it;
    # a comment cut by the buffer end must still end at its own end, not at the next ';'
    other = MESSAGE.replace("`message` (", "`other` (")
    before = make_dump(MESSAGE, other, trailer=False) + b"INSERT INTO `other` VALUES (0,'"
    segment = (
        b"');\n--\n-- it's a comment; INSERT INTO `message` VALUES (7,'no');\n--\n\n"
        b"/*!40000 ALTER TABLE `other` ENABLE KEYS */ /* don't; */\n# isn't; either\n"
    )
    after = b"INSERT INTO `message` VALUES (1,'after');\n-- Dump completed\n"
    boundary_sweep(before, segment, after, expected=msg((1, "after")), chunk_size=1, tables=["message"])
