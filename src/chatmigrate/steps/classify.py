"""Step 1's decisions over a whole dump: the chats up front, the messages as a stream.

Owns: reading bookings and chats from the dump and applying the chat rules of the
chosen link mode (``phase6.links``), the stream of classified messages, the dump's
completeness checks, and the one-pass / two-pass decision (:func:`over_dump`): mysqldump
writes tables in alphabetical order, so ``booking`` and ``chat`` come before ``message``
and the dump is read once; otherwise it is read twice. Shared by extract (which writes
the files), validate (which compares) and plan (which counts).

Does not own: the rules (``phase6``), the Phase 1/4 files (``planfiles``), the options
(``steps.options``), writing files, the database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import TypeVar

from ..dump import DumpReader, Row
from ..errors import UsageError
from ..phase6 import links, rules
from ..phase6 import records as r
from ..phase6.compact import Spool, booking_map, pair_map, trim
from ..phase6.kinds import LinkMode
from ..planfiles import PhaseInputs, read_phase_inputs
from ..progress import Progress
from .options import Step1Options

__all__ = ["Classified", "PhaseInputs", "Step1Options", "TableOrderChanged", "classify_dump", "load_phase_inputs",
           "over_dump"]

T = TypeVar("T")


# Rows classified at once. Small on purpose: a batch's results live until the step has
# written them, and the more of them outlive a young-generation garbage collection, the
# more the collector works (measured: 64 rows take ~30% less CPU than the reader's 512).
CLASSIFY_BATCH = 64


class TableOrderChanged(Exception):
    """Internal to :func:`over_dump`: chat or booking rows after message rows."""


load_phase_inputs = read_phase_inputs  # the Phase 1/4 files: planfiles owns them


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
    processed_chats: Spool[r.TargetChat]  # spooled to a temporary file: iterate, len
    chat_skips: Spool[r.Skip]
    progress: Progress
    rest: Iterator[list[Row]] | None  # single pass: the reader's batches, positioned after the first message's
    first: list[Row] | None  # single pass: the batch holding the first message
    reader: DumpReader | None
    allow_incomplete: bool
    link: LinkMode
    chat_links: Spool[links.ChatLink]  # one decision per legacy chat
    people: MutableMapping[str, tuple[str | None, str | None]]  # legacy chat -> (buyer, stylist); with keep_people

    def messages(self) -> Iterator[rules.MessageOutcome | r.Skip]:
        """Every message row, classified, in file order (the dump's checks run at the end)."""
        for batch in self.message_batches():
            yield from batch

    def message_batches(self) -> Iterator[list[rules.MessageOutcome | r.Skip]]:
        """:meth:`messages` in small batches (of one INSERT statement's rows): for hot loops."""
        if self.rest is None:  # two passes: this is the second
            reader = DumpReader(self.dump, ("message",), progress=self.progress, required_columns=r.REQUIRED_COLUMNS)
            for rows in reader.batches():
                yield from self._classified(rows)
            return
        if self.first is not None:
            yield from self._classified(self.first)
        for rows in self.rest:
            if rows and rows[0].table != "message":  # a batch holds one INSERT's rows: one table
                raise TableOrderChanged(rows[0].table)
            yield from self._classified(rows)
        if not self.allow_incomplete and self.reader is not None:
            _require_tables(self.reader, self.dump)

    def _classified(self, rows: list[Row]) -> Iterator[list[rules.MessageOutcome | r.Skip]]:
        classify, lk = rules.classify_messages, self.lookups
        for i in range(0, len(rows), CLASSIFY_BATCH):
            yield classify([row.values for row in rows[i:i + CLASSIFY_BATCH]], lk)


def classify_dump(
    dump: str,
    inputs: PhaseInputs,
    options: Step1Options | None = None,
    *,
    single_pass: bool = True,
    keep_people: bool = False,
) -> Classified:
    """Read bookings and chats and apply the chat rules; messages stay lazy.

    ``strict`` is the plan's rule (a chat needs its own booking_id); ``recover`` also links
    chats through booking.chat_id and their participants; ``participants`` keys chats by pair.
    """
    opts = options or Step1Options()
    if dump == "-":
        raise UsageError("the Phase 6 steps may read the dump twice (when its tables are not in mysqldump's order) and cannot read standard input: save the dump to a file.")
    if not os.path.isfile(dump):
        raise UsageError(f"the dump file {dump} does not exist: check --dump or MYSQL_DUMP_PATH.")
    tables = ("booking", "chat", "message") if single_pass else ("booking", "chat")
    reader = DumpReader(dump, tables, progress=opts.progress, required_columns=r.REQUIRED_COLUMNS)
    batches = reader.batches()
    narrow = opts.link != "recover"  # only recover reads a booking's chat_id and created_at
    # compact (a few dozen bytes a booking) where trimmed: recover's created_at is kept as text
    bookings: MutableMapping[str, r.LegacyBooking] = booking_map() if narrow else {}
    chats: Spool[r.LegacyChat] = Spool(r.LegacyChat._make)  # only iterated: kept in a temporary file
    people = pair_map()
    active = 0
    first: list[Row] | None = None
    for rows in batches:
        if not rows:
            continue
        table = rows[0].table  # a batch holds one INSERT's rows: one table
        if table == "booking":
            for row in rows:
                b = rules.legacy_booking(row.values)
                bookings[b.id] = _trimmed(b) if narrow else b
        elif table == "chat":
            for row in rows:
                c = rules.legacy_chat(row.values)
                chats.append(c)
                active += rules.is_active(c)
                if keep_people:
                    people[rules.low(c.id) or ""] = (rules.low(c.buyer_id), rules.low(c.stylist_id))
        else:
            first = rows
            break
    if not single_pass and not opts.allow_incomplete:
        _require_tables(reader, dump)
    lk = rules.Lookups(bookings, inputs.migrated, inputs.mapping, opts.tz)
    linked = _LINKERS[opts.link](chats, lk)
    trim(linked.routes)  # built: only read from now on
    total_chats, total_bookings = len(chats), len(bookings)
    chats.close()
    del lk, bookings
    return Classified(
        dump, rules.Lookups({}, inputs.migrated, inputs.mapping, opts.tz, linked.routes), total_chats,
        total_bookings, active, linked.targets, linked.skips, opts.progress,
        batches if single_pass else None, first, reader if single_pass else None, opts.allow_incomplete,
        opts.link, linked.decisions, people,
    )


def _trimmed(b: r.LegacyBooking) -> r.LegacyBooking:
    """A booking as the strict and participants rules read it: id and people."""
    return r.LegacyBooking(b.id, b.buyer_id, b.stylist_id, None)


_LINKERS: dict[LinkMode, Callable[[Iterable[r.LegacyChat], rules.Lookups], links.Linked]] = {
    "strict": links.link_strict, "recover": links.link_chats, "participants": links.link_by_participants,
}


def over_dump(dump: str, inputs: PhaseInputs, options: Step1Options, consume: Callable[[Classified], T],
              *, keep_people: bool = False) -> T:
    """Step 1 over ``dump``, handed to ``consume``, which streams ``cl.messages()``.

    One pass when bookings and chats come before the messages (mysqldump's alphabetical
    order). Otherwise the stream stops at the first chat or booking row after a message,
    before ``consume`` has made anything permanent (it writes atomic files or uncommitted
    temp tables, dropped with the stop), and ``consume`` runs again over two passes: the
    bookings and chats first, then the messages. This is the only place that decides.
    """
    try:
        return consume(classify_dump(dump, inputs, options, single_pass=True, keep_people=keep_people))
    except TableOrderChanged:
        return consume(classify_dump(dump, inputs, options, single_pass=False, keep_people=keep_people))
