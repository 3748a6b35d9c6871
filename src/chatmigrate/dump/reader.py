"""Streaming a mysqldump file into rows: the loop that dispatches statements.

Owns: what may stand between and at the start of statements. Between statements only
whitespace, comments (``-- ``, ``#``, ``/* */``) and version comments (``/*!NNNNN ...*/``,
``/*M!...*/``); a statement must open with one of the words mysqldump and mariadb-dump
write (``statements.STATEMENT_WORDS``); anything else, in any table, is refused as
:class:`~chatmigrate.errors.UnexpectedInputError` (the MariaDB client refuses it too,
and skipping it could skip the INSERT it is glued to). A UTF-8 byte-order mark is
skipped at the start of the file only (as the client does); UTF-16, an empty file or
one without any statement is refused. ``CREATE TABLE`` gives a table's columns,
``INSERT``/``REPLACE`` rows of the wanted tables are yielded in file order (``inserts``),
``DELIMITER`` changes the delimiter, every other statement is skipped (``window``).

Does not own: opening files, gzip and stdin (``source``), the buffer (``window``), rows
(``inserts``), the value grammar (``tokens``), the statement grammar (``statements``).
Nothing here knows about chats.

Guarantees: an INSERT for a wanted table is never skipped; a row is yielded only when
it is complete and its table has the required columns; a dump cut mid-statement, a
damaged gzip stream, a malformed value, a column count mismatch or a text value that
is not UTF-8 raises a :class:`~chatmigrate.errors.DumpError` naming the file, line,
byte offset and table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from ..errors import (
    DumpError,
    MalformedStatementError,
    TruncatedDumpError,
    UnexpectedInputError,
    UsageError,
)
from ..progress import NO_PROGRESS, Progress
from . import statements as st
from .engine import Engine, native_helpers, native_parse
from .engine import choose as choose_engine
from .inserts import InsertReader, Row, TableInfo
from .source import open_source

__all__ = ["CHUNK_SIZE", "MAX_ROW_BYTES", "DumpReader", "Row", "TableInfo", "read_rows", "scan_dump"]

CHUNK_SIZE = 4 << 20
MAX_ROW_BYTES = 64 << 20
_HEAD_WINDOW = 1 << 16
_WORD_RE = st.WORD_RE
_BOM = b"\xef\xbb\xbf"


class DumpReader(InsertReader):
    """Iterate over the rows of the wanted tables of one dump, in file order.

    ``tables=None`` reads every table. After (or during) iteration, ``tables`` holds
    a :class:`TableInfo` for every table seen, and ``completed`` tells whether the
    dump ended with mysqldump's ``-- Dump completed`` trailer (a dump cut exactly
    between two statements has no other symptom). ``engine`` says which tuple reader
    runs: ``"native"`` (the C extension, the default where it is built) or ``"python"``
    (the reference; forced by ``engine="python"`` or ``CHATMIGRATE_PURE_PYTHON=1``).
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
        engine: Engine | None = None,
    ) -> None:
        self.source = source
        self.wanted = None if tables is None else frozenset(tables)
        # table -> columns that must be in its column list before any of its rows is yielded
        self.required = {t: tuple(c) for t, c in (required_columns or {}).items()
                         if self.wanted is None or t in self.wanted}
        self.tables = {}
        self.completed = False
        super().__init__(os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<stream>",
                         progress, chunk_size, max_row_bytes)
        self._plans = {}
        self._names = {}
        self.engine: Engine = choose_engine(engine)
        self._native = native_parse(self.engine)
        self._skip_native, self._count_newlines = native_helpers(self.engine)
        self._count = 0  # statements seen (an empty or comment-only file is not a dump)

    # ------------------------------------------------------------------ driving

    def __iter__(self) -> Iterator[Row]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[Row]]:
        """The rows in batches, in file order: each batch holds rows of one INSERT statement
        only (at most a few hundred), so a hot loop pays one generator hop per batch, not per
        row. The same rows, errors and checks as iterating the reader itself."""
        self._in = open_source(self.source)
        self.name = self._in.name
        tables = f" ({', '.join(sorted(self.wanted))})" if self.wanted else ""
        self.progress.start(f"reading {Path(self.name).name}{tables}", self._in.total, "bytes")
        try:
            self._start()
            yield from self._statements()
            if not self._count:
                what = "is empty" if self.base + len(self.buf) == 0 else "holds no SQL statement"
                raise UnexpectedInputError(f"the file {what}", advice="it is not a mysqldump/mariadb-dump output; check the path",
                                           **self._where(self.pos))
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
            where = "inside a version comment" if b"!" in self.buf[pos:end] else "after a comment in a DELIMITER block"
            raise UnexpectedInputError(f"an INSERT {where}, which this reader does not read", **self._where(pos))
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
                    raise UnexpectedInputError("an INSERT inside a version comment, which this reader does not read",
                                               **self._where(hidden.start()))
            self.pos = end
            if rest == b"/*" and gap is st.GAP_RE:
                raise TruncatedDumpError("the dump ends inside a /* comment */", **self._where(end))
            return


    def _delimiter(self) -> None:
        m = st.DELIMITER_RE.match(self.buf, self.pos)
        if m is None:
            raise MalformedStatementError("a DELIMITER line without a delimiter", **self._where(self.pos))
        self._delim = m.group(1)
        self._skip_re = st.skip_body_regex(self._delim)
        self.pos = m.end()

    def _create_table(self, head: re.Match[bytes]) -> None:
        mark = self._mark(self.pos)
        try:
            name = st.unquote_identifier(head.group(1))
            text = self._skip_statement(keep=True)
            body = st.table_body(text)
            if body is None:  # CREATE TABLE ... LIKE / AS SELECT: no column list to learn
                return
            columns = tuple(st.parse_columns(body))
        except UnicodeDecodeError:
            raise MalformedStatementError(st.BAD_NAME, **self._at(mark)) from None
        info = self.tables.setdefault(name, TableInfo(name))
        info.columns = columns
        info.create_line = self._at(mark)["line"]
        self._require(name, [c.name for c in info.columns], mark)

def read_rows(
    source: str | os.PathLike[str] | BinaryIO,
    tables: Iterable[str] | None = None,
    *,
    progress: Progress = NO_PROGRESS,
    engine: Engine | None = None,
) -> Iterator[Row]:
    """Yield every row of the wanted tables (all tables when ``None``), in file order."""
    return iter(DumpReader(source, tables, progress=progress, engine=engine))


def scan_dump(
    source: str | os.PathLike[str] | BinaryIO,
    tables: Iterable[str] | None = None,
    *,
    progress: Progress = NO_PROGRESS,
    max_row_bytes: int = MAX_ROW_BYTES,
    engine: Engine | None = None,
) -> DumpReader:
    """Read a whole dump and return the reader, whose ``tables`` then hold counts."""
    reader = DumpReader(source, tables, progress=progress, max_row_bytes=max_row_bytes, engine=engine)
    for _ in reader:
        pass
    return reader
