"""Which link mode a step uses, and why: the ``--link`` option, the target's chat schema, or the default.

Owns: resolving the requested mode against the target's chats table (``booking``:
strict or recover, strict by default; ``participants``: only participants, detected),
refusing a mode the target cannot honour (:class:`~chatmigrate.errors.LinkModeRefused`,
exit 2, before anything is written), the order ``plan`` shows the modes in (the one
``run`` would use first), and the one-line description the CLI prints.

Does not own: the rules of each mode (``phase6.links``), reading the schema (``postgres.db``).
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import LinkModeRefused
from ..phase6.kinds import BOOKING_LINK_MODES, ChatSchema, LinkMode, LinkModeSource, link_suits


class Mode(NamedTuple):
    link: LinkMode
    source: LinkModeSource  # "option" (--link), "detected" (the target's schema), "default"
    chat_schema: ChatSchema | None = None  # the target's, when it was read

    def describe(self) -> str:
        """``strict (default: the plan's rule)``, ``participants (detected: ...)``, ``recover (--link)``."""
        if self.source == "option":
            why = "chosen with --link"
        elif self.source == "detected":
            why = ("detected: the target's chats are keyed by customer and stylist" if self.link == "participants"
                   else "detected from the target")
        else:
            why = "default: the plan's rule" if self.link == "strict" else "default"
        return f"{self.link} ({why})"


def resolve(requested: LinkMode | None, chat_schema: ChatSchema | None, target: str = "the target") -> Mode:
    """The mode a step uses. ``requested`` None: the schema decides (participants), else strict.

    Raises LinkModeRefused when ``requested`` does not fit ``chat_schema``.
    """
    if requested is not None:
        if chat_schema is not None and not link_suits(requested, chat_schema):
            raise LinkModeRefused(requested, chat_schema, target)
        return Mode(requested, "option", chat_schema)
    if chat_schema == "participants":
        return Mode("participants", "detected", chat_schema)
    return Mode("strict", "default", chat_schema)


def plan_order(mode: Mode) -> tuple[LinkMode, ...]:
    """The modes ``plan`` compares, ``mode`` (what run would use) first.

    Without a target: strict, recover and participants. On a booking-keyed target, its two
    modes; on a participants target, participants only (the others cannot run there).
    """
    if mode.chat_schema == "participants":
        return ("participants",)
    pool: tuple[LinkMode, ...] = BOOKING_LINK_MODES if mode.chat_schema == "booking" else \
        (*BOOKING_LINK_MODES, "participants")
    return (mode.link, *(m for m in pool if m != mode.link))
