"""Opening a dump for reading: a path, ``-`` for standard input, or a binary stream.

Owns: detecting gzip by its magic bytes (not the file name), the byte position of the
underlying file for progress on compressed input, turning a damaged or cut gzip stream
into :class:`SourceDamaged` (never ``EOFError`` / ``BadGzipFile`` / ``zlib.error``),
and closing what was opened.
Does not own: reading statements (``reader``, which adds the line and byte offset).
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from ..errors import CorruptDumpError, DumpError, TruncatedDumpError, UsageError


class SourceDamaged(Exception):
    """The compressed input cannot be read on; :meth:`error` builds the DumpError once
    the reader knows where (line and uncompressed byte offset) the data stopped."""

    def __init__(self, truncated: bool, detail: str) -> None:
        super().__init__(detail)
        self.truncated = truncated
        self.detail = detail

    def error(self, **where: Any) -> DumpError:
        if self.truncated:
            return TruncatedDumpError("the gzip file ends before its end-of-stream marker (the uncompressed data stops here)", **where)
        return CorruptDumpError(f"the gzip data is damaged ({self.detail}; the uncompressed data stops here)", **where)


_GZIP_ERRORS = (EOFError, zlib.error, OSError)  # gzip.BadGzipFile is an OSError


@dataclass(slots=True)
class Input:
    stream: BinaryIO
    raw: IO[bytes] | None  # the underlying file, for progress on compressed input
    total: int | None
    name: str
    closers: list[IO[bytes]] = field(default_factory=list)
    compressed: bool = False
    _pending: SourceDamaged | None = None

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end). Compressed input is decoded piece by
        piece, so when the stream turns out damaged the bytes before the damage are still
        delivered, and the next call raises :class:`SourceDamaged`."""
        if not self.compressed:
            return self.stream.read(n)
        if self._pending is not None:
            raise self._pending
        parts: list[bytes] = []
        got = 0
        while got < n:
            try:
                data = self.stream.read1(n - got)  # type: ignore[attr-defined]
            except _GZIP_ERRORS as exc:
                damaged = SourceDamaged(isinstance(exc, EOFError), str(exc) or type(exc).__name__)
                damaged.__cause__ = exc
                if not parts:
                    raise damaged from exc
                self._pending = damaged
                break
            if not data:
                break
            parts.append(data)
            got += len(data)
        return b"".join(parts)

    def position(self, fallback: int) -> int:
        if self.raw is not None:
            try:
                return self.raw.tell()
            except (OSError, ValueError):
                pass
        return fallback

    def close(self) -> None:
        for c in self.closers:
            c.close()


def open_source(source: str | os.PathLike[str] | BinaryIO) -> Input:
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if name == "-":
            raw: IO[bytes] = sys.stdin.buffer
            total = None
            closers: list[IO[bytes]] = []
        else:
            path = Path(name)
            if not path.is_file():
                raise UsageError(f"the dump file {name} does not exist or is not a file: check the path (--dump or MYSQL_DUMP_PATH).")
            raw = open(path, "rb")  # noqa: SIM115 - closed by Input.close
            total = path.stat().st_size
            closers = [raw]
    else:
        raw, name, total, closers = source, getattr(source, "name", "<stream>"), None, []
    buffered: Any = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        stream: BinaryIO = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
        closers.insert(0, stream)
    else:
        stream = buffered
    return Input(stream, raw if total is not None else None, total, str(name), closers, stream is not buffered)


