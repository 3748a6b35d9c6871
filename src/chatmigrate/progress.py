"""How the core reports progress without knowing about terminals.

Owns: the small ``Progress`` protocol that long-running library functions accept, and
``NO_PROGRESS``, its no-op default, and ``Prefixed``, which names the phase (and the pass
over the dump) in front of every label of a step. The CLI passes an adapter over a rich progress bar;
tests and library users pass nothing. Nothing here imports another chatmigrate module.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, label: str, total: int | None, unit: str = "rows") -> None:
        """A new task begins: ``total`` units of work (``None`` when unknown)."""

    def update(self, done: int) -> None:
        """``done`` units of the current task are complete (absolute, not a delta)."""

    def finish(self) -> None:
        """The current task is complete."""


class _NoProgress:
    def start(self, label: str, total: int | None, unit: str = "rows") -> None:
        pass

    def update(self, done: int) -> None:
        pass

    def finish(self) -> None:
        pass


NO_PROGRESS: Progress = _NoProgress()


class Prefixed:
    """Every label of ``inner`` begins with ``prefix`` (``"create: "``, ``"extract, pass 1 of 2: "``)."""

    def __init__(self, inner: Progress, prefix: str) -> None:
        self.inner, self.prefix = inner, prefix

    def start(self, label: str, total: int | None, unit: str = "rows") -> None:
        self.inner.start(self.prefix + label, total, unit)

    def update(self, done: int) -> None:
        self.inner.update(done)

    def finish(self) -> None:
        self.inner.finish()
