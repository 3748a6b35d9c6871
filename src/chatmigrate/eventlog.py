"""A machine-readable log of what a command did: one JSON object per line (``--log-file``).

Owns: opening the log file safely (created 0600, appended to, never through a symlink or
into anything but a regular file of our own), the event line format, and
:class:`LoggedProgress`, which tees every :class:`~chatmigrate.progress.Progress` call of a
step into ``task_started`` / ``task_progress`` (at most one a second per task) /
``task_finished`` events with their seconds and rows. Every line is written and flushed
when it happens, so the log of a killed run ends where the run stopped.

Each line: ``{"ts": "2026-12-02T04:05:06.789Z", "event": "...", ...fields}``. Events:
``command_started`` (command), ``task_started`` (label, total, unit), ``task_progress``
(label, done, total), ``task_finished`` (label, done, seconds, rows_per_second),
``step_finished`` (step, and its counts), ``warning`` (step, text), ``error`` (text,
exit_code), ``command_finished`` (exit_code, seconds). Values are the tool's own: ids,
counts, labels and file paths, never a password or message text.

Does not own: what a step's counts are (``steps.run.step_summary``), the CLI options.
"""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .errors import UsageError
from .progress import Progress

__all__ = ["EventLog", "LoggedProgress"]

UPDATE_EVERY = 1.0  # seconds between two task_progress events of one task


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _open_append(path: Path) -> IO[str]:
    """``path`` opened for appending: created 0600 where absent; an existing file must be a
    regular file owned by this user with one link (a planted symlink or hard link is refused)."""
    # O_NONBLOCK: a planted FIFO fails at once instead of blocking (no effect on a regular file)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        why = ("it is a symbolic link" if os.path.islink(path) else
               "it is not a regular file" if os.path.exists(path) else (exc.strerror or str(exc)).lower())
        raise UsageError(f"the log file {path} cannot be opened: {why}; pass another --log-file.") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_nlink != 1:
        os.close(fd)
        raise UsageError(f"the log file {path} is not a regular file of this user with a single name: "
                         "pass another --log-file.")
    if st.st_mode & 0o077:
        os.fchmod(fd, 0o600)  # it holds ids and paths of personal data
    return os.fdopen(fd, "a", encoding="utf-8")


class EventLog:
    """JSON lines of events, appended to ``path``; a no-op when ``path`` is None."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh = _open_append(path) if path is not None else None
        self._t0 = time.perf_counter()

    @property
    def enabled(self) -> bool:
        return self._fh is not None

    def emit(self, event: str, **fields: Any) -> None:
        if self._fh is None:
            return
        line = json.dumps({"ts": _now(), "event": event, **fields}, default=str, ensure_ascii=True)
        self._fh.write(line + "\n")
        self._fh.flush()

    def seconds(self) -> float:
        return round(time.perf_counter() - self._t0, 3)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LoggedProgress:
    """A :class:`Progress` that passes every call on to ``inner`` and logs it to ``log``."""

    def __init__(self, inner: Progress, log: EventLog) -> None:
        self.inner, self.log = inner, log
        self._label: str | None = None
        self._total: int | None = None
        self._done = 0
        self._started = self._last = 0.0

    def start(self, label: str, total: int | None, unit: str = "rows") -> None:
        if self._label is not None:  # a task left open: it ends where the next begins
            self._finished()
        self._label, self._total, self._done = label, total, 0
        self._started = self._last = time.perf_counter()
        self.log.emit("task_started", label=label, total=total, unit=unit)
        self.inner.start(label, total, unit)

    def update(self, done: int) -> None:
        self._done = done
        now = time.perf_counter()
        if now - self._last >= UPDATE_EVERY:
            self._last = now
            self.log.emit("task_progress", label=self._label, done=done, total=self._total)
        self.inner.update(done)

    def finish(self) -> None:
        self._finished()
        self.inner.finish()

    def _finished(self) -> None:
        if self._label is None:
            return
        seconds = time.perf_counter() - self._started
        rate = round(self._done / seconds) if self._done and seconds > 0 else None
        self.log.emit("task_finished", label=self._label, done=self._done, seconds=round(seconds, 3),
                      rows_per_second=rate)
        self._label = None
