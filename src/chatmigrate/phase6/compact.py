"""Containers that keep step 1's per-chat lists out of memory.

Owns: :class:`Spool`, an append-only sequence of records (NamedTuples or plain tuples of
JSON-like values) kept in an unnamed temporary file, in pickled blocks of a few thousand,
for the lists that are only appended to and then iterated (the legacy chats, the target
chats, the skipped chats, the link decisions, the planned media). Memory holds one block
and a few offsets, whatever the number of chats.

It also owns the step-1 lookups in compact form (:func:`uuid_map` and the shapes built on
it): a booking, a migrated booking id, a user mapping or a chat's route takes a few dozen
bytes instead of a few hundred, so that memory does not grow much with the number of
chats (the C extension ``_compact``; where it is not built, or ``CHATMIGRATE_PURE_PYTHON``
is set, each is a plain dict, with the same contents and results).

Does not own: what the records mean, the rules, any named file (the spool's file has no
name: the operating system removes it when the spool is closed or collected).
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from types import ModuleType
from typing import Any, Generic, TypeVar, cast, overload

from ..dump.engine import ENV_PURE
from . import records as r

T = TypeVar("T")

_BLOCK = 4096  # records per pickled block


class Spool(Sequence[T], Generic[T]):
    """An append-only list in a temporary file: ``append``, ``len``, iterate (any number
    of times, also while appending), index (which reads the file: for tests and small
    spools, not for hot loops). Equal to any sequence with the same items in order.

    ``make`` rebuilds a record from its plain tuple (``cls._make`` for a NamedTuple); the
    items are stored as plain tuples, so ``make`` None stores them as they are.
    """

    __slots__ = ("_blocks", "_fd", "_len", "_make", "_size", "_tail")

    def __init__(self, make: Callable[[Any], T] | None = None, items: Iterable[T] = ()) -> None:
        self._make = make
        self._fd: int | None = None
        self._blocks: list[tuple[int, int]] = []  # (offset, length) of each pickled block
        self._tail: list[Any] = []
        self._len = 0
        self._size = 0
        for x in items:
            self.append(x)

    def append(self, item: T) -> None:
        self._tail.append(tuple(item) if self._make is not None else item)  # type: ignore[arg-type]
        self._len += 1
        if len(self._tail) >= _BLOCK:
            self._flush()

    def extend(self, items: Iterable[T]) -> None:
        for x in items:
            self.append(x)

    def _flush(self) -> None:
        if not self._tail:
            return
        if self._fd is None:
            with tempfile.TemporaryFile(prefix="chatmigrate-spool-") as fh:  # unnamed, mode 0600
                self._fd = os.dup(fh.fileno())
        data = pickle.dumps(self._tail, protocol=pickle.HIGHEST_PROTOCOL)
        os.pwrite(self._fd, data, self._size)
        self._blocks.append((self._size, len(data)))
        self._size += len(data)
        self._tail = []

    def _rows(self) -> Iterator[Any]:
        fd = self._fd
        for offset, length in list(self._blocks):
            assert fd is not None
            data = os.pread(fd, length, offset)
            yield from pickle.loads(data)  # noqa: S301 - our own unnamed file, written above
        yield from list(self._tail)

    def __iter__(self) -> Iterator[T]:
        make = self._make
        if make is None:
            yield from self._rows()
        else:
            for row in self._rows():
                yield make(row)

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Spool({list(self)!r})"

    def close(self) -> None:
        """Remove the file now (otherwise when the spool is collected)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._blocks, self._tail, self._len, self._size = [], [], 0, 0

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- lookups


def _load() -> ModuleType | None:
    try:
        from . import _compact
    except ImportError:
        return None
    return _compact if getattr(_compact, "PROTOCOL", None) == 1 else None


_NATIVE = _load()

if _NATIVE is not None:
    class _Packed(_NATIVE.UuidMap, MutableMapping[str, Any]):  # type: ignore[misc,name-defined]
        """The C mapping with the Mapping mixins (items, values, ==, ...)."""

        __slots__ = ()


def native_available() -> bool:
    """Whether the lookups are packed (the C extension is built and not switched off)."""
    return _NATIVE is not None and os.environ.get(ENV_PURE, "") in ("", "0")


def uuid_map(template: Any, cls: type | None = None) -> MutableMapping[str, Any]:
    """A mapping from UUID text to values of one shape, packed where it can be.

    ``template`` gives the shape: for a record class ``cls`` (a tuple or NamedTuple class), a
    tuple with one entry per field, each ``KEY`` (the field is the key), ``UUID`` (a UUID text
    or None), ``POOLED`` (the same, for values that recur: stored once per map) or a
    constant the field always has; without ``cls``, a single such entry. Keys and values of
    any other form are kept as they are, so the mapping behaves as a dict for any input.
    """
    if not native_available():
        return {}
    return cast(MutableMapping[str, Any], _Packed(template, cls))


KEY: Any = _NATIVE.KEY if _NATIVE is not None else object()
UUID: Any = _NATIVE.UUID if _NATIVE is not None else object()
POOLED: Any = _NATIVE.POOLED if _NATIVE is not None else object()
COUNT: Any = _NATIVE.COUNT if _NATIVE is not None else object()


def booking_map() -> MutableMapping[str, r.LegacyBooking]:
    """Legacy booking id -> booking as the strict and participants rules read it (id and
    people; ``chat_id`` and ``created_at`` None). Others are kept too, less compactly."""
    return uuid_map((KEY, POOLED, POOLED, None, None), r.LegacyBooking)


def id_set() -> MutableMapping[str, bool]:
    """A set of ids (the migrated bookings): ``ids[x] = True``, then ``x in ids``."""
    return uuid_map(True)


def id_map() -> MutableMapping[str, str]:
    """One id -> another (the Phase 1 user mapping: legacy person -> new profile)."""
    return uuid_map(UUID)


def route_map(own_ids: bool = False) -> MutableMapping[str, r.ChatRoute]:
    """Legacy chat id -> its route: None (skipped), what the message rules read of a
    target chat (``rules.message_route``: id and people) or a recover-mode Route.
    ``own_ids``: the target chats keep their legacy chats' ids (strict mode), so the id is
    the key and is not stored again (a route with another id is kept, less compactly)."""
    return uuid_map((KEY if own_ids else UUID, None, "", "", POOLED, POOLED), r.TargetChat)


def trim(m: object) -> None:
    """Give back the room a packed mapping keeps for growth, once it is built (20% of it)."""
    done = getattr(m, "trim", None)
    if done is not None:
        done()


def pair_map() -> MutableMapping[str, tuple[str | None, str | None]]:
    """Legacy chat id -> (buyer, stylist)."""
    return uuid_map((POOLED, POOLED), tuple)


def count_map() -> MutableMapping[str, int]:
    """Chat id -> a number of messages."""
    return uuid_map(COUNT)
