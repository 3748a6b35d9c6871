"""Type stub of the C extension built from _native.c (see engine.py)."""

from typing import Any

PROTOCOL: int

def parse_tuples(
    buf: bytes, pos: int, base: int, limit: int, spec: tuple[Any, ...], /
) -> tuple[list[Any], int, int]: ...
def skip_body(buf: bytes, pos: int, delimiter: bytes, /) -> int: ...
def count_newlines(buf: bytes, start: int, end: int, /) -> int: ...
