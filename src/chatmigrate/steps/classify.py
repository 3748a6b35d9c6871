"""Step 1's decisions over a whole dump: the phase inputs, the chats, the message stream.

Owns: reading and checking the Phase 1/4 files (the plan's "Input Validation"),
reading bookings and chats from the dump and applying the chat rules, and the stream of
classified messages. Normally one pass: mysqldump writes tables in alphabetical order,
so ``booking`` and ``chat`` come before ``message``; if a chat or booking row appears
after the first message, :class:`TableOrderChanged` is raised before anything is
committed and the caller reads the dump twice instead (bookings and chats, then
messages). Shared by extract (which writes the files) and validate (which compares).

Does not own: the rules (``phase6.rules``), writing files, the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..dump import DumpReader, Row
from ..errors import UsageError
from ..phase6 import links, rules
from ..phase6 import records as r
from ..phase6.kinds import LINK_MODES, LinkMode
from ..planfiles import PhaseInputs, read_phase_inputs
from ..progress import NO_PROGRESS, Progress

__all__ = ["LINK_MODES", "Classified", "PhaseInputs", "TableOrderChanged", "classify_dump", "load_phase_inputs"]


class TableOrderChanged(Exception):
    """Internal: chat or booking rows after message rows; retry with two passes."""


load_phase_inputs = read_phase_inputs  # the Phase 1/4 files: planfiles owns them


def parse_timezone(name: str | None) -> Any:
    if not name or name.upper() in ("UTC", "+00:00", "Z"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--source-timezone {name!r} is not a known time zone: use an IANA name such as Europe/Oslo.") from None


def _require_tables(reader: DumpReader, dump: str) -> None:
    for table in r.CHAT_TABLES:
        info = reader.tables.get(table)
        if info is None or not info.columns:
            raise UsageError(f"the dump {dump} has no CREATE TABLE `{table}`: is it the legacy database's dump?")
        if info.inserts == 0:
            raise UsageError(f"the dump {dump} has no INSERT INTO `{table}`: the table is empty or was dumped without data.")
    if not reader.completed:
        raise UsageError(
            f"the dump {dump} does not end with mysqldump's '-- Dump completed' line: it may be truncated; re-copy it."
        )


@dataclass(slots=True)
class Classified:
    """Step 1's decisions for one dump: chats up front, messages as a stream."""

    dump: str
    lookups: rules.Lookups
    total_chats: int
    total_bookings: int
    active_chats: int
    processed_chats: list[r.TargetChat]
    chat_skips: list[r.Skip]
    progress: Progress
    rest: Iterator[Row] | None  # single pass: the reader, positioned at the first message
    first: Row | None
    reader: DumpReader | None
    allow_incomplete: bool
    link: LinkMode
    chat_links: list[links.ChatLink]  # one decision per legacy chat
    people: dict[str, tuple[str | None, str | None]]  # legacy chat -> (buyer, stylist); with keep_people

    def messages(self) -> Iterator[rules.MessageOutcome | r.Skip]:
        """Every message row, classified, in file order (the dump's checks run at the end)."""
        classify, legacy, lk = rules.classify_message, rules.legacy_message, self.lookups
        if self.rest is None:  # two passes: this is the second
            reader = DumpReader(self.dump, ("message",), progress=self.progress)
            for row in reader:
                yield classify(legacy(row.values), lk)
            return
        if self.first is not None:
            yield classify(legacy(self.first.values), lk)
        for row in self.rest:
            if row.table != "message":
                raise TableOrderChanged(row.table)
            yield classify(legacy(row.values), lk)
        if not self.allow_incomplete and self.reader is not None:
            _require_tables(self.reader, self.dump)


def classify_dump(
    dump: str,
    inputs: PhaseInputs,
    *,
    source_tz: str | None = None,
    progress: Progress = NO_PROGRESS,
    allow_incomplete: bool = False,
    single_pass: bool = True,
    link: LinkMode = "strict",
    keep_people: bool = False,
) -> Classified:
    """Read bookings and chats and apply the chat rules; messages stay lazy.

    ``link="strict"`` is the plan's rule (a chat needs its own booking_id);
    ``link="recover"`` also links chats through booking.chat_id and their participants.
    """
    if link not in LINK_MODES:
        raise UsageError(f"--link {link!r} is not one of {', '.join(LINK_MODES)}.")
    if dump == "-":
        raise UsageError("the Phase 6 steps may read the dump twice (when its tables are not in mysqldump's order) and cannot read standard input: save the dump to a file.")
    if not os.path.isfile(dump):
        raise UsageError(f"the dump file {dump} does not exist: check --dump or MYSQL_DUMP_PATH.")
    tz = parse_timezone(source_tz)
    tables = ("booking", "chat", "message") if single_pass else ("booking", "chat")
    reader = DumpReader(dump, tables, progress=progress)
    rows = iter(reader)
    bookings: dict[str, r.LegacyBooking] = {}
    chats: list[r.LegacyChat] = []
    first: Row | None = None
    for row in rows:
        if row.table == "booking":
            b = rules.legacy_booking(row.values)
            bookings[b.id] = b
        elif row.table == "chat":
            chats.append(rules.legacy_chat(row.values))
        else:
            first = row
            break
    if not single_pass and not allow_incomplete:
        _require_tables(reader, dump)
    lk = rules.Lookups(bookings, inputs.migrated, inputs.mapping, tz)
    active = sum(1 for chat in chats if rules.is_active(chat))
    if link == "recover":
        processed, skips, chat_links = links.link_chats(chats, lk)
    elif link == "participants":
        processed, skips, chat_links = links.link_by_participants(chats, lk)
    else:
        processed, skips, chat_links = _strict(chats, lk)
    lk.bookings = {}  # the message rules need the chats only: free the bookings for the long pass
    return Classified(
        dump, lk, len(chats), len(bookings), active, processed, skips, progress,
        rows if single_pass else None, first, reader if single_pass else None, allow_incomplete,
        link, chat_links,
        {rules.low(c.id) or "": (rules.low(c.buyer_id), rules.low(c.stylist_id)) for c in chats} if keep_people else {},
    )


def _strict(chats: list[r.LegacyChat], lk: rules.Lookups) -> tuple[list[r.TargetChat], list[r.Skip], list[links.ChatLink]]:
    processed: list[r.TargetChat] = []
    skips: list[r.Skip] = []
    decisions: list[links.ChatLink] = []
    for chat in chats:
        outcome = rules.classify_chat(chat, lk)
        key = rules.low(chat.id) or ""
        if isinstance(outcome, r.Skip):
            skips.append(outcome)
            lk.chats[key] = None
            decisions.append(links.ChatLink(key, None, (), outcome.reason))
        else:
            processed.append(outcome)
            lk.chats[key] = outcome
            decisions.append(links.ChatLink(key, links.LINK_OWN, ((outcome.id, outcome.booking_id),)))
    return processed, skips, decisions
