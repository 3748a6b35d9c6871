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

import contextlib
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from ..errors import (
    ColumnCountError,
    DumpError,
    InvalidTextError,
    MalformedStatementError,
    MissingColumnsError,
    MissingRequiredColumnError,
    RowTooLargeError,
    TruncatedDumpError,
    UnexpectedInputError,
    UsageError,
)
from ..progress import NO_PROGRESS, Progress
from . import statements as st
from .source import Input, SourceDamaged, open_source
from .tokens import BadText, Converter, converter_for, fast_row, scan_tuple, to_text, tuple_regex

CHUNK_SIZE = 4 << 20
MAX_ROW_BYTES = 64 << 20
_HEAD_WINDOW = 1 << 16
_WORD_RE = st.WORD_RE
_BOM = b"\xef\xbb\xbf"
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
        required_columns: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.source = source
        self.wanted = None if tables is None else frozenset(tables)
        # table -> columns that must be in its column list before any of its rows is yielded
        self.required = {t: tuple(c) for t, c in (required_columns or {}).items()
                         if self.wanted is None or t in self.wanted}
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
        self._count = 0  # statements seen (an empty or comment-only file is not a dump)

    # ------------------------------------------------------------------ buffer

    def _fill(self) -> bool:
        """Drop the consumed prefix and append the next chunk; False at end of input."""
        assert self._in is not None
        if self.eof:
            return False
        keep = self.pos
        want = max(self.chunk_size, len(self.buf) - keep)  # grow geometrically for big rows
        try:
            data = self._in.read(want)
        except SourceDamaged as exc:
            raise exc.error(**self._where(len(self.buf))) from exc.__cause__
        self.lines += self.buf.count(b"\n", 0, keep)
        self.base += keep
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
            self._start()
            for batch in self._statements():
                yield from batch
            if not self._count:
                what = "is empty" if self.base + len(self.buf) == 0 else "holds no SQL statement"
                raise UnexpectedInputError(f"the file {what}", advice="it is not a mysqldump/mariadb-dump output; check the path",
                                           **self._where(self.pos))
        except (DumpError, UsageError):
            raise
        except OSError as exc:  # e.g. a corrupt gzip stream
            raise DumpError(f"the dump could not be read ({exc})", **self._where(self.pos)) from exc
        finally:
            self._in.close()
            self.progress.finish()
        self.completed = b"-- Dump completed" in self._tail

    def _start(self) -> None:
        """A leading UTF-8 byte-order mark is skipped (the MariaDB client accepts it there,
        and only there); a UTF-16 file is refused with what to do."""
        self._ensure(4)
        head = self.buf[:4]
        if head.startswith(_BOM):
            self.pos = 3
        elif head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) == 4 and (head[1] == head[3] == 0 or head[0] == head[2] == 0)):
            raise UnexpectedInputError(
                "the file is UTF-16 text, not the UTF-8 that mysqldump writes",
                advice="re-create the dump with mariadb-dump --result-file=FILE (a PowerShell redirect writes UTF-16) or convert it with iconv -f UTF-16 -t UTF-8",
                **self._where(0),
            )

    def _statements(self) -> Iterator[list[Row]]:
        while True:
            self._skip_gap()
            if self.pos >= len(self.buf):
                break  # _skip_gap only returns at the end of the buffer at EOF
            self._ensure(_HEAD_WINDOW)
            buf, pos = self.buf, self.pos
            self._count += 1
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
            elif word in st.STATEMENT_WORDS or self._lead_word(pos):
                self._skip_statement(keep=False)
            elif self.eof and word_m and word_m.end() == len(buf) and any(w.startswith(word) for w in st.STATEMENT_WORDS):
                raise TruncatedDumpError("the dump ends in the middle of a statement", **self._where(pos))
            else:
                raise UnexpectedInputError("unexpected input where a statement should begin", **self._where(pos))

    def _lead_word(self, pos: int) -> bool:
        """In a DELIMITER block: does the statement at ``pos`` open with comments and then
        one of mysqldump's statement words (``/*!50003 CREATE*/ ...``)? Data in such a
        comment (``/*!50003 INSERT``) would be run by the client: it is refused."""
        if self._delim == b";" or not self.buf.startswith(b"/*", pos):
            return False
        end = st.STATEMENT_LEAD_RE.match(self.buf, pos).end()  # type: ignore[union-attr]
        word_m = _WORD_RE.match(self.buf, end)
        word = word_m.group(0).upper() if word_m else b""
        if word in (b"INSERT", b"REPLACE"):
            raise UnexpectedInputError("an INSERT inside a version comment, which is not read", **self._where(pos))
        return word in st.STATEMENT_WORDS

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
            if self.buf.find(b"!", self.pos, end) >= 0:  # a version comment: the client runs it
                hidden = st.DATA_IN_COMMENT_RE.search(self.buf, self.pos, end)
                if hidden is not None:
                    raise UnexpectedInputError("an INSERT inside a version comment, which is not read",
                                               **self._where(hidden.start()))
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
            if not keep and self.buf[p : p + 1] in (b"'", b'"'):
                p = self._skip_string(p)  # a value of any size, in bounded memory
                continue
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
                raise RowTooLargeError(f"a statement or quoted string is larger than the row size limit ({self._limit()})", **self._at(mark))
            p -= self.pos  # _fill drops everything before self.pos
            if not self._fill():
                raise TruncatedDumpError("the dump ends in the middle of a statement", **self._at(mark))

    def _skip_string(self, p: int) -> int:
        """Move past the quoted string opening at ``p`` (which the buffer does not hold
        whole), reading on and dropping what was passed; return the position after it."""
        mark = self._mark(p)
        quote = self.buf[p]
        body = st.STRING_BODY_RE[self.buf[p : p + 1]]
        p += 1
        while True:
            p = body.match(self.buf, p).end()  # type: ignore[union-attr]
            if p + 1 < len(self.buf):  # stopped at a quote whose next byte is known
                if self.buf[p + 1] != quote:
                    return p + 1
                p += 2  # a doubled quote
                continue
            self.pos = p  # keep only a final quote or backslash, whose meaning the next byte decides
            if not self._fill():
                if self.buf[self.pos : self.pos + 1] == bytes([quote]):
                    return self.pos + 1
                raise TruncatedDumpError("the dump ends inside a quoted string", **self._at(mark))
            p = self.pos

    def _limit(self) -> str:
        mb = self.max_row_bytes / (1 << 20)
        return f"{mb:g} MB" if mb >= 1 else f"{self.max_row_bytes} bytes"

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
        self._require(name, [c.name for c in info.columns], mark)

    def _require(self, table: str, names: list[str], mark: tuple[int, bytes, int, int]) -> None:
        """The column contract: a table read for its rows has every column the caller needs."""
        required = self.required.get(table)
        if required:
            missing = [c for c in required if c not in names]
            if missing:
                raise MissingRequiredColumnError(missing=missing, found=names, table=table, **self._at(mark))

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
            self._require(info.name, names, self._mark(self.pos))
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
                m = fast_match(buf, pos)
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
                        values = dict(zip(names, [c(r) for c, r in zip(convs, g, strict=False)], strict=True))
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
            status, a, b, at, *start = scan_tuple(self.buf, self.pos)  # type: ignore[var-annotated]
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
                raise RowTooLargeError(f"a row is larger than the row size limit ({self._limit()})", table=table, **self._at(mark))
            if not self._fill():
                raise TruncatedDumpError("the dump ends in the middle of a row", table=table, **self._at(mark))

    def _bad_text(self, table: str, names: list[str], convs: list[Converter], offset: int) -> DumpError:
        """Find which value of the row at ``offset`` is not UTF-8 (slow; only on the error path)."""
        raws = scan_tuple(self.buf, offset - self.base)[1] or []
        key = None
        column = names[0]
        with contextlib.suppress(BadText):
            key = str(to_text(raws[0])) if raws else None
        for name, conv, raw in zip(names, convs, raws, strict=False):
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
    max_row_bytes: int = MAX_ROW_BYTES,
) -> DumpReader:
    """Read a whole dump and return the reader, whose ``tables`` then hold counts."""
    reader = DumpReader(source, tables, progress=progress, max_row_bytes=max_row_bytes)
    for _ in reader:
        pass
    return reader
