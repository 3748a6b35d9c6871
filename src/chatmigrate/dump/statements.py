"""Statement-level grammar of a mysqldump file.

Owns: the regular expressions that recognise what starts a statement (``INSERT``,
``REPLACE``, ``CREATE TABLE``, ``DELIMITER``, anything else), skip comments and
whitespace between statements, skip a whole statement without parsing its values
(respecting quotes, so a ``;`` inside a string never ends it), read identifiers
(backtick, ANSI double quote, bare), and parse a ``CREATE TABLE`` body into its real
column definitions (never KEY / INDEX / CONSTRAINT lines, never splitting on commas
inside ``decimal(10,2)``, ``enum('a','b')`` or key column lists).

Does not own: buffering or streaming (``reader``), value lexing (``tokens``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tokens import DQ, SQ

# Whitespace and comments between statements. ``/*!40101 ... */`` conditional comments
# and MariaDB's ``/*M!999999\- enable the sandbox mode */`` are comments too.
GAP_RE = re.compile(
    rb"(?:[ \t\r\n]++|--(?:[ \t\r][^\n]*+)?(?:\n|\Z)|#[^\n]*+(?:\n|\Z)|/\*.*?\*/)*+",
    re.S,
)
# Inside a DELIMITER block, /*!50003 ... */ comments hold trigger and routine bodies that
# may contain comments of their own: they belong to the statement (skipped whole), never
# to the gap, or a nested "*/" would end them early.
GAP_IN_DELIMITER_RE = re.compile(rb"(?:[ \t\r\n]++|--(?:[ \t\r][^\n]*+)?(?:\n|\Z)|#[^\n]*+(?:\n|\Z))*+", re.S)

_IDENT = rb"(?:`(?:[^`]|``)+`|\"(?:[^\"]|\"\")+\"|[A-Za-z0-9_$]+)"
_QUALIFIED = rb"(?:" + _IDENT + rb"[ \t\r\n]*\.[ \t\r\n]*)?(" + _IDENT + rb")"

INSERT_HEAD_RE = re.compile(
    rb"(?i:(?:INSERT(?:[ \t\r\n]+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY))?(?:[ \t\r\n]+IGNORE)?"
    rb"|REPLACE(?:[ \t\r\n]+(?:LOW_PRIORITY|DELAYED))?)[ \t\r\n]+INTO)[ \t\r\n]+"
    + _QUALIFIED
    + rb"[ \t\r\n]*(\([^)]*\))?[ \t\r\n]*(?i:VALUES?)(?=[ \t\r\n(])[ \t\r\n]*",
    re.S,
)
CREATE_TABLE_HEAD_RE = re.compile(
    rb"(?i:CREATE[ \t\r\n]+(?:TEMPORARY[ \t\r\n]+)?TABLE(?:[ \t\r\n]+IF[ \t\r\n]+NOT[ \t\r\n]+EXISTS)?)"
    rb"[ \t\r\n]+" + _QUALIFIED,
    re.S,
)
DELIMITER_RE = re.compile(rb"(?i:DELIMITER)[ \t]+([^\s]+)[ \t]*\r?\n")
IDENT_RE = re.compile(_IDENT)

# The first word of every statement mysqldump (5.x, 8.x) and mariadb-dump write, with
# --routines --events --triggers --single-transaction --master-data/--source-data
# --add-drop-database --databases --system=users --insert-ignore --replace --add-locks
# --flush-privileges. Anything else between statements is refused, never skipped: a
# stray byte glued to "INSERT" would otherwise hide the whole INSERT.
STATEMENT_WORDS = frozenset(
    w.encode()
    for w in (
        "SET", "LOCK", "UNLOCK", "DROP", "CREATE", "ALTER", "USE", "INSERT", "REPLACE", "DELIMITER",
        "START", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK", "FLUSH", "CHANGE", "STOP",
        "DO", "GRANT", "RESET",
    )
)
# Inside a DELIMITER block the gap has no comments (trigger and routine bodies are
# /*!50003 ... */ comments); a statement there may open with plain comments and
# version comments (``/*!50003 CREATE*/ /*!50017 DEFINER=...*/ /*!50003 TRIGGER``).
STATEMENT_LEAD_RE = re.compile(rb"(?:/\*(?!M?!).*?\*/[ \t\r\n]*)*(?:/\*M?![0-9]*[ \t\r\n]*)?", re.S)
WORD_RE = re.compile(rb"[A-Za-z_]+")
# A version comment in the gap that holds data: ``/*!40000 INSERT ...*/`` would be run by
# the client, so it cannot be skipped as a comment.
DATA_IN_COMMENT_RE = re.compile(rb"/\*M?![0-9]*[ \t\r\n]*(?i:INSERT|REPLACE)\b")


def string_end_regex(quote: bytes) -> re.Pattern[bytes]:
    """The longest run of a quoted string's body (after its opening quote) that is
    certainly not its end: stops at a quote, at a backslash that is the last byte, or at
    the end of the buffer."""
    q = re.escape(quote)
    return re.compile(rb"(?:[^" + q + rb"\\]++|\\.)*+", re.S)


STRING_BODY_RE = {b"'": string_end_regex(b"'"), b'"': string_end_regex(b'"')}

_BQ = rb"`(?:[^`]|``)*`"
# Comments inside a statement must be complete (a line comment up to its newline): one cut
# by the end of the buffer matches nothing here, so the skipping stops and reads more.
_COMMENT = rb"/\*.*?\*/|--[ \t\r][^\n]*+\n|--\n|#[^\n]*+\n"


def skip_body_regex(delimiter: bytes = b";") -> re.Pattern[bytes]:
    """A regex consuming the longest prefix of a statement that contains no delimiter.

    It stops right before the delimiter, or where a quoted string or comment runs past
    the end of the buffer (the reader then reads more and continues).
    """
    first = re.escape(delimiter[:1])
    rest = re.escape(delimiter[1:])
    plain = rb"[^'\"`/#\-" + first + rb"]++"
    # a slash or dash that certainly starts no comment (the next byte is known and is not
    # '*' / not '-'); '#' always starts one
    lone = rb"/(?=[^*])|-(?=[^-])|--(?=[^ \t\r\n])"
    alts = [plain, SQ, DQ, _BQ, _COMMENT]
    if rest:
        alts.append(first + rb"(?!" + rest + rb")")
    alts.append(lone)
    return re.compile(rb"(?:" + rb"|".join(alts) + rb")*+", re.S)


SKIP_BODY_RE = skip_body_regex(b";")


BAD_NAME = "a table or column name that is not UTF-8 text"


def unquote_identifier(raw: bytes) -> str:
    """The name a quoted or bare identifier stands for; UnicodeDecodeError if its bytes
    are not UTF-8 (the reader refuses it as ``BAD_NAME``, with where)."""
    text = raw.decode("utf-8")
    if text[:1] == "`":
        return text[1:-1].replace("``", "`")
    if text[:1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def identifier_list(raw: bytes) -> list[str]:
    """``(`a`, `b`)`` -> ``["a", "b"]`` (the INSERT's own column list)."""
    return [unquote_identifier(m.group(0)) for m in IDENT_RE.finditer(raw.strip()[1:-1])]


# --------------------------------------------------------------------------- CREATE TABLE


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # the column's SQL type as written, e.g. "varchar(255)", "enum('buyer','stylist')"


_NOT_COLUMNS = {
    "PRIMARY", "UNIQUE", "KEY", "INDEX", "CONSTRAINT", "FOREIGN", "FULLTEXT",
    "SPATIAL", "CHECK", "PERIOD", "VECTOR",
}
_SPLIT_RE = re.compile(
    rb"(" + SQ + rb"|" + DQ + rb"|" + _BQ + rb"|\(|\)|,)",
    re.S,
)
_TYPE_RE = re.compile(
    r"\s*([A-Za-z]+(?:\s+(?:unsigned|zerofill|precision|varying))*(?:\s*\((?:'(?:[^'\\]|\\.|'')*'|[^)'])*\))?"
    r"(?:\s+(?:unsigned|zerofill))*)",
    re.S | re.I,
)


def split_top_level(body: bytes) -> list[bytes]:
    """Split a parenthesised list on the commas at nesting depth 0 (quotes respected)."""
    parts: list[bytes] = []
    depth = 0
    start = 0
    for m in _SPLIT_RE.finditer(body):
        tok = m.group(0)
        if tok == b"(":
            depth += 1
        elif tok == b")":
            depth -= 1
        elif tok == b"," and depth == 0:
            parts.append(body[start : m.start()])
            start = m.end()
    parts.append(body[start:])
    return [p.strip() for p in parts if p.strip()]


def table_body(statement: bytes) -> bytes | None:
    """The bytes between the first ``(`` after the table name and its matching ``)``."""
    head = CREATE_TABLE_HEAD_RE.match(statement)
    if head is None:
        return None
    depth = 0
    start = None
    for m in _SPLIT_RE.finditer(statement, head.end()):
        tok = m.group(0)
        if tok == b"(":
            depth += 1
            if depth == 1:
                start = m.end()
        elif tok == b")":
            depth -= 1
            if depth == 0 and start is not None:
                return statement[start : m.start()]
    return None


def parse_columns(body: bytes) -> list[Column]:
    """The real column definitions of a CREATE TABLE body, in order."""
    columns: list[Column] = []
    for part in split_top_level(body):
        m = IDENT_RE.match(part)
        if m is None:
            continue
        word = m.group(0)
        name = unquote_identifier(word)
        if word[:1] not in (b"`", b'"') and name.upper() in _NOT_COLUMNS:
            continue
        rest = part[m.end() :].decode("utf-8", errors="replace")
        t = _TYPE_RE.match(rest)
        columns.append(Column(name, (t.group(1) if t else rest).strip()))
    return columns
