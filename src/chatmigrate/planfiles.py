"""The plan's JSON files, read and written in one place.

Owns: the names and shapes of every file in the temp dir (Phase 1/4 inputs, the
step 1/2/3 outputs, the run stats), atomic owner-only writing (``0600``, written to a
temporary name and renamed, so a killed step never leaves half a file), and streaming
of the large arrays: ``processedMessages``, ``skipped_messages`` and
``created_messages`` are written one element per line and read back line by line, so
a million messages never sit in memory at once.

Does not own: deciding what goes into the files (rules, steps) or any database work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import orjson

from ..errors import ChatmigrateError

USER_MAPPING = "user-id-mapping.json"
BOOKINGS_CREATED = "bookings-created.json"
CHATS_EXTRACTED = "chats-extracted.json"
SKIPPED_CHATS = "skipped-chats.json"
CHATS_CREATED = "chats-created.json"
CREATION_STATS = "chat-creation-stats.json"
FAILED_CREATION = "failed-chats-creation.json"
VALIDATION_RESULTS = "chat-validation-results.json"
MIGRATION_STATS = "phase-6-migration-stats.json"
CHAT_LINKS = "chat-links.json"
IMPACT = "phase-6-impact.json"
PHASE_OUTPUTS = (
    CHATS_EXTRACTED, SKIPPED_CHATS, CHAT_LINKS, CHATS_CREATED, CREATION_STATS, FAILED_CREATION,
    VALIDATION_RESULTS, MIGRATION_STATS,
)


class PhaseFileError(ChatmigrateError):
    """A phase file that is missing or does not have the plan's shape."""

    def __init__(self, path: Path, problem: str, advice: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}; {advice}.")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@contextmanager
def atomic_text(path: Path) -> Iterator[IO[str]]:
    """Open ``path`` for writing, owner-only; it appears under its name only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, doc: dict[str, Any]) -> None:
    with atomic_text(path) as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


def read_json(path: Path, what: str, advice: str) -> dict[str, Any]:
    if not path.is_file():
        raise PhaseFileError(path, f"{what} is missing", advice)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PhaseFileError(path, f"{what} is not valid JSON ({exc})", advice) from None
    if not isinstance(doc, dict):
        raise PhaseFileError(path, f"{what} is not a JSON object", advice)
    return doc


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

    def _write_batch(self, chunk: list[str]) -> None:
        self.fh.write(("\n    " if self._first_item else "\n   ,") + "\n   ,".join(chunk))
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


def success_rate(ok: int, total: int) -> str:
    return f"{(100.0 * ok / total) if total else 0.0:.2f}%"
