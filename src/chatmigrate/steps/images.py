"""``chatmigrate images``: copy the chat images a run migrated into Supabase Storage; verify; undo.

Owns: choosing the images (the ``chat_image`` media rows the ledger lists for the temp
dir's run, each with its ``file_path`` as the key and the source URL from
step 1's ``imageMessages``, read through ``planfiles``), wiring source, target, checks and the pool
(``storage``), recording every object in ``chatmigrate.run_objects``, the report
``chat-images-copied.json`` (through ``planfiles``), :func:`verify` (every chat image of
the run has its object with the source's size and MD5: ``images_missing``,
``images_mismatched``, ``images_unverified``), and :func:`rollback_images` (deletes only
the objects this tool copied, never one it found ``present``).

Does not own: the storage protocol (``storage``), the rows (``create``, ``rollback``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import planfiles as pf
from .. import planfiles_created as pfc
from .. import planfiles_docs as pfd
from .. import planfiles_extracted as pfe
from ..errors import LedgerError, UsageError
from ..postgres import db, ledger, objects
from ..storage.checks import Limits
from ..storage.copy import (
    IN_PLACE,
    NO_COPY_PROGRESS,
    OUTCOMES,
    CopyProgress,
    ImageJob,
    ImageResult,
    copy_all,
    copy_one,
)
from ..storage.source import DirSource, S3Source, Source
from ..storage.target import StorageConfig, Target, client_config

ADVICE_CREATE = "run `chatmigrate create` (or `run`) first, or pass the --temp-dir it wrote to"


@dataclass(slots=True)
class ImagesResult:
    run_id: int
    bucket: str
    results: list[ImageResult]
    totals: dict[str, int]
    report: Path
    seconds: float

    @property
    def success(self) -> bool:
        return all(r.outcome in IN_PLACE for r in self.results)


def _run_id(temp_dir: Path) -> int:
    run_id, _ = pfc.read_created_run(temp_dir)
    if run_id is None:
        raise UsageError(f"{temp_dir / pf.CHATS_CREATED} is missing or names no ledger run, so the migrated "
                         f"images are unknown: {ADVICE_CREATE}.")
    return run_id


def _committed_run(conn: Any, url: str, run_id: int) -> None:
    run = ledger.get(conn, run_id)
    if run is None:
        raise LedgerError(f"the target {db.redact(url)} has no ledger run {run_id}: {ADVICE_CREATE}; nothing was copied.")
    if run.status != "committed":
        raise LedgerError(f"run {run_id} is rolled back: its images are not copied; nothing was copied.")


def storage_preflight(storage: StorageConfig) -> None:
    """The target bucket exists and the keys open it (``run --images`` checks this before writing)."""
    Target(storage).require_bucket()


def make_source(source_endpoint: str | None, source_dir: Path | None, timeout: float) -> Source:
    if source_endpoint and source_dir:
        raise UsageError("--source-endpoint and --source-dir exclude each other: S3 requests, or files in a folder.")
    if source_dir is not None:
        if not source_dir.is_dir():
            raise UsageError(f"--source-dir {source_dir} is not a folder.")
        return DirSource(source_dir)
    return S3Source(source_endpoint, client_config(timeout))


def images(temp_dir: Path, url: str, storage: StorageConfig, *, source_endpoint: str | None = None,
           source_dir: Path | None = None, workers: int = 16, limits: Limits | None = None,
           progress: CopyProgress = NO_COPY_PROGRESS) -> ImagesResult:
    """Copy every chat image of the temp dir's run; write chat-images-copied.json."""
    started = time.monotonic()
    limits = limits or Limits()
    if workers < 1:
        raise UsageError("--workers must be at least 1.")
    run_id = _run_id(temp_dir)
    urls = {md.message_id: md.source_url for md in pfe.read_extracted(temp_dir).media}
    source = make_source(source_endpoint, source_dir, storage.timeout)
    target = Target(storage)
    with db.connect(url, autocommit=True) as conn:
        _committed_run(conn, url, run_id)
        rows = objects.run_images(conn, run_id)
        target.require_bucket()
        objects.ensure(conn)
        recorder = objects.Recorder(conn, run_id, storage.bucket)
        results: list[ImageResult] = []
        jobs: list[ImageJob] = []
        for row in rows:
            src = urls.get(row.message_id)
            if src is None:
                results.append(ImageResult(row.message_id, "", row.file_path, "failed",
                                           f"{pf.CHATS_EXTRACTED} has no image message {row.message_id}", None, None))
            else:
                jobs.append(ImageJob(row.message_id, src, row.file_path))
        spool = temp_dir if temp_dir.is_dir() else None

        def one(job: ImageJob) -> ImageResult:
            return copy_one(job, source, target, recorder, limits, spool)

        copied = 0
        try:
            for res in copy_all(jobs, len(jobs), one, workers=workers, scrub=storage.scrub, progress=progress):
                results.append(res)
                copied += res.outcome == "copied"
        except BaseException as exc:
            exc.committed = (f"{copied:,} image(s) were copied before the stop (recorded in chatmigrate.run_objects; "  # type: ignore[attr-defined]
                             "every object is whole); re-run `chatmigrate images` to finish")
            raise
        results.sort(key=lambda r: (r.message_id, r.key))
        counts = Counter(r.outcome for r in results)
        totals: dict[str, int] = {o: counts.get(o, 0) for o in OUTCOMES}
        totals["images"] = len(results)
        totals["bytes_copied"] = sum(r.bytes or 0 for r in results if r.outcome == "copied")
        seconds = time.monotonic() - started
        doc: dict[str, Any] = {
            "copied_at": pf.now_iso(), "run_id": run_id, "bucket": storage.bucket,
            "endpoint": storage.scrub(storage.endpoint),
            "source": source.where, "workers": workers, "max_bytes": limits.max_bytes,
            "duration_seconds": round(seconds, 3), "success": all(r.outcome in IN_PLACE for r in results),
            "totals": totals,
            "images": [{"message_id": r.message_id, "source_url": r.source_url, "key": r.key, "outcome": r.outcome,
                        "reason": storage.scrub(r.reason) if r.reason else None, "bytes": r.bytes, "md5": r.md5}
                       for r in results],
        }
        with objects.report_lock(conn):
            report = pfd.write_images_copied(temp_dir, doc)
    return ImagesResult(run_id, storage.bucket, results, totals, report, seconds)


# --------------------------------------------------------------------------- verification and rollback


@dataclass(slots=True)
class ImagesCheck:
    expected: int = 0
    in_place: int = 0
    images_missing: list[str] = field(default_factory=list)  # keys with no object
    images_mismatched: list[str] = field(default_factory=list)  # keys whose object differs in size or MD5
    images_unverified: list[str] = field(default_factory=list)  # keys never copied (no record of the source)

    @property
    def ok(self) -> bool:
        return not (self.images_missing or self.images_mismatched or self.images_unverified)


def verify(url: str, run_id: int, storage: StorageConfig) -> ImagesCheck:
    """Every chat image row of ``run_id`` has its object with the source's size and MD5
    (as recorded when it was copied or found present)."""
    target = Target(storage)
    out = ImagesCheck()
    with db.connect(url, autocommit=True) as conn:
        rows = objects.run_images(conn, run_id)
        rec = {(o.bucket, o.key): o for o in objects.recorded(conn, run_id)}
    target.require_bucket()
    for row in rows:
        out.expected += 1
        r = rec.get((storage.bucket, row.file_path))
        if r is None or r.state == "pending":
            out.images_unverified.append(row.file_path)
            continue
        there = target.head(row.file_path)
        if there is None:
            out.images_missing.append(row.file_path)
        elif there.size != r.bytes or there.md5 != r.md5:
            out.images_mismatched.append(row.file_path)
        else:
            out.in_place += 1
    return out


def verify_run(temp_dir: Path, url: str, storage: StorageConfig) -> ImagesCheck:
    """:func:`verify` for the run the temp dir names."""
    return verify(url, _run_id(temp_dir), storage)


@dataclass(slots=True)
class ImagesRollback:
    run_id: int
    deleted: int = 0
    kept_present: int = 0
    rows_rolled_back: bool = False  # the run's rows are already rolled back (only its images were left)


def rollback_images(temp_dir: Path, url: str, storage: StorageConfig, run_id: int | None = None) -> ImagesRollback:
    """Delete the objects this tool copied (or was about to) for the run; keep those it found present."""
    chosen = run_id if run_id is not None else _run_id(temp_dir)
    target = Target(storage)
    out = ImagesRollback(chosen)
    with db.connect(url, autocommit=True) as conn:
        run = ledger.get(conn, chosen)
        if run is None:
            raise LedgerError(f"the target {db.redact(url)} has no ledger run {chosen}: nothing was deleted.")
        out.rows_rolled_back = run.status != "committed"
        recs = objects.recorded(conn, chosen)
        if recs:
            target.require_bucket()
        for o in recs:
            if o.bucket != storage.bucket:
                continue
            if o.state == "present":
                out.kept_present += 1
                continue
            target.delete(o.key)
            objects.forget(conn, o.bucket, o.key)
            out.deleted += 1
    return out


def storage_from_env(endpoint: str | None = None, region: str | None = None, bucket: str = "chat-media") -> StorageConfig:
    return StorageConfig.from_options(endpoint, region, bucket, env=dict(os.environ))
