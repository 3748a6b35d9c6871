"""Step 2, create: step 1's file -> the target, plus the plan's step 2 files.

Owns: reading step 1's output as typed records (streamed), driving the
:class:`~chatmigrate.postgres.load.Loader` (stage, classify, threshold, insert, commit),
and writing ``failed-chats-creation.json`` (when anything failed),
``chats-created.json`` (the rollback manifest: created and already-present ids) and
``chat-creation-stats.json``; then the plan's indexes.

Does not own: SQL (``postgres``), file shapes (``planfiles``), printing (``cli``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import planfiles as pf
from ..errors import ChatmigrateError
from ..phase6.kinds import ROW_KINDS, ChatSchema, LinkMode, Outcome, chat_schema, link_suits
from ..postgres import db
from ..postgres.load import LoadCounts, Loader
from ..progress import NO_PROGRESS, Progress

ADVICE_STEP1 = pf.ADVICE_STEP1


class ThresholdExceeded(ChatmigrateError):
    """Too many rows failed: the plan says stop; nothing was committed."""

    exit_code = 1

    def __init__(self, rate: float, limit: float, failed_path: Path) -> None:
        self.rate, self.limit = rate, limit
        super().__init__(
            f"{rate:.2%} of the rows could not be inserted, above the {limit:.2%} limit (--max-error-rate): "
            f"nothing was committed; see {failed_path} for every failed row and its reason."
        )


@dataclass(slots=True)
class CreateResult:
    counts: LoadCounts
    duration_seconds: float
    committed: bool
    indexes: list[str]
    stats: pf.CreationStats
    failed_path: Path | None = None  # failed-chats-creation.json, when rows failed
    insert_triggers: list[str] = field(default_factory=list)  # fired for every inserted row


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
    return pf.write_failures(temp_dir, {kind: ld.failures(kind) for kind in ROW_KINDS},
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
    ext = pf.read_extracted(temp_dir)
    total = ext.metadata.get("processed_messages")
    failed_path: Path | None = None
    # autocommit: the Loader's transaction() is then the real BEGIN ... COMMIT, not a savepoint
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        schema = chat_schema(db.chat_schema(conn))
        triggers = db.insert_triggers(conn)
        check_link_mode(ext.metadata.get("link_mode", "strict"), schema, ext.path)
        ld = Loader(conn, progress, schema)
        ld.begin()
        try:
            ld.stage_chats(ext.chats)
            ld.stage_messages(ext.messages(), total)
            ld.stage_media(ext.media)
            counts = ld.classify()
            if counts.chats.failed or counts.messages.failed or counts.media.failed:
                failed_path = _write_failures(temp_dir, ld)
            else:
                pf.remove_failures(temp_dir)
            if counts.error_rate > max_error_rate:
                ld.rollback()
                pf.write_creation_stats(temp_dir, stats_doc(counts, time.perf_counter() - started, False))
                raise ThresholdExceeded(counts.error_rate, max_error_rate, temp_dir / pf.FAILED_CREATION)
            ld.insert()
            ld.commit()
        except BaseException:
            ld.rollback()
            raise
        seconds = time.perf_counter() - started
        pf.write_created(temp_dir, {o: ld.rows(o) for o in Outcome}, manifest_metadata(ld.counts, int(seconds * 1000)))
        built: list[str] = []
        if indexes:  # after the load's commit, in a transaction of their own
            with conn.transaction():
                built = db.create_indexes(conn, schema)
    stats = stats_doc(counts, seconds, True)
    stats["insert_triggers_fired"] = triggers
    pf.write_creation_stats(temp_dir, stats)
    return CreateResult(counts, seconds, True, built, stats, failed_path, triggers)
