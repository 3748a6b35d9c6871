"""The value grammar of one INSERT tuple (``chatmigrate.dump.tokens``).

Covers: every MySQL string escape and doubled quotes, the literal forms mysqldump and
hand-written dumps use (NULL, numbers, 0x.., X'..', b'..', _binary '..', double-quoted
strings), the converters chosen per column type, the fast whole-tuple regex against
the careful value-by-value scanner, and -- with hypothesis -- that anything written
with ``escape()`` into a dump (MySQL 8 single-line and MariaDB one-row-per-line
layouts) is read back unchanged.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatmigrate.dump import tokens

# (id, literal as it appears in a dump, the bytes it stands for)
STRING_LITERALS = [
    ("nul", rb"'a\0b'", b"a\x00b"),
    ("backslash-quote", rb"'it\'s'", b"it's"),
    ("backslash-dquote", rb"'say \"hi\"'", b'say "hi"'),
    ("backspace", rb"'\b'", b"\x08"),
    ("newline", rb"'one\ntwo'", b"one\ntwo"),
    ("carriage-return", rb"'\r'", b"\r"),
    ("tab-escaped", rb"'\t'", b"\t"),
    ("tab-raw", b"'a\tb'", b"a\tb"),
    ("ctrl-z", rb"'\Z'", b"\x1a"),
    ("backslash", rb"'C:\\dir'", b"C:\\dir"),
    ("backslash-then-n", rb"'\\n'", b"\\n"),
    ("backslash-at-end", rb"'end\\'", b"end\\"),
    ("percent-keeps-backslash", rb"'100\%'", b"100\\%"),
    ("underscore-keeps-backslash", rb"'a\_b'", b"a\\_b"),
    ("escaped-backslash-before-percent", rb"'\\%'", b"\\%"),
    ("unknown-escape", rb"'\q'", b"q"),
    # where Python's escape decoder differs from MySQL's: each is MySQL's reading
    ("nul-then-digit", rb"'\01\07'", b"\x001\x007"),
    ("backslash-digit", rb"'\1\7'", b"17"),
    ("backslash-x", rb"'\x41'", b"x41"),
    ("backslash-a-f-v", rb"'\a\f\v'", b"afv"),
    ("backslash-N-u", rb"'\N\u00e6'", b"Nu00e6"),
    ("backslash-raw-newline", b"'a\\\nb'", b"a\nb"),
    ("backslash-multibyte", b"'\\\xc3\xa6'", b"\xc3\xa6"),
    ("doubled-quote", b"'it''s'", b"it's"),
    ("doubled-quote-and-escape", b"'it''s\\n'", b"it's\n"),
    ("only-doubled-quotes", b"''''", b"'"),
    ("empty", b"''", b""),
    ("the-word-null", b"'NULL'", b"NULL"),
    ("semicolon-paren", b"';),('", b";),("),
    ("raw-newline", b"'a\nb'", b"a\nb"),
    ("utf8", "'æøå 😀'".encode(), "æøå 😀".encode()),
    ("dquoted", b'"dq \\" and \'"', b"dq \" and '"),
    ("dquoted-doubled", b'"a""b"', b'a"b'),
    ("dquoted-single-quotes", b'"it\'s"', b"it's"),
    ("binary-introducer", b"_binary '\\0\xff\xfe'", b"\x00\xff\xfe"),
    ("binary-introducer-no-space", b"_binary'ab'", b"ab"),
    ("utf8mb4-introducer", b"_utf8mb4 'x\\'y'", b"x'y"),
    ("hex", b"0x00FFab", b"\x00\xff\xab"),
    ("hex-x-quote", b"X'C328'", b"\xc3\x28"),
    ("hex-x-quote-lower", b"x'4a'", b"J"),
    ("bits", b"b'101'", b"\x05"),
    ("bits-two-bytes", b"b'100000001'", b"\x01\x01"),
]


@pytest.mark.parametrize(("literal", "expected"), [c[1:] for c in STRING_LITERALS], ids=[c[0] for c in STRING_LITERALS])
def test_bytes_of_each_literal_form(literal: bytes, expected: bytes) -> None:
    assert tokens.VALUE_RE.fullmatch(literal), "the value grammar must accept the literal"
    assert tokens.to_bytes(literal) == expected


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


TEXT_LITERALS = [c for c in STRING_LITERALS if _is_utf8(c[2])]


@pytest.mark.parametrize(
    ("literal", "expected"), [(c[1], c[2].decode()) for c in TEXT_LITERALS], ids=[c[0] for c in TEXT_LITERALS]
)
def test_text_of_each_literal_form(literal: bytes, expected: str) -> None:
    assert tokens.to_text(literal) == expected


def test_doubled_other_quote_is_literal() -> None:
    # MySQL: inside '...' a "" is two double quotes, inside "..." a '' is two single
    # quotes; only the doubled *enclosing* quote is an escape. mysqldump writes \" and
    # \' instead, but hand-edited dumps do not, and the grammar must not invent escapes.
    assert tokens.to_text(b"'a\"\"b'") == 'a""b'
    assert tokens.to_text(b"'a\"\"b\\n'") == 'a""b\n'
    assert tokens.to_bytes(b"'a\"\"b'") == b'a""b'
    assert tokens.to_bytes(b'"it\'\'s"') == b"it''s"


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("body", [rb"100\%\n", rb"a\_b\t"])
def test_percent_and_underscore_escapes_use_no_deprecated_behaviour(body: bytes) -> None:
    # Python's own escape decoder keeps an unknown "\%" but warns that this is deprecated
    # (a future Python rejects it); the reader must not depend on that.
    assert tokens.unescape(body) == body.replace(b"\\n", b"\n").replace(b"\\t", b"\t")


@pytest.mark.parametrize(
    ("literal", "expected"),
    [(b"NULL", None), (b"null", None), (b"'NULL'", "NULL"), (b"''", "")],
    ids=["NULL", "null-lowercase", "quoted-NULL-is-text", "empty-string-is-not-null"],
)
def test_null_versus_text(literal: bytes, expected: str | None) -> None:
    assert tokens.to_text(literal) == expected


@pytest.mark.parametrize(
    ("convert", "literal", "expected"),
    [
        (tokens.to_int, b"0", 0),
        (tokens.to_int, b"-42", -42),
        (tokens.to_int, b"18446744073709551615", 18446744073709551615),
        (tokens.to_int, b"'7'", 7),
        (tokens.to_int, b"b'101'", 5),
        (tokens.to_int, b"NULL", None),
        (tokens.to_decimal, b"-12.50", Decimal("-12.50")),
        (tokens.to_decimal, b"99999999.99", Decimal("99999999.99")),
        (tokens.to_decimal, b"'0.10'", Decimal("0.10")),
        (tokens.to_decimal, b"NULL", None),
        (tokens.to_float, b"1.5e-3", 1.5e-3),
        (tokens.to_float, b"-2E+10", -2e10),
        (tokens.to_float, b".5", 0.5),
        (tokens.to_float, b"NULL", None),
    ],
    ids=[
        "int-zero", "int-negative", "int-unsigned-bigint-max", "int-quoted", "int-bit-literal", "int-null",
        "decimal-negative", "decimal-max-10-2", "decimal-quoted", "decimal-null",
        "float-exponent", "float-exponent-upper-sign", "float-leading-dot", "float-null",
    ],
)
def test_number_converters(convert, literal: bytes, expected) -> None:  # type: ignore[no-untyped-def]
    assert tokens.VALUE_RE.fullmatch(literal)
    value = convert(literal)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("column_type", "converter"),
    [
        ("int(11)", tokens.to_int), ("tinyint(4)", tokens.to_int), ("bigint(20) unsigned", tokens.to_int),
        ("smallint", tokens.to_int), ("year(4)", tokens.to_int),
        ("decimal(10,2)", tokens.to_decimal), ("numeric(5)", tokens.to_decimal),
        ("float", tokens.to_float), ("double", tokens.to_float),
        ("varbinary(64)", tokens.to_bytes), ("binary(16)", tokens.to_bytes), ("blob", tokens.to_bytes),
        ("longblob", tokens.to_bytes), ("bit(3)", tokens.to_bytes), ("point", tokens.to_bytes),
        ("geometry", tokens.to_bytes),
        ("varchar(255)", tokens.to_text), ("text", tokens.to_text), ("char(36)", tokens.to_text),
        ("enum('buyer','stylist')", tokens.to_text), ("datetime(6)", tokens.to_text),
        ("timestamp", tokens.to_text), ("date", tokens.to_text), ("longtext", tokens.to_text),
        ("INT(11)", tokens.to_int), ("VARBINARY(8)", tokens.to_bytes),
    ],
)
def test_converter_chosen_by_column_type(column_type: str, converter) -> None:  # type: ignore[no-untyped-def]
    assert tokens.converter_for(column_type) is converter


def test_invalid_utf8_in_text_raises_badtext_but_not_as_bytes() -> None:
    with pytest.raises(tokens.BadText):
        tokens.to_text(b"'ok \xc3\x28'")
    assert tokens.to_bytes(b"'ok \xc3\x28'") == b"ok \xc3\x28"


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        (b"\x00", rb"\0"), (b"\\", rb"\\"), (b"'", rb"\'"), (b'"', rb"\""), (b"\n", rb"\n"),
        (b"\r", rb"\r"), (b"\x1a", rb"\Z"), (b"\t", b"\t"), (b"\x08", b"\x08"), (b"%_", b"%_"),
        (b"\\%", rb"\\%"), ("æ😀".encode(), "æ😀".encode()),
    ],
    ids=["nul", "backslash", "quote", "dquote", "newline", "cr", "ctrl-z", "tab-raw", "backspace-raw",
         "wildcards-raw", "backslash-percent", "utf8-raw"],
)
def test_escape_writes_like_mysqldump(value: bytes, escaped: bytes) -> None:
    assert tokens.escape(value) == escaped
    assert tokens.unescape(escaped) == value


@given(st.binary(max_size=300))
def test_unescape_inverts_escape(data: bytes) -> None:
    escaped = tokens.escape(data)
    assert b"\n" not in escaped and b"\r" not in escaped, "mysqldump never writes a raw newline in a string"
    assert tokens.unescape(escaped) == data


# --------------------------------------------------------------------------- tuples

def literal(value: object, binary_form: str = "quoted") -> bytes:
    """``value`` written the way mysqldump writes it into an INSERT."""
    if value is None:
        return b"NULL"
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, str):
        return b"'" + tokens.escape(value.encode("utf-8")) + b"'"
    assert isinstance(value, bytes)
    if binary_form == "hex" and value:
        return b"0x" + value.hex().upper().encode()
    if binary_form == "introducer":
        return b"_binary '" + tokens.escape(value) + b"'"
    return b"'" + tokens.escape(value) + b"'"


HOSTILE = "\x00\\'\"\n\r\t\x1a\x08%_;(),æøå😀"
texts = st.text(alphabet=st.one_of(st.sampled_from(HOSTILE), st.characters(blacklist_categories=("Cs",))), max_size=30)
rows_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), texts),
        st.one_of(st.none(), st.binary(max_size=30)),
        st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**64 - 1)),
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(texts, st.binary(max_size=20), st.integers(), st.none()), min_size=1, max_size=6))
def test_tuple_regex_and_value_scanner_agree(values: list[object]) -> None:
    tup = b"(" + b",".join(literal(v) for v in values) + b"),"
    fast = tokens.tuple_regex(len(values)).match(tup)
    status, raws, sep, end, start = tokens.scan_tuple(tup, 0)
    assert fast is not None and status == "ok" and start == 0
    assert list(fast.groups()[:-1]) == raws and fast.group(len(values) + 1) == sep == b","
    assert fast.end() == end == len(tup)


CREATE = (
    "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `txt` text DEFAULT NULL,\n"
    "  `bin` blob DEFAULT NULL,\n  `num` bigint(20) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n)"
    " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    rows=rows_strategy,
    layout=st.sampled_from(["mysql8", "mariadb", "one-insert-per-row"]),
    binary_form=st.sampled_from(["quoted", "hex", "introducer"]),
    chunk_size=st.sampled_from([1, 7, 1 << 20]),
)
def test_escaped_rows_read_back_unchanged(make_dump, read_dump, rows, layout, binary_form, chunk_size) -> None:  # type: ignore[no-untyped-def]
    tuples = [
        b"(" + b",".join([literal(i), literal(t), literal(b, binary_form), literal(n)]) + b")"
        for i, (t, b, n) in enumerate(rows, start=1)
    ]
    if layout == "mysql8":
        inserts = [b"INSERT INTO `t` VALUES " + b",".join(tuples) + b";"]
    elif layout == "mariadb":
        inserts = [b"INSERT INTO `t` VALUES\n" + b",\n".join(tuples) + b";"]
    else:
        inserts = [b"INSERT INTO `t` VALUES " + tup + b";" for tup in tuples]
    data = make_dump(CREATE, b"LOCK TABLES `t` WRITE;", *inserts, b"UNLOCK TABLES;")
    got = read_dump(data, ["t"], chunk_size=chunk_size)
    expected = [("t", {"id": i, "txt": t, "bin": b, "num": n}) for i, (t, b, n) in enumerate(rows, start=1)]
    assert got == expected
