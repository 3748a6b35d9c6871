"""A Progress for tests: :class:`Recording` keeps every call it is given, in order."""

from __future__ import annotations

from typing import Any


class Recording:
    """The Progress protocol, keeping each call: ("start", label, total, unit), ("update", n), ("finish",)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def start(self, label: str, total: int | None, unit: str = "rows") -> None:
        self.calls.append(("start", label, total, unit))

    def update(self, done: int) -> None:
        self.calls.append(("update", done))

    def finish(self) -> None:
        self.calls.append(("finish",))

    def labels(self) -> list[str]:
        return [c[1] for c in self.calls if c[0] == "start"]
