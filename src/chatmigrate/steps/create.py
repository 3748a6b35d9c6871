"""Step 2, create: step 1's file -> the target, plus the plan's step 2 files.

Owns: reading step 1's output as typed records (streamed), driving the
:class:`~chatmigrate.postgres.load.Loader` (stage, classify, threshold, insert, commit),
and writing ``failed-chats-creation.json`` (when anything failed),
``chats-created.json`` (the rollback manifest: created and already-present ids) and
``chat-creation-stats.json``; after the load's commit, the plan's indexes (only those no
index in place serves already; the ones created are recorded in the run, so rollback
removes them), built on a second connection while a thread writes the manifest from the
load's session. The Phase 6 lock is held from
before step 1's file is read to the end; the load claims its ledger run (``ledger``) and
records every row in its transaction. After the commit, any failure says what is
committed (:class:`LoadCommitted`) and the stats file is written anyway.

Does not own: SQL (``postgres``), file shapes (``planfiles``), printing (``cli``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import planfiles as pf
from .. import planfiles_created as pfc
from .. import planfiles_docs as pfd
from .. import planfiles_extracted as pfe
from ..errors import LoadCommitted as LoadCommitted  # importable here too
from ..errors import ThresholdExceeded as ThresholdExceeded
from ..phase6.kinds import ROW_KINDS, ChatSchema, LinkMode, Outcome, chat_schema, link_suits
from ..postgres import db, ledger, lock, preflight
from ..postgres.load import LoadCounts, Loader
from ..progress import NO_PROGRESS, Progress

ADVICE_STEP1 = pf.ADVICE_STEP1


@dataclass(slots=True)
class CreateResult:
    counts: LoadCounts
    duration_seconds: float
    committed: bool
    indexes: list[str]  # the plan's indexes in place, by the name of the index serving each
    stats: pf.CreationStats
    failed_path: Path | None = None  # failed-chats-creation.json, when rows failed
    insert_triggers: list[str] = field(default_factory=list)  # fired for every inserted row
    run_id: int | None = None  # the ledger run (chatmigrate.runs)


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


def manifest_metadata(c: LoadCounts, duration_ms: int) -> dict[str, int]:
    return {
        "total_chats_to_create": c.chats.attempted,
        "total_messages_to_create": c.messages.attempted,
        "total_media_to_create": c.media.attempted,
        "successful_chat_creations": c.chats.created,
        "successful_message_creations": c.messages.created,
        "successful_media_creations": c.media.created,
        **_present_and_failed(c),
        "duration_ms": duration_ms,
    }


def committed_counts(c: LoadCounts) -> tuple[tuple[int, int, int], int]:
    """What a committed load holds, as LoadCommitted reports it: (chats, messages, media) inserted, present."""
    return (c.chats.created, c.messages.created, c.media.created), c.chats.present + c.messages.present + c.media.present


def stats_doc(c: LoadCounts, seconds: float, committed: bool) -> pf.CreationStats:
    return {
        "completed_at": pf.now_iso(),
        "duration_seconds": round(seconds, 3),
        "committed": committed,
        "total_chats": c.chats.attempted,
        "total_messages": c.messages.attempted,
        "total_media": c.media.attempted,
        "successfully_created_chats": c.chats.created,
        "successfully_created_messages": c.messages.created,
        "successfully_created_media": c.media.created,
        "already_present_chats": c.chats.present,
        "already_present_messages": c.messages.present,
        "already_present_media": c.media.present,
        "failed_chat_creations": c.chats.failed,
        "failed_message_creations": c.messages.failed,
        "failed_media_creations": c.media.failed,
        # the share of rows that are in the target after this step (created or already there)
        "chat_success_rate": pf.success_rate(c.chats.created + c.chats.present, c.chats.attempted),
        "message_success_rate": pf.success_rate(c.messages.created + c.messages.present, c.messages.attempted),
        "media_success_rate": pf.success_rate(c.media.created + c.media.present, c.media.attempted),
    }


def _write_failures(temp_dir: Path, ld: Loader) -> Path:
    c = ld.counts
    return pfc.write_failures(temp_dir, {kind: ld.failures(kind) for kind in ROW_KINDS},
                             {"failed_chats": c.chats.failed, "failed_messages": c.messages.failed,
                              "failed_media": c.media.failed})


def check_link_mode(link: LinkMode, schema: ChatSchema, path: Path) -> None:
    """Step 1's link mode must suit the target's chats table."""
    if not link_suits(link, schema):
        want = "--link participants" if schema == "participants" else "--link strict or --link recover"
        raise pf.PhaseFileError(
            path, f"it was extracted with --link {link} but the target's chats table is keyed by "
            f"{'customer and stylist' if schema == 'participants' else 'booking'}",
            f"re-run extract with {want} (run chooses it by itself)")


def _dump_identity(meta: pf.ExtractMetadata) -> tuple[str | None, str | None]:
    """(dump path, sha256) of the dump step 1 read: from its metadata, else one pass over the file."""
    path = meta.get("dump")
    return path, meta.get("dump_sha256") or ledger.dump_checksum(path)


def check_temp_dir_dump(temp_dir: Path, sha: str | None, allow_another_dump: bool) -> None:
    """The temp dir's step 2 report must come from the same dump (else its run is another one)."""
    run_id, other = pfc.read_created_run(temp_dir)
    if run_id is not None and other != sha and not allow_another_dump:
        raise pf.PhaseFileError(
            temp_dir / pf.CHATS_CREATED, f"it reports run {run_id} of another dump (sha256 {(other or 'unknown')[:12]})",
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
    while_loading: Callable[[], object] | None = None,
) -> CreateResult:
    """Run step 2. Commits everything or nothing; raises ThresholdExceeded (exit 1).

    After the load's commit, a failure or interrupt (writing the manifest, building the
    indexes) raises LoadCommitted, which says what is committed; the stats file is
    written in every case.
    """
    started = time.perf_counter()
    progress.start(f"reading {pf.CHATS_EXTRACTED} (step 1's chats and images)", None)
    try:
        ext = pfe.read_extracted(temp_dir)
    finally:
        progress.finish()
    stamp = ext.path.stat()
    dump_path, sha = _dump_identity(ext.metadata) if dump_sha256 is None else (ext.metadata.get("dump"), dump_sha256)
    check_temp_dir_dump(temp_dir, sha, allow_another_dump)
    failed_path: Path | None = None
    # autocommit: the Loader's transaction() is then the real BEGIN ... COMMIT, not a savepoint
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        lock.hold(conn)  # held to the end: a rollback waits for the indexes and the files
        ext = _after_waiting(temp_dir, ext, stamp)
        total = ext.metadata.get("processed_messages")
        link = ext.metadata.get("link_mode", "strict")
        schema = chat_schema(db.chat_schema(conn))
        triggers = db.insert_triggers(conn)
        check_link_mode(link, schema, ext.path)
        preflight.check(conn, "create", indexes=indexes, chat_schema=schema)
        ld = Loader(conn, progress, schema)
        ld.begin()
        try:
            run_id = ledger.claim(conn, dump_path=dump_path, dump_sha256=sha, temp_dir=str(temp_dir.resolve()),
                                  link_mode=link, chat_schema=schema, allow_another_dump=allow_another_dump)
            ld.stage_chats(ext.chats)
            ld.stage_messages(ext.messages(), total)
            ld.stage_media(ext.media)
            if while_loading is not None:  # the rest is the server's work: the caller's may run beside it
                while_loading()
            counts = ld.classify()
            if counts.chats.failed or counts.messages.failed or counts.media.failed:
                failed_path = _write_failures(temp_dir, ld)
            else:
                pfc.remove_failures(temp_dir)
            if counts.error_rate > max_error_rate:
                ld.rollback()
                pfd.write_creation_stats(temp_dir, stats_doc(counts, time.perf_counter() - started, False))
                raise ThresholdExceeded(counts.error_rate, max_error_rate, temp_dir / pf.FAILED_CREATION)
            ld.insert(run_id)
            ld.commit()
        except BaseException:
            ld.rollback()
            raise
        seconds = time.perf_counter() - started
        stats = stats_doc(counts, seconds, True)
        stats["run_id"], stats["dump_sha256"], stats["insert_triggers_fired"] = run_id, sha, triggers
        built: list[str] = []
        what = f"writing {pf.CHATS_CREATED}"
        try:
            # the manifest is read from the load's session (its staging tables) in a thread, while the
            # indexes are built on a second connection: both are mostly the server's work, on two cores
            writer = _Background(pfc.write_created, temp_dir, {o: ld.encoded_rows(o) for o in Outcome},
                                 manifest_metadata(ld.counts, int(seconds * 1000)), run_id=run_id, dump_sha256=sha)
            try:  # after the load's commit, the lock still held
                what = "index creation" if indexes else "the statistics' update"
                built = _build_indexes(url, schema, run_id, progress, indexes)
            finally:
                c = ld.counts.messages
                progress.start(f"writing {pf.CHATS_CREATED}", c.created + c.present)
                failed = writer.join(lambda: progress.update(ld.manifest_messages))
                progress.finish()
            if failed is not None:
                what = f"writing {pf.CHATS_CREATED}"
                raise failed
        except BaseException as exc:
            stats["indexes_built"] = False
            stats["error"] = f"{what} failed or was interrupted after the load's commit"
            pfd.write_creation_stats(temp_dir, stats)
            raise LoadCommitted(run_id, *committed_counts(counts), what, exc) from exc
        lock.release(conn)
    stats["indexes_built"] = bool(built)
    pfd.write_creation_stats(temp_dir, stats)
    return CreateResult(counts, seconds, True, built, stats, failed_path, triggers, run_id)


def _build_indexes(url: str, schema: ChatSchema, run_id: int, progress: Progress, indexes: bool) -> list[str]:
    """The plan's indexes where no equivalent is in place, on a connection of their own (the
    load's holds the lock), in a transaction with the ledger's list of what was made; then
    the loaded tables' statistics (``db.analyze_loaded``)."""
    built: list[str] = []
    with db.connect(url, autocommit=True) as conn:
        if indexes:
            with conn.transaction():
                made = db.create_indexes(conn, schema, progress)
                ledger.record_indexes(conn, run_id, made.created)
                built = made.in_place
        db.analyze_loaded(conn, progress)
    return built


class _Background:
    """A call in a thread of its own; :meth:`join` waits for it and returns what it raised."""

    def __init__(self, fn: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        self._error: BaseException | None = None

        def target() -> None:
            try:
                fn(*args, **kwargs)
            except BaseException as exc:  # handed to join()
                self._error = exc

        self._thread = threading.Thread(target=target, name="chatmigrate-manifest")
        self._thread.start()

    def join(self, poll: Callable[[], object] | None = None, every: float = 0.5) -> BaseException | None:
        """Wait (calling ``poll`` every ``every`` seconds meanwhile); what the call raised, or None."""
        while self._thread.is_alive():
            self._thread.join(every)
            if poll is not None:
                poll()
        return self._error


def _after_waiting(temp_dir: Path, ext: pfe.Extracted, stamp: Any) -> pfe.Extracted:
    """Step 1's file once the lock is ours: a rollback may have removed it, or an extract replaced it."""
    try:
        now = ext.path.stat()
    except FileNotFoundError:
        raise pf.PhaseFileError(ext.path, "it was removed while create waited for another chatmigrate process "
                                "(a rollback) to finish", "nothing was written; re-run extract, then create") from None
    if (now.st_ino, now.st_mtime_ns, now.st_size) != (stamp.st_ino, stamp.st_mtime_ns, stamp.st_size):
        return pfe.read_extracted(temp_dir)
    return ext
