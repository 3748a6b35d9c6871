"""Step 1's options, as one immutable value: how the dump is read and the rules applied.

Owns: the source time zone (checked and parsed once), the link mode, whether an
incomplete dump is accepted, and where progress goes. Extract, validate, plan and run
build one :class:`Step1Options` from their keyword arguments and pass it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import UsageError
from ..phase6.kinds import LINK_MODES, LinkMode
from ..progress import NO_PROGRESS, Progress


def parse_timezone(name: str | None) -> tzinfo | None:
    if not name or name.upper() in ("UTC", "+00:00", "Z"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--source-timezone {name!r} is not a known time zone: use an IANA name such as Europe/Oslo.") from None


@dataclass(frozen=True, slots=True)
class Step1Options:
    source_tz: str | None = None  # the legacy times' zone; None: UTC
    link: LinkMode = "strict"
    allow_incomplete: bool = False  # accept a dump without the tables or trailer (tests only)
    progress: Progress = field(default=NO_PROGRESS, compare=False)
    tz: tzinfo | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if self.link not in LINK_MODES:
            raise UsageError(f"--link {self.link!r} is not one of {', '.join(LINK_MODES)}.")
        object.__setattr__(self, "tz", parse_timezone(self.source_tz))

    def with_link(self, link: LinkMode) -> Step1Options:
        return replace(self, link=link)
