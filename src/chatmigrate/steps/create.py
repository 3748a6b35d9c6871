"""Step 2, create: chats-extracted.json -> the target, plus the plan's step 2 files.

Owns: reading step 1's output as typed records (streamed), driving the
:class:`~chatmigrate.postgres.load.Loader` (stage, classify, threshold, insert, commit),
and writing ``failed-chats-creation.json`` (when anything failed),
``chats-created.json`` (the rollback manifest: created and already-present ids) and
``chat-creation-stats.json``; then the plan's indexes.

Does not own: SQL (``postgres``), file shapes (``phase6.files``), printing (``cli``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ThresholdExceeded as ThresholdExceeded  # importable here too
from ..phase6 import files as f
from ..phase6 import records as r
from ..progress import NO_PROGRESS, Progress
from ..postgres import db
from ..postgres.load import LoadCounts, Loader

ADVICE_STEP1 = "run `chatmigrate extract` first (or pass the --temp-dir it wrote to)"


@dataclass(slots=True)
class CreateResult:
    counts: LoadCounts
    duration_seconds: float
    committed: bool
    indexes: list[str]
    stats: dict[str, Any]
    failed_path: Path | None = None  # failed-chats-creation.json, when rows failed
    insert_triggers: list[str] = field(default_factory=list)  # fired for every inserted row


def read_chats(path: Path) -> list[r.TargetChat]:
    return [
        r.TargetChat(d["id"], d.get("booking_id"), d["created_at"], d["updated_at"],
                     d.get("customer_id"), d.get("stylist_id"))
        for d in f.iter_array(path, "processedChats")
    ]


def iter_messages(path: Path) -> Iterator[r.TargetMessage]:
    make = tuple.__new__  # the NamedTuple without its keyword-handling __new__: a million of them
    cls = r.TargetMessage
    for d in f.iter_array(path, "processedMessages"):
        yield make(cls, (d["id"], d["chat_id"], d["sender_id"], d.get("sender_role", ""), d["content"],
                         bool(d["is_read"]), d["created_at"], bool(d["has_image"])))


def read_media(head: dict[str, Any]) -> list[r.PlannedMedia]:
    out = []
    for img in head.get("imageMessages", []):
        md = img.get("media") or {}
        msg = img["message"]
        out.append(
            r.PlannedMedia(md.get("id") or r.media_id(msg["id"]), msg["id"], img["chat_id"],
                           md.get("owner_id", ""), md.get("file_path", ""), msg.get("message", ""))
        )
    return out


def read_extracted_head(temp_dir: Path) -> tuple[Path, dict[str, Any]]:
    path = temp_dir / f.CHATS_EXTRACTED
    if not path.is_file():
        raise f.PhaseFileError(path, "step 1's output is missing", ADVICE_STEP1)
    try:
        head = f.read_head(path, ("processedChats", "processedMessages"))
    except (OSError, ValueError) as exc:
        raise f.PhaseFileError(path, f"step 1's output cannot be read ({exc})", ADVICE_STEP1) from None
    if "metadata" not in head:
        raise f.PhaseFileError(path, 'it has no "metadata"', ADVICE_STEP1)
    return path, head


def _write_failures(path: Path, ld: Loader) -> None:
    with f.atomic_text(path) as fh:
        doc = f.StreamedDoc(fh)
        doc.value("failed_at", f.now_iso())
        for kind, key, label in (("chat", "failed_chats", "chat"), ("message", "failed_messages", "message"),
                                 ("media", "failed_media", "media")):
            doc.begin_array(key)
            parent = {"chat": "booking_id", "message": "chat_id", "media": "message_id"}[kind]
            for x in ld.failures(kind):
                doc.item({label: {"id": x.id, parent: x.parent_id}, "error": x.error})
            doc.end_array()
        c = ld.counts
        doc.value("metadata", {"failed_chats": c.chats.failed, "failed_messages": c.messages.failed,
                               "failed_media": c.media.failed})
        doc.close()


def _write_created(path: Path, ld: Loader, duration_ms: int) -> None:
    c = ld.counts
    with f.atomic_text(path) as fh:
        doc = f.StreamedDoc(fh)
        doc.value("created_at", f.now_iso())
        for outcome, prefix in (("insert", "created"), ("present", "already_present")):
            doc.begin_array(f"{prefix}_chats")
            for id_, booking, customer, stylist in ld.rows("chat", outcome):
                item = {"id": id_, "booking_id": None if booking == "\\N" else booking}
                if booking == "\\N":  # the participants schema
                    item.update(customer_id=customer, stylist_id=stylist)
                doc.item(item)
            doc.end_array()
            doc.begin_array(f"{prefix}_messages")
            # uuids need no JSON escaping: format the lines directly (a million of them)
            doc.raw_items(
                f'{{"id": "{id_}", "chat_id": "{chat}", "sender_id": "{sender}", '
                f'"has_image": {"true" if has_image == "t" else "false"}}}'
                for id_, chat, sender, has_image in ld.rows("message", outcome)
            )
            doc.end_array()
            doc.begin_array(f"{prefix}_media")
            for id_, message in ld.rows("media", outcome):
                doc.item({"id": id_, "message_id": message, "media_type": r.MEDIA_TYPE})
            doc.end_array()
        doc.value("metadata", {
            "total_chats_to_create": c.chats.attempted,
            "total_messages_to_create": c.messages.attempted,
            "total_media_to_create": c.media.attempted,
            "successful_chat_creations": c.chats.created,
            "successful_message_creations": c.messages.created,
            "successful_media_creations": c.media.created,
            **_present_and_failed(c),
            "duration_ms": duration_ms,
        })
        doc.close()


def _present_and_failed(c: LoadCounts) -> dict[str, int]:
    """The counts both step 2 files report under the same names."""
    return {
        "already_present_chats": c.chats.present,
        "already_present_messages": c.messages.present,
        "already_present_media": c.media.present,
        "failed_chat_creations": c.chats.failed,
        "failed_message_creations": c.messages.failed,
        "failed_media_creations": c.media.failed,
    }


def stats_doc(c: LoadCounts, seconds: float, committed: bool) -> dict[str, Any]:
    return {
        "completed_at": f.now_iso(),
        "duration_seconds": round(seconds, 3),
        "committed": committed,
        "total_chats": c.chats.attempted,
        "total_messages": c.messages.attempted,
        "total_media": c.media.attempted,
        "successfully_created_chats": c.chats.created,
        "successfully_created_messages": c.messages.created,
        "successfully_created_media": c.media.created,
        **_present_and_failed(c),
        # the share of rows that are in the target after this step (created or already there)
        "chat_success_rate": f.success_rate(c.chats.created + c.chats.present, c.chats.attempted),
        "message_success_rate": f.success_rate(c.messages.created + c.messages.present, c.messages.attempted),
        "media_success_rate": f.success_rate(c.media.created + c.media.present, c.media.attempted),
    }


def check_link_mode(link: str, schema: str, path: Path) -> None:
    """Step 1's link mode must suit the target's chats table."""
    if (link == "participants") != (schema == "participants"):
        want = "--link participants" if schema == "participants" else "--link strict or --link recover"
        raise f.PhaseFileError(
            path, f"it was extracted with --link {link} but the target's chats table is keyed by "
            f"{'customer and stylist' if schema == 'participants' else 'booking'}",
            f"re-run extract with {want} (run chooses it by itself)")


def create(
    temp_dir: Path,
    url: str,
    *,
    max_error_rate: float = 0.05,
    indexes: bool = True,
    progress: Progress = NO_PROGRESS,
) -> CreateResult:
    """Run step 2. Commits everything or nothing; raises ThresholdExceeded (exit 1)."""
    started = time.perf_counter()
    path, head = read_extracted_head(temp_dir)
    chats = read_chats(path)
    media = read_media(head)
    total = head["metadata"].get("processed_messages")
    failed_path = temp_dir / f.FAILED_CREATION
    # autocommit: the Loader's transaction() is then the real BEGIN ... COMMIT, not a savepoint
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        schema = db.chat_schema(conn)
        triggers = db.insert_triggers(conn)
        check_link_mode(head["metadata"].get("link_mode", "strict"), schema, path)
        ld = Loader(conn, progress, schema)
        ld.begin()
        try:
            ld.stage_chats(chats)
            ld.stage_messages(iter_messages(path), total)
            ld.stage_media(media)
            counts = ld.classify()
            if counts.chats.failed or counts.messages.failed or counts.media.failed:
                _write_failures(failed_path, ld)
            else:
                failed_path.unlink(missing_ok=True)
            if counts.error_rate > max_error_rate:
                ld.rollback()
                f.write_json(temp_dir / f.CREATION_STATS, stats_doc(counts, time.perf_counter() - started, False))
                raise ThresholdExceeded(counts.error_rate, max_error_rate, failed_path)
            ld.insert()
            ld.commit()
        except BaseException:
            ld.rollback()
            raise
        seconds = time.perf_counter() - started
        _write_created(temp_dir / f.CHATS_CREATED, ld, int(seconds * 1000))
        built: list[str] = []
        if indexes:  # after the load's commit, in a transaction of their own
            with conn.transaction():
                built = db.create_indexes(conn, schema)
    stats = stats_doc(counts, seconds, True)
    stats["insert_triggers_fired"] = triggers
    f.write_json(temp_dir / f.CREATION_STATS, stats)
    return CreateResult(counts, seconds, True, built, stats, failed_path if failed_path.exists() else None,
                        triggers)
