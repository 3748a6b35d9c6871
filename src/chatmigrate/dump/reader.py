"""Streaming a mysqldump file into rows.

Owns: the sliding byte buffer (memory stays at about two chunks plus the largest row,
however large the dump), line and byte-offset bookkeeping for errors, progress in
bytes, and the loop that dispatches statements: ``CREATE TABLE`` gives a table's
columns, ``INSERT``/``REPLACE`` rows of the wanted tables are yielded in file order,
everything else (other tables included) is skipped without parsing its values.

Does not own: opening files, gzip and stdin (``source``), the value grammar
(``tokens``), the statement grammar (``statements``).
Nothing here knows about chats.

Guarantees: an INSERT for a wanted table is never skipped; a row is yielded only when
it is complete; a dump cut mid-statement, a malformed value, a column count mismatch
or a text value that is not UTF-8 raises a :class:`~chatmigrate.errors.DumpError`
naming the file, line, byte offset and table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from ..errors import (
    ColumnCountError,
    DumpError,
    InvalidTextError,
    MalformedStatementError,
    MissingColumnsError,
    RowTooLargeError,
    TruncatedDumpError,
    UsageError,
)
from ..progress import NO_PROGRESS, Progress
from . import statements as st
from .source import Input, open_source
from .tokens import BadText, Converter, converter_for, fast_row, scan_tuple, to_text, tuple_regex

CHUNK_SIZE = 4 << 20
MAX_ROW_BYTES = 64 << 20
_HEAD_WINDOW = 1 << 16
_WORD_RE = re.compile(rb"[A-Za-z_]+")
_WS_RE = re.compile(rb"[ \t\r\n]*")


@dataclass(slots=True)
class TableInfo:
    """What the dump says about one table: its columns and how many rows were read."""

    name: str
    columns: tuple[st.Column, ...] = ()
    rows: int = 0
    inserts: int = 0
    create_line: int | None = None


class Row(NamedTuple):
    """One row of a wanted table: column name -> value, and where its tuple starts."""

    table: str
    values: dict[str, Any]
    offset: int  # byte offset of the tuple in the (uncompressed) dump


class DumpReader:
    """Iterate over the rows of the wanted tables of one dump, in file order.

    ``tables=None`` reads every table. After (or during) iteration, ``tables`` holds
    a :class:`TableInfo` for every table seen, and ``completed`` tells whether the
    dump ended with mysqldump's ``-- Dump completed`` trailer (a dump cut exactly
    between two statements has no other symptom).
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | BinaryIO,
        tables: Iterable[str] | None = None,
        *,
        progress: Progress = NO_PROGRESS,
        chunk_size: int = CHUNK_SIZE,
        max_row_bytes: int = MAX_ROW_BYTES,
    ) -> None:
        self.source = source
        self.wanted = None if tables is None else frozenset(tables)
        self.progress = progress
        self.chunk_size = chunk_size
        self.max_row_bytes = max_row_bytes
        self.tables: dict[str, TableInfo] = {}
        self.completed = False
        self.name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<stream>"
        # the sliding window
        self.buf = b""
        self.pos = 0
        self.base = 0  # offset of buf[0] in the uncompressed stream
        self.lines = 0  # newlines before buf[0]
        self.eof = False
        self._tail = b""
        self._delim = b";"
        self._skip_re = st.SKIP_BODY_RE
        self._in: Input | None = None
        self._plans: dict[tuple[str, bytes | None], tuple[Any, ...]] = {}

    # ------------------------------------------------------------------ buffer

    def _fill(self) -> bool:
        """Drop the consumed prefix and append the next chunk; False at end of input."""
        assert self._in is not None
        if self.eof:
            return False
        keep = self.pos
        self.lines += self.buf.count(b"\n", 0, keep)
        self.base += keep
        want = max(self.chunk_size, len(self.buf) - keep)  # grow geometrically for big rows
        data = self._in.stream.read(want)
        self.buf = self.buf[keep:] + data
        self.pos = 0
        if data:
            self._tail = (self._tail + data[-4096:])[-4096:]
        else:
            self.eof = True
        self.progress.update(self._in.position(self.base + len(self.buf)))
        return bool(data)

    def _ensure(self, n: int) -> None:
        while len(self.buf) - self.pos < n and self._fill():
            pass

    def _mark(self, p: int) -> tuple[int, bytes, int, int]:
        """A cheap bookmark of position ``p``; its line number is counted only if needed."""
        return (self.lines, self.buf, p, self.base)

    @staticmethod
    def _at_mark(name: str, mark: tuple[int, bytes, int, int]) -> dict[str, Any]:
        lines, buf, p, base = mark
        return {
            "path": name,
            "line": lines + buf.count(b"\n", 0, p) + 1,
            "offset": base + p,
            "excerpt": buf[p : p + 80],
        }

    def _at(self, mark: tuple[int, bytes, int, int]) -> dict[str, Any]:
        return self._at_mark(self.name, mark)

    def _where(self, p: int) -> dict[str, Any]:
        return self._at(self._mark(p))

    # ------------------------------------------------------------------ driving

    def __iter__(self) -> Iterator[Row]:
        self._in = open_source(self.source)
        self.name = self._in.name
        tables = f" ({', '.join(sorted(self.wanted))})" if self.wanted else ""
        self.progress.start(f"reading {Path(self.name).name}{tables}", self._in.total, "bytes")
        try:
            for batch in self._statements():
                yield from batch
        except (DumpError, UsageError):
            raise
        except OSError as exc:  # e.g. a corrupt gzip stream
            raise DumpError(f"the dump could not be read ({exc})", **self._where(self.pos)) from exc
        except EOFError as exc:  # gzip: the compressed stream is cut short
            raise TruncatedDumpError(f"the compressed dump ends early ({exc})", path=self.name) from exc
        finally:
            self._in.close()
            self.progress.finish()
        self.completed = b"-- Dump completed" in self._tail

    def _statements(self) -> Iterator[list[Row]]:
        while True:
            self._skip_gap()
            if self.pos >= len(self.buf):
                break  # _skip_gap only returns at the end of the buffer at EOF
            self._ensure(_HEAD_WINDOW)
            buf, pos = self.buf, self.pos
            if buf.startswith(self._delim, pos) or buf[pos] == 59:
                self.pos = pos + (len(self._delim) if buf.startswith(self._delim, pos) else 1)
                continue
            word_m = _WORD_RE.match(buf, pos)
            word = word_m.group(0).upper() if word_m else b""
            if word in (b"INSERT", b"REPLACE"):
                yield from self._insert()
            elif word == b"CREATE" and (head := st.CREATE_TABLE_HEAD_RE.match(buf, pos)):
                self._create_table(head)
            elif word == b"DELIMITER":
                self._delimiter()
            else:
                self._skip_statement(keep=False)

    def _skip_gap(self) -> None:
        """Move past whitespace and comments between statements.

        While the gap runs into the end of the buffer, or stops at the start of a
        comment it could not finish, the whole gap is matched again after reading more:
        a comment is never cut in two.
        """
        gap = st.GAP_RE if self._delim == b";" else st.GAP_IN_DELIMITER_RE
        while True:
            end = gap.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            rest = self.buf[end : end + 2]
            unsure = end >= len(self.buf) - 1 or rest in (b"/*", b"--") or rest[:1] == b"#"
            if unsure and self._fill():
                continue
            self.pos = end
            if rest == b"/*" and gap is st.GAP_RE:
                raise TruncatedDumpError("the dump ends inside a /* comment */", **self._where(end))
            return

    # ------------------------------------------------------------------ statements

    def _skip_statement(self, *, keep: bool) -> bytes:
        """Move past the current statement; return its text when ``keep``.

        Without ``keep`` the skipped bytes are dropped as it goes, so a statement of
        any size is skipped in bounded memory (only a single quoted string must fit).
        """
        mark = self._mark(self.pos)
        p = self.pos
        while True:
            m = self._skip_re.match(self.buf, p)
            p = m.end()  # type: ignore[union-attr]
            if self.buf.startswith(self._delim, p):
                text = self.buf[self.pos : p] if keep else b""
                self.pos = p + len(self._delim)
                return text
            # stopped early: an unterminated quote or comment, the end of the buffer,
            # or the first bytes of a multi-byte delimiter cut by the end of the buffer
            if p == len(self.buf):
                for k in range(len(self._delim) - 1, 0, -1):
                    if self.buf.endswith(self._delim[:k]):
                        p -= k
                        break
            if not keep:
                self.pos = p
            if len(self.buf) - self.pos > self.max_row_bytes:
                raise RowTooLargeError("a statement or quoted string is larger than the row size limit", **self._at(mark))
            p -= self.pos  # _fill drops everything before self.pos
            if not self._fill():
                raise TruncatedDumpError("the dump ends in the middle of a statement", **self._at(mark))

    def _delimiter(self) -> None:
        m = st.DELIMITER_RE.match(self.buf, self.pos)
        if m is None:
            raise MalformedStatementError("a DELIMITER line without a delimiter", **self._where(self.pos))
        self._delim = m.group(1)
        self._skip_re = st.skip_body_regex(self._delim)
        self.pos = m.end()

    def _create_table(self, head: re.Match[bytes]) -> None:
        name = st.unquote_identifier(head.group(1))
        mark = self._mark(self.pos)
        text = self._skip_statement(keep=True)
        body = st.table_body(text)
        if body is None:  # CREATE TABLE ... LIKE / AS SELECT: no column list to learn
            return
        info = self.tables.setdefault(name, TableInfo(name))
        info.columns = tuple(st.parse_columns(body))
        info.create_line = self._at(mark)["line"]

    def _insert(self) -> Iterator[list[Row]]:
        m = st.INSERT_HEAD_RE.match(self.buf, self.pos)
        if m is None:
            raise MalformedStatementError(
                "an INSERT statement whose table name or VALUES keyword cannot be read", **self._where(self.pos)
            )
        table = st.unquote_identifier(m.group(1))
        info = self.tables.setdefault(table, TableInfo(table))
        info.inserts += 1
        if self.wanted is not None and table not in self.wanted:
            self._skip_statement(keep=False)
            return
        key = (table, m.group(2))
        plan = self._plans.get(key)
        if plan is None or plan[0] is not info.columns:  # first INSERT, or a new CREATE TABLE since
            plan = self._plans[key] = self._plan(info, m.group(2))
        self.pos = m.end()
        yield from self._tuples(info, *plan[1:])

    def _plan(self, info: TableInfo, column_list: bytes | None) -> tuple[Any, ...]:
        """How to read the rows of INSERTs into one table with one column list: computed
        once, not per statement (``--skip-extended-insert`` dumps have one per row)."""
        if column_list is not None:
            names = st.identifier_list(column_list)
        elif info.columns:
            names = [c.name for c in info.columns]
        else:
            raise MissingColumnsError(
                "an INSERT has no column list and no CREATE TABLE came before it",
                table=info.name,
                **self._where(self.pos),
            )
        types = {c.name: c.type for c in info.columns}
        convs = [converter_for(types.get(n, "text")) for n in names]
        fast, build = fast_row(tuple(names), tuple(convs))
        return (info.columns, names, convs, fast.match, build, tuple_regex(len(names)).match)

    def _tuples(self, info: TableInfo, names: list[str], convs: list[Converter], fast_match: Any,
                build: Any, general: Any) -> Iterator[list[Row]]:
        """Yield the rows of one INSERT, in batches (one generator hop per batch, not per
        row). Three paths, fastest first: the regex specialised to the column kinds, the
        general tuple regex, and the value-by-value scan (which also handles tuples cut by
        the end of the buffer, and errors). A batch holds only complete rows."""
        n = len(names)
        table = info.name
        buf, pos, base = self.buf, self.pos, self.base
        count = 0
        batch: list[Row] = []
        append = batch.append
        try:
            while True:
                m = fast_match(buf, pos)  # type: ignore[operator]
                try:
                    if m is not None:
                        g = m.groups()
                        values = build(g)
                    else:
                        m = general(buf, pos)
                        if m is not None:
                            g = m.groups()
                        else:
                            self.pos = pos
                            raw, sep, offset = self._slow_tuple(n, table)
                            buf, pos, base = self.buf, self.pos, self.base
                            pos = _WS_RE.match(buf, pos).end()  # type: ignore[union-attr]
                            g = (*raw, sep)
                        values = dict(zip(names, [c(r) for c, r in zip(convs, g)]))
                except (BadText, UnicodeDecodeError):
                    self.pos = pos
                    start = (base + m.start()) if m is not None else offset
                    raise self._bad_text(table, names, convs, start) from None
                except (ValueError, ArithmeticError) as exc:
                    at = (m.start() if m is not None else self.pos)
                    raise MalformedStatementError(
                        f"a value cannot be converted ({exc})", table=table, **self._where(at)
                    ) from None
                if m is not None:
                    offset = base + buf.index(b"(", m.start())
                    pos = m.end()
                count += 1
                append(Row(table, values, offset))
                if g[n] == b";":
                    break
                if len(batch) >= 512:
                    self.pos = pos
                    yield batch
                    batch = []
                    append = batch.append
        finally:
            info.rows += count
        self.pos = pos
        if batch:
            yield batch

    def _slow_tuple(self, n: int, table: str) -> tuple[Any, bytes, int]:
        mark = self._mark(self.pos)
        while True:
            status, a, b, at, *start = scan_tuple(self.buf, self.pos)
            if status == "ok":
                if len(a) != n:
                    raise ColumnCountError(
                        f"a row has {len(a)} values but the table has {n} columns",
                        table=table,
                        **self._where(start[0]),
                    )
                offset = self.base + start[0]
                self.pos = at
                return a, b, offset
            if status == "error":
                raise MalformedStatementError(a, table=table, **self._where(at))
            if len(self.buf) - self.pos > self.max_row_bytes:
                raise RowTooLargeError("a row is larger than the row size limit", table=table, **self._at(mark))
            if not self._fill():
                raise TruncatedDumpError("the dump ends in the middle of a row", table=table, **self._at(mark))

    def _bad_text(self, table: str, names: list[str], convs: list[Converter], offset: int) -> DumpError:
        """Find which value of the row at ``offset`` is not UTF-8 (slow; only on the error path)."""
        raws = scan_tuple(self.buf, offset - self.base)[1] or []
        key = None
        column = names[0]
        try:
            key = str(to_text(raws[0])) if raws else None
        except BadText:
            pass
        for name, conv, raw in zip(names, convs, raws):
            try:
                conv(raw)
            except BadText:
                column = name
                break
        return InvalidTextError(row_key=key, column=column, table=table, **self._where(max(0, offset - self.base)))


def read_rows(
    source: str | os.PathLike[str] | BinaryIO,
    tables: Iterable[str] | None = None,
    *,
    progress: Progress = NO_PROGRESS,
) -> Iterator[Row]:
    """Yield every row of the wanted tables (all tables when ``None``), in file order."""
    return iter(DumpReader(source, tables, progress=progress))


def scan_dump(
    source: str | os.PathLike[str] | BinaryIO,
    tables: Iterable[str] | None = None,
    *,
    progress: Progress = NO_PROGRESS,
) -> DumpReader:
    """Read a whole dump and return the reader, whose ``tables`` then hold counts."""
    reader = DumpReader(source, tables, progress=progress)
    for _ in reader:
        pass
    return reader
