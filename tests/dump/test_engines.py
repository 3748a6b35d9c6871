"""The native (C) and the pure-Python dump reader (``chatmigrate.dump.engine``).

Covers: which engine runs (the default, ``CHATMIGRATE_PURE_PYTHON``, the constructor
parameter, a usage error for an unknown or unbuilt one), and -- differentially, with
hypothesis -- that INSERT statements made of every value form, hostile bytes, wrong
separators and column counts, cut anywhere and read through tiny buffers, give the
same rows, errors, lines and offsets with both engines. The rest of tests/dump runs
every test with each engine (``conftest.engine``).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chatmigrate.dump import DumpReader, tokens
from chatmigrate.dump import engine as engines
from chatmigrate.errors import UsageError
from differential import COLUMN_TYPES, case_of, dump_of, outcome

needs_native = pytest.mark.skipif(not engines.native_available(), reason="the C extension is not built")


@pytest.fixture(autouse=True)
def engine() -> None:
    """These tests choose the engines themselves: not run once per engine (see conftest)."""


@needs_native
@pytest.mark.parametrize(
    ("env", "asked", "runs"),
    [
        (None, None, "native"),
        ("0", None, "native"),
        ("", None, "native"),
        ("1", None, "python"),
        ("yes", None, "python"),
        ("1", "native", "native"),
        (None, "python", "python"),
    ],
)
def test_which_engine_runs(monkeypatch: pytest.MonkeyPatch, env: str | None, asked: str | None, runs: str) -> None:
    if env is None:
        monkeypatch.delenv(engines.ENV_PURE, raising=False)
    else:
        monkeypatch.setenv(engines.ENV_PURE, env)
    assert DumpReader(io.BytesIO(b""), engine=asked).engine == runs  # type: ignore[arg-type]


def test_an_unknown_engine_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown dump reader engine 'rust'"):
        DumpReader(io.BytesIO(b""), engine="rust")  # type: ignore[arg-type]


def test_native_where_it_is_not_built_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "_NATIVE", None)
    with pytest.raises(UsageError, match="native dump reader is not built"):
        DumpReader(io.BytesIO(b""), engine="native")
    assert DumpReader(io.BytesIO(b"")).engine == "python"


# ------------------------------------------------------------------ differential

LEXEMES = [
    b"NULL", b"null", b"Null", b"NUL", b"0", b"-1", b"+7", b"007", b"1.5", b"-.5", b".", b"-", b"1e5", b"1.e-3",
    b"1e", b"2E+", b"1.5.3", b"0x", b"0x1F", b"0xZ", b"0X1", b"X'0a'", b"x''", b"x'0g'", b"b'101'", b"b'12'", b"b''",
    b"_binary 'a\\0'", b"_utf8mb4'x'", b"_ 'x'", b"_binary", b'"dq""x"', b'"a\\"b"', b"''''", b"'a''b'", b"'\\\\'",
    b"'\\'", b"'", b"''", b"12345678901234567890", b"-9223372036854775808", b"999999999999999999",
    b"'\\%\\_'", b"'\\01\\Z\\q'", b"'\xff'", b"'\xc3'", b"'\xc3\xa5'", b"_binary '\xff'", b"'a\nb'", b"(", b")", b";",
    b"'nan'", b"'inf'", b"' 1 '", b"'1_0'", b"'0x10'", b"CURRENT_TIMESTAMP", b"'\xed\xa0\x80'",
]
value = st.one_of(
    st.sampled_from(LEXEMES),
    st.binary(max_size=12).map(lambda b: b"'" + tokens.escape(b) + b"'"),
    st.text(max_size=8).map(lambda t: b"'" + tokens.escape(t.encode()) + b"'"),
    st.integers(min_value=-(10**20), max_value=10**20).map(lambda i: str(i).encode()),
    st.binary(min_size=1, max_size=3),
)
ws = st.sampled_from([b"", b"", b"", b" ", b"\n", b"\t ", b"\r\n", b"\x0c"])
sep = st.sampled_from([b",", b",", b",", b", ", b" , ", b",,", b"", b";"])


@st.composite
def inserts(draw: st.DrawFn) -> tuple[list[str], bytes]:
    types = draw(st.lists(st.sampled_from(COLUMN_TYPES), min_size=1, max_size=4))
    statements = []
    for _ in range(draw(st.integers(1, 3))):
        rows = []
        for _ in range(draw(st.integers(1, 4))):
            n = len(types) + draw(st.sampled_from([0, 0, 0, 0, 1, -1]))
            values = [draw(ws) + draw(value) + draw(ws) for _ in range(max(n, 0))]
            rows.append(draw(ws) + b"(" + draw(sep).join(values) + b")" + draw(ws))
        between = draw(st.sampled_from([b",", b",\n", b", ", b"),(", b";"]))
        head = draw(st.sampled_from([b"INSERT INTO `t` VALUES ", b"INSERT INTO `t` VALUES\n", b"REPLACE INTO t VALUES"]))
        statements.append(head + between.join(rows) + draw(st.sampled_from([b";", b";", b"", b" ;", b",;"])))
    return types, b"\n".join(statements)


@needs_native
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=inserts(), chunk_size=st.sampled_from([1 << 20, 1, 7, 64]), cut=st.integers(0, 10**6),
       whole=st.booleans(), max_row=st.sampled_from([64 << 20, 40]))
@example(case=(["text", "int"], b"INSERT INTO `t` VALUES ('a\\'b',1),('\xc3',2);"), chunk_size=1 << 20, cut=0,
         whole=True, max_row=64 << 20)
def test_both_engines_agree_on_generated_inserts(case: tuple[list[str], bytes], chunk_size: int, cut: int,
                                                 whole: bool, max_row: int) -> None:
    types, text = case
    data = dump_of(types, text)
    if not whole:
        data = data[: cut % (len(data) + 1)]
    python = outcome(data, "python", chunk_size=chunk_size, max_row_bytes=max_row)
    native = outcome(data, "native", chunk_size=chunk_size, max_row_bytes=max_row)
    assert native == python


CORPUS = sorted((Path(__file__).parent / "corpus").iterdir())


@needs_native
@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_the_fuzz_corpus_reads_the_same_with_both_engines(path: Path) -> None:
    """tests/dump/corpus: the seeds of bench/fuzz_reader.py and the inputs it found."""
    dump, chunk_size = case_of(path.read_bytes())
    assert outcome(dump, "native", chunk_size=chunk_size) == outcome(dump, "python", chunk_size=chunk_size)
