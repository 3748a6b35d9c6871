"""``run``: preflight, extract, create (with indexes), the images (``--images``), validate, and the run's stats file.

Owns: sequencing the three steps (step 3's staging of the expected rows runs beside
step 2, since it reads only the dump), timing them, and writing
``phase-6-migration-stats.json`` (phase, started_at, completed_at, duration_seconds,
success, steps{extraction, creation, validation}) and ``phase-6-report.html`` whether the
run succeeds or stops.

Also the progress labels of the phases: each step's labels begin with its name, and the
two reads of the dump say which pass they are (step 1's, then step 3's beside step 2, which
shows a spinner while ``run`` waits for it, then step 3's check, step by step).

With :class:`ImageCopy`, the chat images are copied after the load's commit and before the
validation, which then checks every object in storage (a failure there says what is committed).
:func:`step_summary` gives each finished step's counts and warnings for the event log.

Does not own: any step's logic.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import planfiles as pf
from .. import planfiles_docs as pfd
from ..errors import ChatmigrateError, LinkModeRefused
from ..phase6.kinds import ChatSchema, LinkMode, chat_schema
from ..postgres import db, ledger
from ..postgres import preflight as checks
from ..progress import NO_PROGRESS, Prefixed, Progress
from ..report import write_report
from .create import CreateResult, LoadCommitted, check_temp_dir_dump, committed_counts, create
from .extract import ExtractResult, extract, load_phase_inputs
from .modes import Mode, resolve
from .validate import ValidateResult, check, stage

if TYPE_CHECKING:
    from ..storage.checks import Limits
    from ..storage.copy import CopyProgress
    from ..storage.target import StorageConfig
    from .images import ImagesResult


@dataclass(slots=True)
class ImageCopy:
    """``run --images``: copy the run's chat images after the load and before validation,
    which then checks every object in ``storage`` (as ``chatmigrate images``)."""

    storage: StorageConfig
    source_endpoint: str | None = None
    source_dir: Path | None = None
    workers: int = 16
    limits: Limits | None = None
    progress: CopyProgress | None = None


@dataclass(slots=True)
class RunResult:
    extraction: ExtractResult
    creation: CreateResult
    validation: ValidateResult
    stats: pf.MigrationStats
    images: ImagesResult | None = None

    @property
    def success(self) -> bool:
        return bool(self.stats["success"])


def preflight(dump: str, temp_dir: Path, url: str, *, indexes: bool = True, allow_another_dump: bool = False,
              sha: str | None = None, link: LinkMode | None = None) -> Mode:
    """The plan's input validation, before anything is written: files, then the target
    (its chat schema against ``link``, privileges, row level security, a committed ledger
    run of another dump).

    Returns the link mode to use, with why and the target's chat schema.
    """
    load_phase_inputs(temp_dir)
    if not allow_another_dump:
        check_temp_dir_dump(temp_dir, sha, allow_another_dump)
    with db.connect(url) as conn:
        db.require_tables(conn, url)
        schema: ChatSchema = chat_schema(db.chat_schema(conn))
        mode = resolve(link, schema, db.redact(url))
        checks.check(conn, "create", indexes=indexes, chat_schema=schema)
        if not allow_another_dump:
            ledger.refuse_another_dump(conn, dump_path=os.path.abspath(dump), dump_sha256=sha,
                                       temp_dir=str(temp_dir.resolve()))
        (n,) = conn.execute("SELECT count(*) FROM public.bookings").fetchone()  # type: ignore[misc]
        if n == 0:
            raise db.TargetError(
                f"the target {db.redact(url)} has no bookings: Phase 4 must be migrated before Phase 6."
            )
    return mode


def run(
    dump: str,
    temp_dir: Path,
    url: str,
    *,
    source_tz: str | None = None,
    max_error_rate: float = 0.05,
    indexes: bool = True,
    progress: Progress = NO_PROGRESS,
    on_step: Any = None,
    link: LinkMode | None = None,
    allow_another_dump: bool = False,
    storage: StorageConfig | None = None,
    images: ImageCopy | None = None,
) -> RunResult:
    """The whole phase (with ``images``, the chat images copied between the load and the validation). ``link`` None: the target's chat schema decides (participants when its
    chats are keyed by customer and stylist, else strict); a ``link`` the target cannot honour
    is refused (LinkModeRefused, exit 2) before anything is written, the stats file included."""
    started_at, t0 = pf.now_iso(), time.perf_counter()
    steps: dict[str, Any] = {}
    stats: pf.MigrationStats = {"phase": 6, "started_at": started_at}

    def finish(success: bool) -> pf.MigrationStats:
        stats["completed_at"] = pf.now_iso()
        stats["duration_seconds"] = round(time.perf_counter() - t0, 3)
        stats["success"] = success
        stats["steps"] = steps
        pfd.write_migration_stats(temp_dir, stats)
        write_report(temp_dir)  # phase-6-report.html, from the files just written
        return stats

    try:
        sha = ledger.dump_checksum(dump)
        mode = preflight(dump, temp_dir, url, indexes=indexes, allow_another_dump=allow_another_dump, sha=sha,
                         link=link)
        stats["link_mode"], stats["link_mode_source"] = mode.link, mode.source
        if mode.chat_schema is not None:
            stats["chat_schema"] = mode.chat_schema
        t = time.perf_counter()
        ex = extract(dump, temp_dir, source_tz=source_tz, progress=Prefixed(progress, "extract, pass 1 of 2: "),
                     link=mode)
        steps["extraction"] = {"success": True, "duration_seconds": round(time.perf_counter() - t, 3), **ex.metadata}
        if on_step:
            on_step("extraction", ex)
        # Step 3's first half (the dump through the rules into temp tables) reads nothing of
        # the target, so it runs beside step 2 once step 2's own Python work (reading step 1's
        # file, staging by COPY) is done: classification, insert and indexes are the server's
        # work, and a thread of this process would otherwise share the interpreter with it.
        t = time.perf_counter()
        cancel = threading.Event()
        with ThreadPoolExecutor(1, thread_name_prefix="chatmigrate-stage") as pool:
            started: list[Future[Any]] = []

            def begin_staging() -> None:
                if not started:
                    started.append(pool.submit(stage, dump, temp_dir, url, source_tz=source_tz, cancel=cancel))

            try:
                cr = create(temp_dir, url, max_error_rate=max_error_rate, indexes=indexes,
                            progress=Prefixed(progress, "create: "),
                            allow_another_dump=allow_another_dump, dump_sha256=sha, while_loading=begin_staging)
            except BaseException:
                cancel.set()
                if started:
                    _discard(started[0])
                raise
            begin_staging()  # (create calls it; here only should it not have)
            staging = started[0]
            progress.start(f"validate, pass 2 of 2: reading {os.path.basename(dump)} (begun beside create)", None)
            expected = staging.result()
            progress.finish()
        failed = cr.counts.chats.failed + cr.counts.messages.failed + cr.counts.media.failed
        steps["creation"] = {"success": failed == 0, **cr.stats}
        if on_step:
            on_step("creation", cr)
        im: ImagesResult | None = None
        what = "the images' copy"
        try:
            if images is not None:
                im = _copy_images(temp_dir, url, images)
                steps["images"] = {"success": im.success, "duration_seconds": round(im.seconds, 3), **im.totals}
                if on_step:
                    on_step("images", im)
                storage = images.storage
            what = "validation"
            va = check(expected, storage=storage, progress=Prefixed(progress, "validate: "))
        except (KeyboardInterrupt, Exception) as exc:  # the load is committed: say so, whatever stopped us
            if isinstance(exc, ChatmigrateError) or cr.run_id is None:
                raise
            raise LoadCommitted(cr.run_id, *committed_counts(cr.counts), what, exc,
                                "run `chatmigrate validate` to check every row, or rollback") from exc
        steps["validation"] = {"success": va.is_valid, "duration_seconds": round(time.perf_counter() - t, 3),
                               "is_valid": va.is_valid, "validation_errors": va.doc["validation_errors"]}
        if on_step:
            on_step("validation", va)
    except LinkModeRefused:
        raise  # refused before anything was written: no stats file either
    except Exception as exc:
        ours = exc if isinstance(exc, ChatmigrateError) else db.translate(exc, url)  # a database error, or a bug
        if ours is None:
            raise
        steps["error"] = str(ours)
        finish(False)
        if ours is not exc:
            raise ours from exc
        raise
    ok = va.is_valid and steps["creation"]["success"] and (im is None or im.success)
    return RunResult(ex, cr, va, finish(ok), im)


def _copy_images(temp_dir: Path, url: str, job: ImageCopy) -> ImagesResult:
    from .images import images as copy_images

    kw: dict[str, Any] = {"progress": job.progress} if job.progress is not None else {}
    return copy_images(temp_dir, url, job.storage, source_endpoint=job.source_endpoint, source_dir=job.source_dir,
                       workers=job.workers, limits=job.limits, **kw)


def _discard(staging: Future[Any]) -> None:
    """Step 2 failed: wait for the (cancelled) staging beside it and close its connection."""
    with suppress(BaseException):  # step 2's error is the one to report
        staging.result().close()


def step_summary(step: str, res: Any) -> tuple[dict[str, Any], list[str]]:
    """A finished step's counts (ids and numbers only) and its warnings, for an event log."""
    if step == "images":
        return {"run_id": res.run_id, "success": res.success, "seconds": round(res.seconds, 3), **res.totals}, []
    if isinstance(res, ExtractResult):
        m = res.metadata
        keys = ("total_mysql_chats", "total_mysql_messages", "processed_chats", "processed_messages",
                "skipped_chats", "skipped_messages", "image_messages", "link_mode", "skip_reasons")
        return {k: m.get(k) for k in keys}, list(m.get("alerts", []))
    if isinstance(res, CreateResult):
        c = res.counts
        counts = {kind: {"attempted": n.attempted, "created": n.created, "already_present": n.present,
                         "failed": n.failed}
                  for kind, n in (("chats", c.chats), ("messages", c.messages), ("media", c.media))}
        return ({"run_id": res.run_id, "committed": res.committed, "duration_seconds": round(res.duration_seconds, 3),
                 **counts, "failure_reasons": dict(c.reasons), "indexes": res.indexes}, [])
    d = res.doc
    keys = ("is_valid", "expected_chats", "expected_messages", "expected_media", "total_pg_chats",
            "total_pg_messages", "missing_chats_total", "missing_messages_total", "sql_suite_status")
    return {k: d.get(k) for k in keys}, list(d.get("validation_errors", []))
