"""Which tuple reader runs: the C extension ``_native`` or the pure-Python reference.

Owns: importing the optional extension (built by setup.py; absent where no C compiler
was found at install time, or stale if its protocol number differs), the choice of
engine (``CHATMIGRATE_PURE_PYTHON=1`` forces the pure-Python reader; an explicit
``engine="native"`` where it is not built is a usage error), and the per-column kind
codes the extension reads values with.

Does not own: the tuple grammar (``tokens``, which ``_native.c`` follows byte for byte)
or the reading loop (``inserts``). Both engines give the same rows, errors, lines and
offsets: the extension hands every tuple it is not certain of back to the Python path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Literal, get_args

from ..errors import UsageError
from .tokens import Converter, to_bytes, to_int, to_text

Engine = Literal["native", "python"]
ENGINES: tuple[Engine, ...] = get_args(Engine)
ENV_PURE = "CHATMIGRATE_PURE_PYTHON"
PROTOCOL = 1  # must equal _native.PROTOCOL: the call convention of parse_tuples

NativeParse = Callable[[bytes, int, int, int, tuple[Any, ...]], tuple[list[Any], int, int]]


def _load() -> ModuleType | None:
    try:
        from . import _native
    except ImportError:
        return None
    return _native if getattr(_native, "PROTOCOL", None) == PROTOCOL else None


_NATIVE = _load()


def native_available() -> bool:
    """Whether the C extension was built (and matches this version of the reader)."""
    return _NATIVE is not None


def choose(engine: Engine | None = None) -> Engine:
    """The engine to run: the one asked for, else the native one unless
    ``CHATMIGRATE_PURE_PYTHON`` is set (to anything but ``0`` or empty) or it is not built."""
    if engine is None:
        if os.environ.get(ENV_PURE, "") not in ("", "0"):
            return "python"
        return "native" if _NATIVE is not None else "python"
    if engine not in ENGINES:
        raise UsageError(f"unknown dump reader engine {engine!r}; use 'native' or 'python'")
    if engine == "native" and _NATIVE is None:
        raise UsageError(
            "the native dump reader is not built; reinstall chatmigrate where a C compiler is available"
            " (pip install -e .), or use the pure-Python reader (engine='python')"
        )
    return engine


def native_parse(engine: Engine) -> NativeParse | None:
    """The extension's ``parse_tuples`` when ``engine`` is native, else None."""
    if engine == "native" and _NATIVE is not None:
        parse: NativeParse = _NATIVE.parse_tuples
        return parse
    return None


def native_helpers(engine: Engine) -> tuple[Callable[[bytes, int, bytes], int] | None, Callable[[bytes, int, int], int] | None]:
    """The extension's ``skip_body`` and ``count_newlines`` when ``engine`` is native."""
    if engine == "native" and _NATIVE is not None:
        return _NATIVE.skip_body, _NATIVE.count_newlines
    return None, None


def kinds(convs: Sequence[Converter]) -> bytes:
    """One byte per column telling the extension how to read its values: ``t`` text,
    ``i`` integer, ``b`` bytes (read natively in their common forms), ``o`` other
    (every value goes through its Python converter)."""
    codes: dict[Converter, bytes] = {to_text: b"t", to_int: b"i", to_bytes: b"b"}
    return b"".join(codes.get(c, b"o") for c in convs)
