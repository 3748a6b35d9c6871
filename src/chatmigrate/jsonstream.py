"""The streamed JSON layout of the plan's large files, and its reading back.

Owns: :class:`StreamedDoc`, which writes a JSON object whose large arrays hold one
element per line (``processedMessages``, ``skipped_messages``, ``created_messages``: a
million messages never sit in memory), :func:`iter_array`, which streams such an array
back line by line (:func:`iter_records`: as typed records, by field name), and :func:`read_head`, which reads everything else. The text is what
``json.dumps`` gives (``ensure_ascii=False``).

Does not own: file names or shapes (``planfiles``), writing files (``safewrite``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class StreamedDoc:
    """Writes a JSON object whose large arrays are streamed, one element per line.

    Keys are written in call order: ``value(k, v)`` for ordinary keys,
    ``begin_array(k)`` / ``item(v)`` / ``end_array()`` for a streamed array.
    """

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self._first_key = True
        self._first_item = True
        fh.write("{")

    def _key(self, key: str) -> None:
        self.fh.write("\n  " if self._first_key else ",\n  ")
        self._first_key = False
        self.fh.write(_dumps(key) + ": ")

    def value(self, key: str, value: Any) -> None:
        self._key(key)
        self.fh.write(json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  "))

    def value_items(self, key: str, items: Iterable[Any]) -> None:
        """``value(key, list(items))``, byte for byte, without holding the list."""
        self._key(key)
        write, first = self.fh.write, True
        for item in items:
            text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
            write(("[\n    " if first else ",\n    ") + text)
            first = False
        write("[]" if first else "\n  ]")

    def begin_array(self, key: str) -> None:
        self._key(key)
        self.fh.write("[")
        self._first_item = True

    def item(self, value: Any) -> None:
        self.fh.write("\n    " if self._first_item else "\n   ,")
        self._first_item = False
        self.fh.write(_dumps(value))

    def raw_item(self, json_text: str) -> None:
        """Append an element already encoded as one line of JSON (for hot loops)."""
        self.fh.write("\n    " if self._first_item else "\n   ,")
        self._first_item = False
        self.fh.write(json_text)

    def raw_items(self, json_texts: Iterable[str], batch: int = 4096) -> None:
        """Append many pre-encoded elements, written in batches."""
        chunk: list[str] = []
        for text in json_texts:
            chunk.append(text)
            if len(chunk) >= batch:
                self._write_batch(chunk)
                chunk = []
        if chunk:
            self._write_batch(chunk)

    def raw_batch(self, json_texts: list[str]) -> None:
        """Append pre-encoded elements, one write each: not joined first, since one line with
        an emoji would make the joined text four bytes a character to copy and encode."""
        if not json_texts:
            return
        write = self.fh.write
        write("\n    " if self._first_item else "\n   ,")
        self._first_item = False
        write(json_texts[0])
        for text in json_texts[1:]:
            write("\n   ,")
            write(text)

    def _write_batch(self, chunk: list[str]) -> None:
        self.fh.write(("\n    " if self._first_item else "\n   ,") + "\n   ,".join(chunk))
        self._first_item = False

    def raw_lines(self, blocks: Iterable[bytes | bytearray | memoryview], batch: int = 4096) -> None:
        """Append elements already encoded as JSON, each block one element ending in a newline
        (as PostgreSQL's COPY TO writes one row per message); the elements hold no newline."""
        pending: list[bytes | bytearray | memoryview] = []
        for block in blocks:
            pending.append(block)
            if len(pending) >= batch:
                self._write_lines(pending)
                pending = []
        if pending:
            self._write_lines(pending)

    def _write_lines(self, blocks: list[bytes | bytearray | memoryview]) -> None:
        data = b"".join(blocks).decode("utf-8")
        if not data.endswith("\n"):
            raise ValueError("an encoded element does not end in a newline")
        self.fh.write(("\n    " if self._first_item else "\n   ,") + data[:-1].replace("\n", "\n   ,"))
        self._first_item = False

    def end_array(self) -> None:
        self.fh.write("]" if self._first_item else "\n  ]")

    def close(self) -> None:
        self.fh.write("\n}\n")


def iter_array(path: Path, key: str) -> Iterator[dict[str, Any]]:
    """Stream the elements of the top-level array ``key`` of a file written by StreamedDoc.

    Falls back to loading the whole file when it was written by another tool.
    """
    marker = f'  "{key}": ['.encode()
    loads = orjson.loads
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(marker):
                rest = line[len(marker) :].strip()
                if rest in (b"]", b"],"):
                    return
                if rest:
                    break  # not our one-element-per-line layout
                for item_line in fh:
                    s = item_line.strip()
                    if s.startswith(b"]"):
                        return
                    yield loads(s[1:] if s.startswith(b",") else s)
                return
    with open(path, "rb") as fh:
        yield from orjson.loads(fh.read()).get(key, [])


def iter_value_items(path: Path, key: str) -> Iterator[Any]:
    """Stream the elements of the top-level array ``key`` written by ``StreamedDoc.value`` or
    ``value_items`` (indented: an element's first and last lines at four spaces, what is
    inside deeper). Another layout is loaded whole; ValueError if the layout breaks midway."""
    marker = f'  "{key}": ['.encode()
    loads = orjson.loads
    ends = (b"    }", b"    },", b"    ]", b"    ],")
    with open(path, "rb") as fh:
        for line in fh:
            if not line.startswith(marker):
                continue
            rest = line[len(marker):].strip()
            if rest in (b"]", b"],"):
                return
            if rest:
                break  # not this layout
            parts: list[bytes] = []
            for item_line in fh:
                if item_line.startswith(b"  ]"):
                    if parts:
                        raise ValueError(f'an element of "{key}" is not closed')
                    return
                if not item_line.startswith(b"    "):
                    raise ValueError(f'"{key}" is not laid out one indented element after another')
                parts.append(item_line)
                first = parts[0].rstrip()
                if (len(parts) == 1 and not first.endswith((b"{", b"["))) or item_line.rstrip() in ends:
                    text = b"".join(parts).strip()
                    yield loads(text[:-1] if text.endswith(b",") else text)
                    parts = []
            raise ValueError(f'"{key}" does not end')
    with open(path, "rb") as fh:
        yield from orjson.loads(fh.read()).get(key, [])


T = TypeVar("T", bound=tuple[Any, ...])
_make = tuple.__new__  # a NamedTuple without its keyword-handling __new__: a million of them


def iter_records(path: Path, key: str, cls: type[T], defaults: dict[str, Any],
                 missing: Callable[[str], Exception]) -> Iterator[T]:
    """The elements of array ``key`` as NamedTuple ``cls`` records, each field taken by its
    name (``itemgetter`` over ``cls._fields``), so the order of the fields does not matter.
    A field absent from an element takes its default, or raises ``missing(field)``."""
    fields: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
    get = itemgetter(*fields)
    for d in iter_array(path, key):
        try:
            values = get(d)
        except KeyError:
            absent = [f for f in fields if f not in d and f not in defaults]
            if absent:
                raise missing(absent[0]) from None
            values = tuple(d.get(f, defaults.get(f)) for f in fields)
        yield _make(cls, values)


def read_head(path: Path, skip: tuple[str, ...]) -> dict[str, Any]:
    """The top-level keys of a StreamedDoc file except the streamed arrays in ``skip``.

    The streamed arrays are cut out line by line without parsing them (bounded memory):
    JSON text never holds a raw newline inside a string, so a line that starts with
    ``  "key": [`` is a top-level key, and the array ends at the next line ``  ],``.
    A streamed array is never the last key (metadata comes last).
    """
    starts = tuple(f'  "{k}": ['.encode() for k in skip)
    kept: list[bytes] = []
    skipping = False
    with open(path, "rb") as fh:
        for line in fh:
            if skipping:
                skipping = not line.startswith(b"  ]")
                continue
            if line.startswith(starts):
                skipping = not line.rstrip().endswith((b"[]", b"[],"))
                continue
            kept.append(line)
    try:
        return orjson.loads(b"".join(kept))  # type: ignore[no-any-return]
    except orjson.JSONDecodeError:  # not our layout: load it whole
        with open(path, "rb") as fh:
            doc = orjson.loads(fh.read())
        return {k: v for k, v in doc.items() if k not in skip}
