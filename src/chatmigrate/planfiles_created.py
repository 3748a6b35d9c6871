"""Step 2's manifest and failures: ``chats-created.json`` and ``failed-chats-creation.json``.

Owns: writing the manifest of every row step 2 created or found already present, with
the ledger run they belong to (:func:`write_created`; its messages one element per line,
formatted here or by PostgreSQL in ``load``: :class:`EncodedItems`), reading back the run
it names and the ids it lists, and writing (or removing) the rows step 2 could not
insert, with their reasons (:func:`write_failures`).

Does not own: the files' names and the helpers the ``planfiles*`` modules share
(``planfiles``), ``chat-creation-stats.json`` (``planfiles_docs``), the rows themselves
(``postgres.load``: the ledger in the target is the source of truth; these files are reports).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import jsonstream as s
from .phase6 import kinds as k
from .phase6 import records as r
from .phase6.records import CreatedChat, CreatedMedia, CreatedMessage, CreatedRows
from .planfiles import CHATS_CREATED, FAILED_CREATION, now_iso
from .safewrite import atomic_text


@dataclass(slots=True)
class EncodedItems:
    """Manifest elements already encoded, one JSON object per block, each ending in a newline
    (the shape :func:`write_created` writes for them; ``load`` has PostgreSQL format them)."""

    blocks: Iterable[bytes | bytearray | memoryview]


@dataclass(slots=True)
class CreatedRowsEncoded:
    """:class:`CreatedRows` whose messages are encoded already (a million of them)."""

    chats: Iterable[CreatedChat]
    messages: EncodedItems
    media: Iterable[CreatedMedia]


_MANIFEST_PARTS = ((k.Outcome.INSERT, "created"), (k.Outcome.PRESENT, "already_present"))


def write_created(temp_dir: Path, rows: dict[k.Outcome, CreatedRows | CreatedRowsEncoded], metadata: dict[str, int],
                  *,
                  run_id: int, dump_sha256: str | None) -> None:
    """chats-created.json, the report of step 2: every created and already-present row,
    and the ledger run they belong to (the ledger in the target is the source of truth)."""
    with atomic_text(temp_dir / CHATS_CREATED) as fh:
        doc = s.StreamedDoc(fh)
        doc.value("created_at", now_iso())
        doc.value("run_id", run_id)  # the ledger run (chatmigrate.runs) these rows belong to
        doc.value("dump_sha256", dump_sha256)
        for outcome, prefix in _MANIFEST_PARTS:
            part = rows[outcome]
            doc.begin_array(f"{prefix}_chats")
            for c in part.chats:
                item: dict[str, Any] = {"id": c.id, "booking_id": c.booking_id}
                if c.booking_id is None:  # the participants schema
                    item.update(customer_id=c.customer_id, stylist_id=c.stylist_id)
                doc.item(item)
            doc.end_array()
            doc.begin_array(f"{prefix}_messages")
            if isinstance(part.messages, EncodedItems):
                doc.raw_lines(part.messages.blocks)
            else:  # uuids need no JSON escaping (the loader checked them): format the lines directly
                doc.raw_items(message_item(m) for m in part.messages)
            doc.end_array()
            doc.begin_array(f"{prefix}_media")
            for md in part.media:
                doc.item({"id": md.id, "message_id": md.message_id, "media_type": r.MEDIA_TYPE})
            doc.end_array()
        doc.value("metadata", metadata)
        doc.close()


def message_item(m: CreatedMessage) -> str:
    """One element of the manifest's message arrays (``load`` formats the same text in SQL)."""
    return (f'{{"id": "{m.id}", "chat_id": "{m.chat_id}", "sender_id": "{m.sender_id}", '
            f'"has_image": {"true" if m.has_image else "false"}}}')


def read_created_run(temp_dir: Path) -> tuple[int | None, str | None]:
    """(run id, dump sha256) that the temp dir's chats-created.json names, or (None, None)."""
    path = temp_dir / CHATS_CREATED
    try:
        head = s.read_head(path, tuple(f"{prefix}_{plural}" for _, prefix in _MANIFEST_PARTS
                                       for plural in ("chats", "messages", "media")))
    except (OSError, ValueError):
        return None, None
    run_id, sha = head.get("run_id"), head.get("dump_sha256")
    return (run_id if isinstance(run_id, int) else None), (sha if isinstance(sha, str) else None)


def read_created_ids(temp_dir: Path) -> dict[k.RowKind, list[str]]:
    """The ids chats-created.json lists (created and already present), per row kind."""
    path = temp_dir / CHATS_CREATED
    out: dict[k.RowKind, list[str]] = {}
    plurals: tuple[tuple[k.RowKind, str], ...] = (("chat", "chats"), ("message", "messages"), ("media", "media"))
    for kind, plural in plurals:
        ids = out.setdefault(kind, [])
        for _, prefix in _MANIFEST_PARTS:
            ids.extend(x["id"] for x in s.iter_array(path, f"{prefix}_{plural}"))
    return out


_FAILED_PARTS: tuple[tuple[k.RowKind, str, str], ...] = (
    ("chat", "failed_chats", "booking_id"), ("message", "failed_messages", "chat_id"),
    ("media", "failed_media", "message_id"),
)


def write_failures(temp_dir: Path, failures: dict[k.RowKind, Iterable[r.Failure]], metadata: dict[str, int]) -> Path:
    """failed-chats-creation.json: every row step 2 could not insert, with the reason."""
    path = temp_dir / FAILED_CREATION
    with atomic_text(path) as fh:
        doc = s.StreamedDoc(fh)
        doc.value("failed_at", now_iso())
        for kind, key, parent in _FAILED_PARTS:
            doc.begin_array(key)
            for x in failures[kind]:
                doc.item({kind: {"id": x.id, parent: x.parent_id}, "error": x.error})
            doc.end_array()
        doc.value("metadata", metadata)
        doc.close()
    return path


def remove_failures(temp_dir: Path) -> None:
    (temp_dir / FAILED_CREATION).unlink(missing_ok=True)
