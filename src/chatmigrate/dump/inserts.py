"""Reading the rows of one INSERT / REPLACE into a table being read.

Owns: the column contract (``required_columns``: checked when a table's column list
becomes known, before any of its rows is yielded), how to read a table's rows (computed
once per table and column list, not per statement), the tuple paths (with the native
engine the C extension's ``parse_tuples`` first, which hands back every tuple it is not
certain of; then a regex specialised to the column kinds, the general tuple regex, the
value-by-value scan that also handles tuples cut by the end of the buffer), and the
errors of a row (column count, conversion, text that is not UTF-8, a row over the size
limit), which only the Python paths raise.

Does not own: the buffer (``window``), which statement is which (``reader``), the value
grammar (``tokens``). Nothing here knows about chats.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import (
    ColumnCountError,
    DumpError,
    InvalidTextError,
    MalformedStatementError,
    MissingColumnsError,
    MissingRequiredColumnError,
    RowTooLargeError,
    TruncatedDumpError,
)
from . import engine
from . import statements as st
from .tokens import BadText, Converter, converter_for, fast_row, scan_tuple, to_text, tuple_regex
from .window import Mark, Window

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


class InsertReader(Window):
    """Rows of INSERT statements; the reader sets these before reading."""

    tables: dict[str, TableInfo]
    wanted: frozenset[str] | None
    required: dict[str, tuple[str, ...]]  # table -> columns its rows must have
    _plans: dict[tuple[str, bytes | None], tuple[Any, ...]]
    _names: dict[bytes, str]  # an INSERT's table name as written -> the name
    _native: engine.NativeParse | None  # the C tuple reader, None for the pure-Python engine

    def _require(self, table: str, names: list[str], mark: Mark) -> None:
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
        try:
            raw = m.group(1)
            table = self._names.get(raw)  # one INSERT per row: name every table once, not per row
            if table is None:
                table = self._names[raw] = st.unquote_identifier(raw)
            info = self.tables.get(table)
            if info is None:
                info = self.tables[table] = TableInfo(table)
            info.inserts += 1
            if self.wanted is not None and table not in self.wanted:
                self._skip_statement(keep=False)
                return
            key = (table, m.group(2))
            plan = self._plans.get(key)
            if plan is None or plan[0] is not info.columns:  # first INSERT, or a new CREATE TABLE since
                plan = self._plans[key] = self._plan(info, m.group(2))
        except UnicodeDecodeError:
            raise MalformedStatementError(st.BAD_NAME, **self._where(self.pos)) from None
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
        spec = (info.name, tuple(names), engine.kinds(convs), tuple(convs), Row)
        return (info.columns, names, convs, fast.match, build, tuple_regex(len(names)).match, spec)

    def _tuples(self, info: TableInfo, names: list[str], convs: list[Converter], fast_match: Any,
                build: Any, general: Any, spec: tuple[Any, ...]) -> Iterator[list[Row]]:
        """Yield the rows of one INSERT, in batches (one generator hop per batch, not per
        row). With the native engine, the C extension reads every tuple it is certain of
        and stops before any other, which the Python paths below then read (or refuse).
        Three Python paths, fastest first: the regex specialised to the column kinds, the
        general tuple regex, and the value-by-value scan (which also handles tuples cut by
        the end of the buffer, and errors). A batch holds only complete rows."""
        n = len(names)
        table = info.name
        native = self._native
        buf, pos, base = self.buf, self.pos, self.base
        count = 0
        batch: list[Row] = []
        append = batch.append
        try:
            while True:
                if native is not None:
                    rows, pos, status = native(buf, pos, base, 512 - len(batch), spec)
                    if rows:
                        count += len(rows)
                        batch += rows
                    if status == 1:  # the statement's ';'
                        break
                    if status == 2:  # a full batch
                        self.pos = pos
                        yield batch
                        batch = []
                        append = batch.append
                        continue
                    # status 0: the tuple at pos is one for the Python paths
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
