"""Step 2, create: chats-extracted.json -> the target, plus the plan's step 2 files.

Owns: reading step 1's output as typed records (streamed), driving the
:class:`~chatmigrate.postgres.load.Loader` (stage, classify, threshold, insert, commit),
and writing ``failed-chats-creation.json`` (when anything failed),
``chats-created.json`` (the rollback manifest: created and already-present ids) and
``chat-creation-stats.json``; then the plan's indexes. The Phase 6 lock is held from
before step 1's file is read to the end; the load claims its ledger run (``ledger``) and
records every row in its transaction. After the commit, any failure says what is
committed (:class:`LoadCommitted`) and the stats file is written anyway.

Does not own: SQL (``postgres``), file shapes (``phase6.files``), printing (``cli``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LoadCommitted as LoadCommitted  # importable here too
from ..errors import ThresholdExceeded as ThresholdExceeded
from ..phase6 import files as f
from ..phase6 import records as r
from ..postgres import db, ledger, preflight
from ..postgres.load import LoadCounts, Loader
from ..progress import NO_PROGRESS, Progress

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
    run_id: int | None = None  # the ledger run (chatmigrate.runs)


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


def _write_created(path: Path, ld: Loader, duration_ms: int, run_id: int, sha: str | None) -> None:
    c = ld.counts
    with f.atomic_text(path) as fh:
        doc = f.StreamedDoc(fh)
        doc.value("created_at", f.now_iso())
        doc.value("run_id", run_id)  # the ledger run (chatmigrate.runs) these rows belong to
        doc.value("dump_sha256", sha)
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


def committed_counts(c: LoadCounts) -> tuple[tuple[int, int, int], int]:
    """What a committed load holds, as LoadCommitted reports it: (chats, messages, media) inserted, present."""
    return (c.chats.created, c.messages.created, c.media.created), c.chats.present + c.messages.present + c.media.present


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


def _dump_identity(head: dict[str, Any]) -> tuple[str | None, str | None]:
    """(dump path, sha256) of the dump step 1 read: from its metadata, else one pass over the file."""
    md = head["metadata"]
    path = md.get("dump")
    return path, md.get("dump_sha256") or ledger.dump_checksum(path)


def check_temp_dir_dump(temp_dir: Path, sha: str | None, allow_another_dump: bool) -> None:
    """The temp dir's step 2 report must come from the same dump (else its run is another one)."""
    from .rollback import manifest_run

    run_id, other = manifest_run(temp_dir)
    if run_id is not None and other != sha and not allow_another_dump:
        raise f.PhaseFileError(
            temp_dir / f.CHATS_CREATED, f"it reports run {run_id} of another dump (sha256 {(other or 'unknown')[:12]})",
            "roll that run back first (chatmigrate rollback --run "
            f"{run_id}), use another --temp-dir, or pass --allow-another-dump if two dumps are intended")




def create(
    temp_dir: Path,
    url: str,
    *,
    max_error_rate: float = 0.05,
    indexes: bool = True,
    progress: Progress = NO_PROGRESS,
    allow_another_dump: bool = False,
    dump_sha256: str | None = None,
) -> CreateResult:
    """Run step 2. Commits everything or nothing; raises ThresholdExceeded (exit 1).

    After the load's commit, a failure or interrupt (writing the manifest, building the
    indexes) raises LoadCommitted, which says what is committed; the stats file is
    written in every case.
    """
    started = time.perf_counter()
    path, head = read_extracted_head(temp_dir)
    stamp = path.stat()
    dump_path, sha = _dump_identity(head) if dump_sha256 is None else (head["metadata"].get("dump"), dump_sha256)
    check_temp_dir_dump(temp_dir, sha, allow_another_dump)
    failed_path = temp_dir / f.FAILED_CREATION
    # autocommit: the Loader's transaction() is then the real BEGIN ... COMMIT, not a savepoint
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        ledger.lock(conn)  # held to the end: a rollback waits for the indexes and the files
        path, head = _after_waiting(temp_dir, path, head, stamp)
        chats = read_chats(path)
        media = read_media(head)
        total = head["metadata"].get("processed_messages")
        schema = db.chat_schema(conn)
        triggers = db.insert_triggers(conn)
        check_link_mode(head["metadata"].get("link_mode", "strict"), schema, path)
        preflight.check(conn, "create", indexes=indexes, chat_schema=schema)
        ld = Loader(conn, progress, schema)
        ld.begin()
        try:
            run_id = ledger.claim(conn, dump_path=dump_path, dump_sha256=sha, temp_dir=str(temp_dir.resolve()),
                                  link_mode=head["metadata"].get("link_mode", "strict"), chat_schema=schema,
                                  allow_another_dump=allow_another_dump)
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
            ld.insert(run_id)
            ld.commit()
        except FileNotFoundError as exc:
            ld.rollback()
            raise f.PhaseFileError(path, f"it vanished while step 2 read it ({exc.strerror})",
                                   "nothing was committed; re-run extract, then create") from None
        except BaseException:
            ld.rollback()
            raise
        seconds = time.perf_counter() - started
        stats = stats_doc(counts, seconds, True)
        stats.update(run_id=run_id, dump_sha256=sha, insert_triggers_fired=triggers)
        built: list[str] = []
        what = f"writing {f.CHATS_CREATED}"
        try:
            _write_created(temp_dir / f.CHATS_CREATED, ld, int(seconds * 1000), run_id, sha)
            if indexes:  # after the load's commit, in a transaction of their own, the lock still held
                what = "index creation"
                with conn.transaction():
                    before = {str(r[0]) for r in conn.execute(
                        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()}
                    built = db.create_indexes(conn, schema)
                    ledger.record_indexes(conn, run_id, [n for n in built if n not in before])
        except BaseException as exc:
            stats.update(indexes_built=False, error=f"{what} failed or was interrupted after the load's commit")
            f.write_json(temp_dir / f.CREATION_STATS, stats)
            raise LoadCommitted(run_id, *committed_counts(counts), what, exc) from exc
        ledger.unlock(conn)
    stats["indexes_built"] = bool(built)
    f.write_json(temp_dir / f.CREATION_STATS, stats)
    return CreateResult(counts, seconds, True, built, stats, failed_path if failed_path.exists() else None,
                        triggers, run_id)


def _after_waiting(temp_dir: Path, path: Path, head: dict[str, Any],
                   stamp: Any) -> tuple[Path, dict[str, Any]]:
    """Step 1's file once the lock is ours: a rollback may have removed it, or an extract replaced it."""
    try:
        now = path.stat()
    except FileNotFoundError:
        raise f.PhaseFileError(path, "it was removed while create waited for another chatmigrate process "
                               "(a rollback) to finish", "nothing was written; re-run extract, then create") from None
    if (now.st_ino, now.st_mtime_ns, now.st_size) != (stamp.st_ino, stamp.st_mtime_ns, stamp.st_size):
        return read_extracted_head(temp_dir)
    return path, head
