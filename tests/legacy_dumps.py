"""Real ``mariadb-dump`` output of a small legacy-shaped database, for the tests of damaged
and unexpected input (``test_damaged.py``, ``test_gzip.py``, ``test_contract.py``,
``test_limits.py``).

The database has the three tables the migration reads (``booking``, ``chat``,
``message``, with the legacy columns), a decoy table, and everything mariadb-dump writes
around data: a trigger, a procedure and a function whose bodies hold ``;``, an event, a
view and a sequence. :func:`dump_all_options` dumps it with --routines --events
--triggers --single-transaction --add-drop-database --databases; :func:`to_mysql8` turns
the default layout into MySQL 8's one-line INSERTs. :func:`statement_boundaries` lists
where one statement ends and the next may begin (where a stray byte is refused).
"""

from __future__ import annotations

from typing import Any

SCHEMA = [
    """CREATE TABLE booking (
      id varchar(36) NOT NULL, buyer_id varchar(36) DEFAULT NULL, stylist_id varchar(36) DEFAULT NULL,
      date_time timestamp NULL DEFAULT NULL, status varchar(20) DEFAULT NULL, chat_id varchar(36) DEFAULT NULL,
      created_at datetime(6) NOT NULL, updated_at datetime(6) NOT NULL, PRIMARY KEY (id))""",
    """CREATE TABLE chat (
      id varchar(36) NOT NULL, buyer_id varchar(36) NOT NULL, stylist_id varchar(36) NOT NULL,
      buyer_has_unread tinyint NOT NULL DEFAULT 0, stylist_has_unread tinyint NOT NULL DEFAULT 0,
      created_at datetime(6) NOT NULL, updated_at datetime(6) NOT NULL, booking_id varchar(255) NULL,
      is_active tinyint NOT NULL DEFAULT 1, PRIMARY KEY (id), KEY (buyer_id))""",
    """CREATE TABLE message (
      id varchar(36) NOT NULL, message text NOT NULL, is_image tinyint NOT NULL DEFAULT 0,
      is_from enum('buyer','stylist') NOT NULL, chat_id varchar(36) NOT NULL,
      is_unread tinyint NOT NULL DEFAULT 1, created_at datetime(6) NOT NULL, PRIMARY KEY (id), KEY (chat_id))""",
    """CREATE TABLE personal_message (
      id int NOT NULL AUTO_INCREMENT, message text NOT NULL, PRIMARY KEY (id))""",
]
TEXTS = ["hello", "it's; ok", "a),(b", "line\nbreak", "😀 æøå", "-- not a comment", "/* nor this */", "\\", ""]
BOOKINGS = [(f"B{i:03d}", f"U{i % 3}", f"S{i % 2}", None, "confirmed", f"C{i:03d}",
             "2024-01-02 03:04:05", "2024-01-02 03:04:05") for i in range(6)]
CHATS = [(f"C{i:03d}", f"U{i % 3}", f"S{i % 2}", 0, 1, "2024-01-02 03:04:05.5", "2024-01-03 00:00:00",
          None if i % 2 else f"B{i:03d}", 1) for i in range(6)]
MESSAGES = [(f"M{i:04d}", f"{TEXTS[i % len(TEXTS)]} #{i}", i % 5 == 0, ["buyer", "stylist"][i % 2],
             f"C{i % 6:03d}", i % 2, "2024-02-03 04:05:06.123456") for i in range(60)]
ROUTINES = [
    "CREATE TRIGGER pm_copy BEFORE INSERT ON personal_message FOR EACH ROW "
    "SET NEW.message = CONCAT(NEW.message, '; copied')",
    "CREATE PROCEDURE add_message() BEGIN\n  -- don't run me\n"
    "  INSERT INTO message VALUES ('X', 'from a procedure; ;)', 0, 'buyer', 'Y', 0, NOW());\nEND",
    "CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2",
    "CREATE EVENT tidy ON SCHEDULE EVERY 1 DAY DO DELETE FROM personal_message WHERE id < 0",
    "CREATE VIEW active_chat AS SELECT id, booking_id FROM chat WHERE is_active = 1",
    "CREATE SEQUENCE ticket",
]
COLUMNS = {
    "booking": ["id", "buyer_id", "stylist_id", "date_time", "status", "chat_id", "created_at", "updated_at"],
    "chat": ["id", "buyer_id", "stylist_id", "buyer_has_unread", "stylist_has_unread", "created_at",
             "updated_at", "booking_id", "is_active"],
    "message": ["id", "message", "is_image", "is_from", "chat_id", "is_unread", "created_at"],
}


def fill(mariadb: Any, database: str, *, rename: tuple[str, str] | None = None) -> None:
    """Create and fill the legacy tables; ``rename=(table, column)`` renames that column
    (to ``<column>_renamed``) afterwards, as a changed legacy schema would."""
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        for statement in SCHEMA:
            cur.execute(statement)
        cur.executemany("INSERT INTO booking VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", BOOKINGS)
        cur.executemany("INSERT INTO chat VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", CHATS)
        cur.executemany("INSERT INTO message VALUES (%s, %s, %s, %s, %s, %s, %s)", MESSAGES)
        cur.executemany("INSERT INTO personal_message (message) VALUES (%s)", [(f"decoy {t}",) for t in TEXTS])
        for statement in ROUTINES:
            cur.execute(statement)
        if rename is not None:
            table, column = rename
            cur.execute("DROP VIEW active_chat")  # it names chat's columns
            cur.execute(f"ALTER TABLE `{table}` RENAME COLUMN `{column}` TO `{column}_renamed`")


def dump_all_options(mariadb: Any, database: str) -> bytes:
    return mariadb.dump(database, "--routines", "--events", "--triggers", "--single-transaction",
                        "--add-drop-database", "--databases")


def to_mysql8(dump: bytes) -> bytes:
    """MariaDB's ``VALUES\\n(..),\\n(..);`` joined into MySQL 8's ``VALUES (..),(..);`` on one line.

    Raw newlines never occur inside mysqldump strings, so every line of an INSERT is one tuple.
    """
    out: list[bytes] = []
    pending: list[bytes] | None = None
    for line in dump.split(b"\n"):
        if pending is not None:
            pending.append(line)
            if line.endswith(b");"):
                out.append(pending[0] + b" " + b"".join(pending[1:]))
                pending = None
        elif line.startswith(b"INSERT INTO ") and line.endswith(b" VALUES"):
            pending = [line]
        else:
            out.append(line)
    assert pending is None, "an INSERT did not end with ');'"
    return b"\n".join(out)


def statement_boundaries(dump: bytes) -> list[int]:
    """Every offset where a statement has ended and the next has not begun: the start of
    each line outside a statement, and the end of each line that ends a statement (right
    after its delimiter). ``DELIMITER`` blocks are followed, so a ``;`` inside a routine
    body is not taken for the end of a statement."""
    out: list[int] = []
    delimiter = b";"
    inside = False
    offset = 0
    for line in dump.split(b"\n"):
        stripped = line.strip()
        if not inside:
            out.append(offset)
            if stripped.upper().startswith(b"DELIMITER "):
                delimiter = stripped.split()[1]
            elif not stripped or stripped.startswith(b"--") or (
                stripped.startswith(b"/*") and stripped.endswith(b"*/") and stripped.count(b"*/") == 1
            ):
                pass  # a comment line of the gap
            else:
                inside = True
        if inside and stripped.endswith(delimiter):
            inside = False
            out.append(offset + len(line.rstrip()))
        offset += len(line) + 1
    return sorted(set(b for b in out if b <= len(dump)))
