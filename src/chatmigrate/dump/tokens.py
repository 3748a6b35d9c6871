"""Values of one INSERT tuple: lexing and conversion to Python.

Owns: the byte-level grammar of a mysqldump value (quoted strings with every MySQL
backslash escape and doubled quotes, ``NULL``, numbers, ``0x..`` hex, ``X'..'``,
``b'..'`` bit literals, ``_binary '..'`` and other charset introducers), the compiled
whole-tuple regular expressions (one per column count, so a tuple is matched by one
call into the regex engine) and the per-column converters that turn raw bytes into
``str`` / ``bytes`` / ``int`` / ``Decimal`` / ``float`` / ``None``.

Does not own: finding statements in a stream, buffering, or error context (line,
offset, table): converters raise :class:`BadText` and the reader adds the context.
Nothing here knows about chats.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

# A single-quoted string: any byte but quote/backslash, a backslash escape of any byte,
# or a doubled quote. Unrolled and possessive so the engine never backtracks into it.
SQ = rb"'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+'"
DQ = rb'"[^"\\]*+(?:(?:\\.|"")[^"\\]*+)*+"'
NUMBER = rb"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
VALUE = (
    rb"(?:" + SQ
    + rb"|NULL|null"
    + rb"|0x[0-9A-Fa-f]*"
    + rb"|" + NUMBER
    + rb"|_[A-Za-z0-9]+[ \t\r\n]*" + SQ
    + rb"|[xXbB]'[0-9A-Fa-f]*'"
    + rb"|" + DQ
    + rb")"
)
WS = rb"[ \t\r\n]*"

VALUE_RE = re.compile(VALUE, re.S)
# A prefix of a value that runs into the end of the buffer (more input may complete it).
PARTIAL_VALUE_RE = re.compile(
    rb"(?:'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+\\?"
    rb'|"[^"\\]*+(?:(?:\\.|"")[^"\\]*+)*+\\?'
    rb"|_[A-Za-z0-9]*[ \t\r\n]*(?:'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+\\?)?"
    rb"|N(?:U(?:L)?)?|n(?:u(?:l)?)?"
    rb"|[-+]?[0-9.]*(?:[eE][-+]?[0-9]*)?"
    rb"|0x[0-9A-Fa-f]*"
    rb"|[xXbB](?:'[0-9A-Fa-f]*)?)\Z",
    re.S,
)


@lru_cache(maxsize=64)
def tuple_regex(n: int) -> re.Pattern[bytes]:
    """The regex matching one whole tuple of ``n`` values plus its separator.

    Groups 1..n are the raw values, group n+1 is the separator after the tuple:
    ``,`` (another tuple follows) or ``;`` (end of statement). The whitespace after the
    separator is consumed too, so the next match starts at its ``(``.
    """
    if n < 1:
        raise ValueError("a tuple has at least one value")
    body = WS + rb"(" + VALUE + rb")" + (WS + rb"," + WS + rb"(" + VALUE + rb")") * (n - 1)
    return re.compile(WS + rb"\(" + body + WS + rb"\)" + WS + rb"([,;])" + WS, re.S)


# --------------------------------------------------------------------------- escapes

_ESCAPES: dict[bytes, bytes] = {bytes([b]): bytes([b]) for b in range(256)}
_ESCAPES.update(
    {
        b"0": b"\x00",
        b"b": b"\x08",
        b"n": b"\n",
        b"r": b"\r",
        b"t": b"\t",
        b"Z": b"\x1a",
        # MySQL keeps the backslash before % and _ (they are LIKE wildcards).
        b"%": b"\\%",
        b"_": b"\\_",
    }
)
_ESCAPE_SQ = re.compile(rb"\\(.)|''", re.S)  # inside '...': backslash escapes and ''
_ESCAPE_DQ = re.compile(rb'\\(.)|""', re.S)  # inside "...": backslash escapes and ""


def _escape_sub(m: re.Match[bytes]) -> bytes:
    c = m.group(1)
    if c is None:  # a doubled quote
        return m.group(0)[:1]
    return _ESCAPES[c]


# Escapes that Python's own bytes-literal decoder reads exactly as MySQL does. Any other
# backslash sequence (\Z, \x, \a, \q, \%, \_, \0 followed by an octal digit, ...) or a
# doubled quote sends the string down the general path.
_PY_SAFE_SQ = re.compile(rb"(?:[^\\']++|\\[nrt'\"\\b]|\\0(?![0-7]))*+", re.S).fullmatch
_PY_SAFE_DQ = re.compile(rb'(?:[^\\"]++|\\[nrt\'"\\b]|\\0(?![0-7]))*+', re.S).fullmatch


def unescape(body: bytes, quote: bytes = b"'") -> bytes:
    """Decode MySQL backslash escapes, and doubled ``quote`` characters, in a string body."""
    doubled = quote + quote
    if b"\\" not in body and doubled not in body:
        return body
    if quote == b"'":
        if _PY_SAFE_SQ(body) is not None:
            return codecs.escape_decode(body)[0]
        return _ESCAPE_SQ.sub(_escape_sub, body)
    if _PY_SAFE_DQ(body) is not None:
        return codecs.escape_decode(body)[0]
    return _ESCAPE_DQ.sub(_escape_sub, body)


def escape(value: bytes) -> bytes:
    """Encode bytes as the body of a MySQL single-quoted string, as mysqldump does."""
    return (
        value.replace(b"\\", b"\\\\")
        .replace(b"\x00", b"\\0")
        .replace(b"\n", b"\\n")
        .replace(b"\r", b"\\r")
        .replace(b"\x1a", b"\\Z")
        .replace(b"'", b"\\'")
        .replace(b'"', b'\\"')
    )


# --------------------------------------------------------------------------- conversion


class BadText(ValueError):
    """A text value whose bytes are not valid UTF-8 (the reader adds table/row/offset)."""


def string_bytes(raw: bytes) -> bytes | None:
    """The bytes a raw value stands for, whatever its lexical form (``None`` for NULL)."""
    q = raw[0]
    if q == 39:  # '
        return unescape(raw[1:-1])
    if q == 34:  # "
        return unescape(raw[1:-1], b'"')
    if q == 78 or q == 110:  # NULL / null
        return None
    if q == 95:  # _binary '...' and other introducers
        return unescape(raw[raw.index(b"'") + 1 : -1])
    if raw[:2] == b"0x":
        return bytes.fromhex(raw[2:].decode("ascii"))
    if q in (120, 88):  # x'..' / X'..'
        return bytes.fromhex(raw[2:-1].decode("ascii"))
    if q in (98, 66):  # b'0101'
        bits = raw[2:-1].decode("ascii") or "0"
        return int(bits, 2).to_bytes(max(1, (len(bits) + 7) // 8), "big")
    return raw  # a number, as written


def to_text(raw: bytes) -> str | None:
    q = raw[0]
    if q == 39:
        body = raw[1:-1]
        if b"\\" in body or b"''" in body:
            body = unescape(body)
    elif q == 78 or q == 110:
        return None
    else:
        b = string_bytes(raw)
        if b is None:
            return None
        body = b
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadText(str(exc)) from None


def to_bytes(raw: bytes) -> bytes | None:
    return string_bytes(raw)


def to_int(raw: bytes) -> int | None:
    q = raw[0]
    if q == 78 or q == 110:
        return None
    if q == 39 or q == 34:
        return int(unescape(raw[1:-1], raw[:1]))
    if q in (98, 66):  # bit literal in an integer column
        return int(raw[2:-1] or b"0", 2)
    return int(raw)


def to_decimal(raw: bytes) -> Decimal | None:
    b = string_bytes(raw)
    if b is None:
        return None
    if not b.isascii():  # not text to refuse as UTF-8 but a value that is no number
        raise ValueError(f"not a decimal number: {b[:40]!r}")
    return Decimal(b.decode("ascii"))


def to_float(raw: bytes) -> float | None:
    b = string_bytes(raw)
    return None if b is None else float(b)


Converter = Callable[[bytes], Any]

_INT_TYPES = ("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year", "serial")
_BYTES_TYPES = (
    "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit",
    "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
    "multipolygon", "geometrycollection",
)
_DECIMAL_TYPES = ("decimal", "numeric", "dec", "fixed")
_FLOAT_TYPES = ("float", "double", "real")


def converter_for(column_type: str) -> Converter:
    """Pick the converter for a column from its SQL type (``varchar(36)``, ``enum(..)``...)."""
    base = re.split(r"[\s(]", column_type.strip().lower(), maxsplit=1)[0]
    if base in _INT_TYPES:
        return to_int
    if base in _BYTES_TYPES:
        return to_bytes
    if base in _DECIMAL_TYPES:
        return to_decimal
    if base in _FLOAT_TYPES:
        return to_float
    return to_text


# --------------------------------------------------------------------------- slow path

WS_RE = re.compile(WS)

MORE = "more"  # the tuple runs past the end of the buffer: read more input and retry


def scan_tuple(buf: bytes, pos: int) -> tuple[str, Any, Any, int]:
    """Lex one tuple value by value; the careful path behind :func:`tuple_regex`.

    Returns ``("ok", raws, separator, end, start)`` (``start``: the offset of its ``(``),
    ``(MORE, None, None, pos)`` when the
    input ends inside the tuple, or ``("error", problem, None, at)`` with the offset
    in ``buf`` where the input stops making sense.
    """
    end = len(buf)
    p = WS_RE.match(buf, pos).end()  # type: ignore[union-attr]
    if p >= end:
        return (MORE, None, None, pos)
    if buf[p] != 40:  # (
        return ("error", "expected '(' to start a row", None, p)
    start = p
    p += 1
    raws: list[bytes] = []
    while True:
        p = WS_RE.match(buf, p).end()  # type: ignore[union-attr]
        if p >= end:
            return (MORE, None, None, pos)
        m = VALUE_RE.match(buf, p)
        if m is None:
            if PARTIAL_VALUE_RE.match(buf, p):
                return (MORE, None, None, pos)
            what = "expected a value" if raws or buf[p] != 41 else "a row has no values"
            return ("error", what, None, p)
        if m.end() >= end:
            return (MORE, None, None, pos)
        raws.append(m.group(0))
        p = WS_RE.match(buf, m.end()).end()  # type: ignore[union-attr]
        if p >= end:
            return (MORE, None, None, pos)
        c = buf[p]
        if c == 44:  # ,
            p += 1
            continue
        if c != 41:  # )
            if PARTIAL_VALUE_RE.match(buf, m.start()):  # e.g. "-1.5e" cut before its digits
                return (MORE, None, None, pos)
            return ("error", "expected ',' or ')' after a value", None, p)
        p = WS_RE.match(buf, p + 1).end()  # type: ignore[union-attr]
        if p >= end:
            return (MORE, None, None, pos)
        if buf[p] in (44, 59):  # , ;
            return ("ok", raws, buf[p : p + 1], p + 1, start)  # type: ignore[return-value]
        return ("error", "expected ',' or ';' after a row", None, p)


# --------------------------------------------------------------------------- fast rows

# Specialised value patterns for the two column kinds that dominate dumps. Each captures
# only what conversion needs: a text body (None for NULL), or an integer's digits.
_TEXT_FRAG = rb"(?:'([^'\\]*+(?:\\.[^'\\]*+)*+)'|NULL)"
_INT_FRAG = rb"(?:([-+]?[0-9]+)|NULL)"


@lru_cache(maxsize=64)
def fast_row(names: tuple[str, ...], convs: tuple[Converter, ...]) -> tuple[re.Pattern[bytes], Callable[[Any], dict[str, Any]]]:
    """A tuple regex and a row builder specialised to a table's column kinds.

    Text columns match only plain quoted strings or NULL, integer columns only digits
    or NULL; anything else (hex, ``_binary``, doubled quotes...) makes the regex fail
    and the reader falls back to the general :func:`tuple_regex` path, so the fast
    path is an optimisation, never a different grammar. The builder is generated
    source, so a row costs one call instead of one call per value. Group ``n`` of a
    match is the separator, as in :func:`tuple_regex`.
    """
    frags: list[bytes] = []
    lines = ["def build(g):"]
    env: dict[str, Any] = {"_u": unescape}
    for i, conv in enumerate(convs):
        if conv is to_text:
            frags.append(_TEXT_FRAG)
            lines += [f"    x{i} = g[{i}]", f"    if x{i} is not None:",
                      f"        x{i} = (x{i} if b'\\\\' not in x{i} else _u(x{i})).decode()"]
        elif conv is to_int:
            frags.append(_INT_FRAG)
            lines += [f"    x{i} = g[{i}]", f"    if x{i} is not None:", f"        x{i} = int(x{i})"]
        else:
            frags.append(rb"(" + VALUE + rb")")
            env[f"_c{i}"] = conv
            lines.append(f"    x{i} = _c{i}(g[{i}])")
    items = ", ".join(f"{name!r}: x{i}" for i, name in enumerate(names))
    lines.append(f"    return {{{items}}}")
    exec("\n".join(lines), env)  # noqa: S102 - source built from repr() of names only
    # mysqldump writes no whitespace inside a tuple; a dump that does takes the general path
    regex = re.compile(WS + rb"\(" + rb",".join(frags) + rb"\)" + WS + rb"([,;])" + WS, re.S)
    return regex, env["build"]
