"""The copy: a bounded pool of workers, each image checked, streamed and PUT once.

Owns: one image's copy (:func:`copy_one`: stat the source; ``too_large`` before any
download; the target's object with the source's size and MD5 is ``present`` and not
copied again; else the source is streamed through a spooled temporary file -- at most
256 KB in memory, whatever the image's size -- while its MD5 and size are computed and
its first bytes sniffed, refused past the limit; then one PUT with Content-MD5 -- atomic,
so a kill -9 at any moment leaves either no object or the whole one), retries of a whole
image with backoff on transient errors (botocore already retries each request), the
pool (:func:`copy_all`, ``workers`` threads, at most ``2 × workers`` images in flight),
progress in images and bytes, and the outcomes.

Does not own: where the jobs come from or the report (``steps.images``), the ledger
(``postgres.objects``: the recorder passed in).
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from .checks import SNIFF_BYTES, Limits, type_problem
from .source import Source, SourceRef, parse_legacy_url
from .target import Target

Outcome = Literal["copied", "present", "source_missing", "too_large", "wrong_type", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("copied", "present", "source_missing", "too_large", "wrong_type", "failed")
IN_PLACE: frozenset[Outcome] = frozenset({"copied", "present"})
SPOOL_BYTES = 256 * 1024
ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class ImageJob:
    message_id: str
    source_url: str
    key: str  # the media row's file_path


@dataclass(frozen=True, slots=True)
class ImageResult:
    message_id: str
    source_url: str
    key: str
    outcome: Outcome
    reason: str | None
    bytes: int | None
    md5: str | None


class Recorder(Protocol):
    def record(self, key: str, size: int, md5: str, state: Literal["pending", "copied", "present"]) -> None: ...


class CopyProgress(Protocol):
    def start_copy(self, total: int) -> None: ...
    def advance(self, images: int, nbytes: int) -> None: ...
    def finish_copy(self) -> None: ...


class _NoCopyProgress:
    def start_copy(self, total: int) -> None:
        pass

    def advance(self, images: int, nbytes: int) -> None:
        pass

    def finish_copy(self) -> None:
        pass


NO_COPY_PROGRESS: CopyProgress = _NoCopyProgress()


def transient(exc: BaseException) -> bool:
    """Worth another try: timeouts, lost connections, throttling and 5xx (after botocore's own retries)."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError, ResponseStreamingError

    if isinstance(exc, ReadTimeoutError | ConnectionError | ResponseStreamingError | TimeoutError | OSError):
        return not isinstance(exc, FileNotFoundError)
    if isinstance(exc, ClientError):
        meta = exc.response.get("ResponseMetadata", {})
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return int(meta.get("HTTPStatusCode") or 0) >= 500 or code in (
            "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "BadDigest")
    return False


def _spool(source: Source, ref: SourceRef, limits: Limits, spool_dir: Path | None) -> tuple[Any, int, str, bytes]:
    """The object in a spooled file (rewound), its size, MD5 and first bytes; (None, bytes read,
    "", b"") as soon as more than the limit has been read."""
    fh = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=str(spool_dir) if spool_dir else None)  # noqa: SIM115 -- returned open
    try:
        h, size, head = hashlib.md5(usedforsecurity=False), 0, b""
        with source.open(ref) as body:
            while block := body.read(64 * 1024):
                size += len(block)
                if size > limits.max_bytes:
                    fh.close()
                    return None, size, "", b""
                if len(head) < SNIFF_BYTES:
                    head += block[: SNIFF_BYTES - len(head)]
                h.update(block)
                fh.write(block)
        fh.seek(0)
        return fh, size, h.hexdigest(), head
    except BaseException:
        fh.close()
        raise


def copy_one(job: ImageJob, source: Source, target: Target, recorder: Recorder, limits: Limits,
             spool_dir: Path | None = None) -> ImageResult:
    def result(outcome: Outcome, reason: str | None, size: int | None = None, md5: str | None = None) -> ImageResult:
        return ImageResult(job.message_id, job.source_url, job.key, outcome, reason, size, md5)

    ref = parse_legacy_url(job.source_url)
    if isinstance(ref, str):
        return result("failed", ref)
    st = source.stat(ref)
    if st is None:
        return result("source_missing", f"no object {ref.key!r} in bucket {ref.bucket!r} ({source.where})")
    problem = limits.size_problem(st.size)
    if problem:
        return result("too_large", problem, st.size, st.md5)
    there = target.head(job.key)
    if there is not None and st.md5 and there.size == st.size and there.md5 == st.md5:
        recorder.record(job.key, st.size, st.md5, "present")
        return result("present", None, st.size, st.md5)
    try:
        fh, size, md5, head = _spool(source, ref, limits, spool_dir)
    except FileNotFoundError:
        return result("source_missing", f"no object {ref.key!r} in bucket {ref.bucket!r} ({source.where})")
    if fh is None:
        return result("too_large", f"{size:,} bytes were read, beyond the bucket's limit of {limits.max_bytes:,} "
                                   f"bytes (the source said {st.size:,})", st.size)
    with fh:
        ctype, type_reason = type_problem(head, job.key)
        if type_reason or ctype is None:
            return result("wrong_type", type_reason, size, md5)
        if there is not None and there.size == size and there.md5 == md5:
            recorder.record(job.key, size, md5, "present")
            return result("present", None, size, md5)
        recorder.record(job.key, size, md5, "pending")  # before the PUT: rollback knows it whatever happens next
        target.put(job.key, fh, size, md5, ctype)
        recorder.record(job.key, size, md5, "copied")
    replaced = None if there is None else (f"replaced an object of {there.size:,} bytes, MD5 {there.md5 or 'unknown'}")
    return result("copied", replaced, size, md5)


def copy_with_retries(job: ImageJob, run: Callable[[ImageJob], ImageResult], scrub: Callable[[str], str],
                      sleep: Callable[[float], None] = time.sleep) -> ImageResult:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return run(job)
        except Exception as exc:
            if attempt < ATTEMPTS and transient(exc):
                sleep(min(8.0, 0.25 * 2 ** attempt))
                continue
            why = scrub(f"{type(exc).__name__}: {exc}".splitlines()[0])
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            return ImageResult(job.message_id, job.source_url, job.key, "failed", why + tries, None, None)
    raise AssertionError("unreachable")


def copy_all(jobs: Iterable[ImageJob], total: int, run: Callable[[ImageJob], ImageResult], *, workers: int,
             scrub: Callable[[str], str], progress: CopyProgress = NO_COPY_PROGRESS) -> Iterator[ImageResult]:
    """Every job's result (in completion order), ``workers`` at a time; the pool is shut down
    (pending images cancelled) if the consumer stops or an interrupt arrives."""
    done_images = done_bytes = 0
    lock = threading.Lock()
    progress.start_copy(total)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chatmigrate-image")
    try:
        pending: set[Future[ImageResult]] = set()
        it = iter(jobs)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < 2 * workers:
                job = next(it, None)
                if job is None:
                    exhausted = True
                    break
                pending.add(pool.submit(copy_with_retries, job, run, scrub))
            if not pending:
                break
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in finished:
                res = fut.result()
                with lock:
                    done_images += 1
                    done_bytes += (res.bytes or 0) if res.outcome == "copied" else 0
                progress.advance(done_images, done_bytes)
                yield res
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        progress.finish_copy()
