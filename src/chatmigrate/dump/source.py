"""Opening a dump for reading: a path, ``-`` for standard input, or a binary stream.

Owns: detecting gzip by its magic bytes (not the file name), the byte position of the
underlying file for progress on compressed input, and closing what was opened.
Does not own: reading statements (``reader``).
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from ..errors import UsageError


@dataclass(slots=True)
class Input:
    stream: BinaryIO
    raw: IO[bytes] | None  # the underlying file, for progress on compressed input
    total: int | None
    name: str
    closers: list[IO[bytes]] = field(default_factory=list)

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
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == b"\x1f\x8b":  # type: ignore[attr-defined]
        stream: BinaryIO = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
        closers.insert(0, stream)
    else:
        stream = buffered  # type: ignore[assignment]
    return Input(stream, raw if total is not None else None, total, str(name), closers)


