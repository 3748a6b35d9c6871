"""The reader's sliding window over the (uncompressed) dump bytes.

Owns: the byte buffer (memory stays at about two chunks plus the largest row of a table
read, however large the dump), line and byte-offset bookkeeping for errors (a cheap
bookmark, its line counted only when an error needs it), and skipping one statement
without parsing its values: in bounded memory, a quoted string of any size included
(so the row size limit applies only to what is kept). With the native engine the skip
regex and the newline count run in the C extension (same results, byte for byte).

Does not own: which statements exist (``reader``), rows (``inserts``), opening and
decompressing (``source``, whose damage it reports with the offset reached).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import RowTooLargeError, TruncatedDumpError
from ..progress import Progress
from . import statements as st
from .source import Input, SourceDamaged

Mark = tuple[int, bytes, int, int]


class Window:
    """The buffer ``buf`` holds the input from byte ``base`` on; ``pos`` is the reading
    position in it; everything before ``pos`` may be dropped by the next :meth:`_fill`."""

    def __init__(self, name: str, progress: Progress, chunk_size: int, max_row_bytes: int) -> None:
        self.name = name
        self.progress = progress
        self.chunk_size = chunk_size
        self.max_row_bytes = max_row_bytes
        self.buf = b""
        self.pos = 0
        self.base = 0  # offset of buf[0] in the uncompressed stream
        self.lines = 0  # newlines before buf[0]
        self.eof = False
        self._tail = b""
        self._delim = b";"
        self._skip_re = st.SKIP_BODY_RE
        self._in: Input | None = None
        # the C extension's equivalents of the skip regex and bytes.count (native engine)
        self._skip_native: Callable[[bytes, int, bytes], int] | None = None
        self._count_newlines: Callable[[bytes, int, int], int] | None = None

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
        self.lines += self._count_newlines(self.buf, 0, keep) if self._count_newlines else self.buf.count(b"\n", 0, keep)
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

    def _mark(self, p: int) -> Mark:
        """A cheap bookmark of position ``p``; its line number is counted only if needed."""
        return (self.lines, self.buf, p, self.base)

    @staticmethod
    def _at_mark(name: str, mark: Mark) -> dict[str, Any]:
        lines, buf, p, base = mark
        return {
            "path": name,
            "line": lines + buf.count(b"\n", 0, p) + 1,
            "offset": base + p,
            "excerpt": buf[p : p + 80],
        }

    def _at(self, mark: Mark) -> dict[str, Any]:
        return self._at_mark(self.name, mark)

    def _where(self, p: int) -> dict[str, Any]:
        return self._at(self._mark(p))


    # ------------------------------------------------------------------ skipping

    def _skip_statement(self, *, keep: bool) -> bytes:
        """Move past the current statement; return its text when ``keep``.

        Without ``keep`` the skipped bytes are dropped as it goes, so a statement of
        any size is skipped in bounded memory (only a single quoted string must fit).
        """
        mark = self._mark(self.pos)
        p = self.pos
        while True:
            if self._skip_native is not None:
                p = self._skip_native(self.buf, p, self._delim)
            else:
                p = self._skip_re.match(self.buf, p).end()  # type: ignore[union-attr]
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
