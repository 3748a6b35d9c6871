"""Step 2's database work: stage by COPY, classify set-wise, insert, in one transaction.

Owns: the staging tables (session temp tables, filled by COPY), the classification of
every staged row in one set-based statement per kind (insert / already present /
failed with a reason), the insert of chats, then messages, then media with
``INSERT ... SELECT`` from staging (the messages in chunks of :data:`CHUNK_ROWS`: ranges
of staging's blocks, each a progress step), the advisory lock that keeps two runs apart,
and reading back what was created or failed (the manifest's messages as JSON text that
PostgreSQL formats, :meth:`Loader.encoded_rows`). Everything between :meth:`Loader.begin`
and :meth:`Loader.commit` is one transaction: a crash or kill leaves the target as it
was, and a re-run finds its own rows "already present" instead of duplicating them.

With a run id, :meth:`Loader.insert` records every inserted row in the ledger
(``ledger``) in the same transaction.

Does not own: reading or writing the plan's files, thresholds policy, printing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import psycopg

from ..phase6 import records as r
from ..phase6.kinds import ROW_KINDS, ChatSchema, Outcome, RowKind
from ..planfiles import CreatedChat, CreatedMedia, CreatedMessage, CreatedRows
from ..planfiles_created import CreatedRowsEncoded, EncodedItems
from ..progress import NO_PROGRESS, Progress
from .copytext import copy_bool, copy_text, from_copy
from .copytext import is_uuid as _UUID
from .lock import LOCK_KEY, phase_lock

_make = tuple.__new__  # a NamedTuple without its keyword-handling __new__ (a million messages)

__all__ = ["LOCK_KEY", "Counts", "LoadCounts", "Loader", "copy_text"]

STAGING = """
DROP TABLE IF EXISTS cm_stage_chat, cm_stage_msg, cm_stage_media;
CREATE TEMP TABLE cm_stage_chat (ord int, id uuid, booking_id uuid, customer_id uuid, stylist_id uuid,
    created_at timestamptz, updated_at timestamptz, outcome text);
CREATE TEMP TABLE cm_stage_msg (ord bigint, id uuid, chat_id uuid, sender_id uuid, content text,
    is_read boolean, created_at timestamptz, has_image boolean);
DROP TABLE IF EXISTS cm_msg_outcome;
CREATE TEMP TABLE cm_stage_media (ord int, id uuid, message_id uuid, owner_id uuid, file_path text,
    outcome text);
"""

# One statement per kind; the first reason that applies wins. 'insert' and 'present'
# are not failures; every other outcome is the reason the row could not be inserted.
CLASSIFY_CHATS = """
WITH s AS (
  SELECT s.ord, s.id, s.booking_id,
         row_number() OVER (PARTITION BY s.id ORDER BY s.ord) AS id_rank,
         c.id AS present_id, c.booking_id AS present_booking,
         b.id AS booking_found, other.id AS booking_taken_by
  FROM cm_stage_chat s
  LEFT JOIN public.chats c ON c.id = s.id
  LEFT JOIN public.bookings b ON b.id = s.booking_id
  LEFT JOIN public.chats other ON other.booking_id = s.booking_id AND other.id <> s.id
), o AS (
  SELECT ord, CASE
    WHEN id_rank > 1 THEN 'Duplicate chat id in the extracted file'
    WHEN present_id IS NOT NULL AND present_booking = booking_id THEN 'present'
    WHEN present_id IS NOT NULL THEN 'A chat with this id already exists for another booking'
    WHEN booking_found IS NULL THEN 'Booking not found in the target bookings table'
    WHEN booking_taken_by IS NOT NULL THEN 'Booking already has another chat (chats.booking_id is unique)'
    ELSE 'insert' END AS outcome, booking_id
  FROM s
), d AS (
  SELECT ord, CASE WHEN outcome = 'insert'
      AND row_number() OVER (PARTITION BY booking_id, outcome = 'insert' ORDER BY ord) > 1
    THEN 'Another chat in this migration links the same booking' ELSE outcome END AS outcome
  FROM o
)
UPDATE cm_stage_chat t SET outcome = d.outcome FROM d WHERE d.ord = t.ord
"""

# The later schema: chats keyed by (customer_id, stylist_id) instead of a booking.
CLASSIFY_CHATS_PARTICIPANTS = """
WITH s AS (
  SELECT s.ord, s.id, s.customer_id, s.stylist_id,
         row_number() OVER (PARTITION BY s.id ORDER BY s.ord) AS id_rank,
         c.id AS present_id, c.customer_id AS present_customer, c.stylist_id AS present_stylist,
         pc.id AS customer_found, ps.id AS stylist_found, other.id AS pair_taken_by
  FROM cm_stage_chat s
  LEFT JOIN public.chats c ON c.id = s.id
  LEFT JOIN public.profiles pc ON pc.id = s.customer_id
  LEFT JOIN public.profiles ps ON ps.id = s.stylist_id
  LEFT JOIN public.chats other ON other.customer_id = s.customer_id AND other.stylist_id = s.stylist_id
                               AND other.id <> s.id
), o AS (
  SELECT ord, CASE
    WHEN id_rank > 1 THEN 'Duplicate chat id in the extracted file'
    WHEN present_id IS NOT NULL AND present_customer = customer_id AND present_stylist = stylist_id THEN 'present'
    WHEN present_id IS NOT NULL THEN 'A chat with this id already exists for other participants'
    WHEN customer_found IS NULL OR stylist_found IS NULL THEN 'Participant profile not found in the target profiles table'
    WHEN pair_taken_by IS NOT NULL THEN 'The pair already has another chat (chats unique (customer_id, stylist_id))'
    ELSE 'insert' END AS outcome, customer_id, stylist_id
  FROM s
), d AS (
  SELECT ord, CASE WHEN outcome = 'insert'
      AND row_number() OVER (PARTITION BY customer_id, stylist_id, outcome = 'insert' ORDER BY ord) > 1
    THEN 'Another chat in this migration has the same customer and stylist' ELSE outcome END AS outcome
  FROM o
)
UPDATE cm_stage_chat t SET outcome = d.outcome FROM d WHERE d.ord = t.ord
"""

INSERT_CHATS_PARTICIPANTS = (
    "INSERT INTO public.chats (id, customer_id, stylist_id, created_at, updated_at) "
    "SELECT id, customer_id, stylist_id, created_at, updated_at FROM cm_stage_chat WHERE outcome = 'insert' ORDER BY ord"
)

# Messages are many and wide (their content): their outcomes go into a narrow table
# rather than an UPDATE that would rewrite every staged row.
CLASSIFY_MESSAGES = """
CREATE TEMP TABLE cm_msg_outcome AS
WITH ok_chats AS (
  SELECT id FROM cm_stage_chat WHERE outcome IN ('insert', 'present')
), s AS (
  SELECT s.ord, s.id, s.chat_id,
         row_number() OVER (PARTITION BY s.id ORDER BY s.ord) AS id_rank,
         m.id AS present_id, m.chat_id AS present_chat,
         (oc.id IS NOT NULL OR c.id IS NOT NULL) AS chat_ok,
         p.id AS sender_found
  FROM cm_stage_msg s
  LEFT JOIN public.chat_messages m ON m.id = s.id
  LEFT JOIN ok_chats oc ON oc.id = s.chat_id
  LEFT JOIN public.chats c ON c.id = s.chat_id
  LEFT JOIN public.profiles p ON p.id = s.sender_id
)
SELECT s.ord, s.id, CASE
    WHEN s.id_rank > 1 THEN 'Duplicate message id in the extracted file'
    WHEN s.present_id IS NOT NULL AND s.present_chat = s.chat_id THEN 'present'
    WHEN s.present_id IS NOT NULL THEN 'A message with this id already exists in another chat'
    WHEN NOT s.chat_ok THEN 'Chat was not created'
    WHEN s.sender_found IS NULL THEN 'Sender profile not found in the target profiles table'
    ELSE 'insert' END AS outcome
FROM s
"""

CLASSIFY_MEDIA = """
UPDATE cm_stage_media t SET outcome = CASE
    WHEN EXISTS (SELECT 1 FROM public.media x WHERE x.id = t.id) THEN 'present'
    WHEN NOT EXISTS (SELECT 1 FROM cm_msg_outcome m WHERE m.id = t.message_id AND m.outcome IN ('insert', 'present'))
         AND NOT EXISTS (SELECT 1 FROM public.chat_messages m WHERE m.id = t.message_id)
      THEN 'Message was not created'
    ELSE 'insert' END
"""

INSERTS = (
    "INSERT INTO public.chats (id, booking_id, created_at, updated_at) "
    "SELECT id, booking_id, created_at, updated_at FROM cm_stage_chat WHERE outcome = 'insert' ORDER BY ord",
    # in chunks of staging's blocks (TID ranges; staging is in ord order), a progress step each;
    # cm_msg_skip holds the ords classified otherwise (none in a first load)
    "INSERT INTO public.chat_messages (id, chat_id, sender_id, content, is_read, created_at) "
    "SELECT s.id, s.chat_id, s.sender_id, s.content, s.is_read, s.created_at FROM cm_stage_msg s "
    "WHERE {chunk} AND NOT EXISTS (SELECT 1 FROM cm_msg_skip k WHERE k.ord = s.ord)",
    # created_at is its message's: the app writes the media row with its message
    "INSERT INTO public.media (id, created_at, owner_id, file_path, media_type, chat_message_id) "
    "SELECT s.id, m.created_at, s.owner_id, s.file_path, 'chat_image', s.message_id FROM cm_stage_media s "
    "JOIN public.chat_messages m ON m.id = s.message_id WHERE s.outcome = 'insert'",
)

# a chunk of the staged messages: blocks [lo, hi) of cm_stage_msg (a TID range scan, PostgreSQL 14+)
CHUNK = "s.ctid >= %(lo)s::tid AND s.ctid < %(hi)s::tid"
CHUNK_ROWS = 100_000  # messages per insert statement: about a second, one progress step
SKIPPED = "CREATE TEMP TABLE cm_msg_skip AS SELECT ord FROM cm_msg_outcome WHERE outcome <> 'insert'"

_TABLES = {"chat": "cm_stage_chat", "message": "cm_stage_msg", "media": "cm_stage_media"}
_OUTCOMES = {"chat": "cm_stage_chat", "message": "cm_msg_outcome", "media": "cm_stage_media"}
_PARENT = {"chat": "booking_id", "message": "chat_id", "media": "message_id"}
_KEYS = {"chat": "id, booking_id, customer_id, stylist_id", "message": "ord, id, chat_id, sender_id", "media": "id, message_id"}


@dataclass(slots=True)
class Counts:
    attempted: int = 0
    created: int = 0
    present: int = 0
    failed: int = 0


@dataclass(slots=True)
class LoadCounts:
    chats: Counts = field(default_factory=Counts)
    messages: Counts = field(default_factory=Counts)
    media: Counts = field(default_factory=Counts)
    invalid: list[r.Failure] = field(default_factory=list)  # rejected before staging
    reasons: Counter[str] = field(default_factory=Counter)  # "chat: <why>" -> rows

    def of(self, kind: RowKind) -> Counts:
        return {"chat": self.chats, "message": self.messages, "media": self.media}[kind]

    @property
    def error_rate(self) -> float:
        attempted = self.chats.attempted + self.messages.attempted
        return (self.chats.failed + self.messages.failed) / attempted if attempted else 0.0


_PLURAL: dict[RowKind, str] = {"chat": "chats", "message": "messages", "media": "chat images"}


class Loader:
    """One step-2 load on one connection; see the module docstring for the protocol."""

    def __init__(self, conn: psycopg.Connection[Any], progress: Progress = NO_PROGRESS,
                 chat_schema: ChatSchema = "booking") -> None:
        self.conn = conn
        self.progress = progress
        self.chat_schema = chat_schema  # "booking" or "participants" (db.chat_schema)
        self.counts = LoadCounts()
        self.manifest_messages = 0  # messages of the manifest streamed so far (encoded_rows)
        self._tx: Any = None

    def begin(self) -> None:
        if not self.conn.autocommit:
            raise ValueError("the Loader needs an autocommit connection: its transaction must be the outermost")
        self._tx = self.conn.transaction()
        self._tx.__enter__()
        phase_lock(self.conn)
        self.conn.execute(STAGING)

    def rollback(self) -> None:
        if self._tx is not None:
            self._tx.__exit__(psycopg.Rollback, psycopg.Rollback(), None)
            self._tx = None

    def commit(self) -> None:
        self._tx.__exit__(None, None, None)
        self._tx = None

    # ---------------------------------------------------------------- staging

    def _reject(self, kind: RowKind, id_: str, parent: str | None, why: str) -> None:
        self.counts.invalid.append(r.Failure(kind, id_, parent, why))
        self.counts.reasons[f"{kind}: {why}"] += 1
        c = self.counts.of(kind)
        c.attempted += 1
        c.failed += 1

    def stage_chats(self, chats: Iterable[r.TargetChat]) -> None:
        by_pair = self.chat_schema == "participants"
        with self.conn.cursor().copy(
            "COPY cm_stage_chat (ord, id, booking_id, customer_id, stylist_id, created_at, updated_at) FROM STDIN"
        ) as cp:
            for i, c in enumerate(chats):
                keys = (c.customer_id, c.stylist_id) if by_pair else (c.booking_id,)
                if not (_UUID(c.id) and all(k and _UUID(k) for k in keys)):
                    what = "customer_id or stylist_id" if by_pair else "booking_id"
                    self._reject("chat", c.id, c.booking_id, f"Invalid or missing UUID in id or {what}")
                    continue
                cp.write_row((i, c.id, None if by_pair else c.booking_id, c.customer_id, c.stylist_id,
                              c.created_at, c.updated_at))
                self.counts.chats.attempted += 1

    def stage_messages(self, messages: Iterable[r.TargetMessage], total: int | None = None) -> None:
        """COPY the messages into staging, as COPY text lines built here in batches (a
        million rows: per-row driver calls would cost more than the database's work)."""
        self.progress.start("staging messages (COPY)", total)
        n = 0
        lines: list[str] = []
        with self.conn.cursor().copy(
            "COPY cm_stage_msg (ord, id, chat_id, sender_id, content, is_read, created_at, has_image) FROM STDIN"
        ) as cp:
            for n, m in enumerate(messages, 1):
                if not (_UUID(m.id) and _UUID(m.chat_id) and _UUID(m.sender_id)):
                    self._reject("message", m.id, m.chat_id, "Invalid UUID in id, chat_id or sender_id")
                    continue
                lines.append(
                    f"{n}\t{m.id}\t{m.chat_id}\t{m.sender_id}\t{copy_text(m.content)}\t"
                    f"{copy_bool(m.is_read)}\t{copy_text(m.created_at)}\t{copy_bool(m.has_image)}\n"
                )
                if len(lines) >= 2048:
                    cp.write("".join(lines))
                    lines.clear()
                    self.progress.update(n)
            if lines:
                cp.write("".join(lines))
        self.progress.update(n)
        self.progress.finish()
        self.counts.messages.attempted += n - sum(1 for f in self.counts.invalid if f.kind == "message")

    def stage_media(self, media: Iterable[r.PlannedMedia]) -> None:
        with self.conn.cursor().copy(
            "COPY cm_stage_media (ord, id, message_id, owner_id, file_path) FROM STDIN"
        ) as cp:
            for i, md in enumerate(media):
                if not (_UUID(md.id) and _UUID(md.message_id) and _UUID(md.owner_id)):
                    self._reject("media", md.id, md.message_id, "Invalid UUID in id, message_id or owner_id")
                    continue
                cp.write_row((i, md.id, md.message_id, md.owner_id, md.file_path))
                self.counts.media.attempted += 1

    # ---------------------------------------------------------------- classify and insert

    def classify(self) -> LoadCounts:
        chats = CLASSIFY_CHATS_PARTICIPANTS if self.chat_schema == "participants" else CLASSIFY_CHATS
        kinds: tuple[tuple[RowKind, str], ...] = (("chat", chats), ("message", CLASSIFY_MESSAGES),
                                                  ("media", CLASSIFY_MEDIA))
        for kind, stmt in kinds:
            self.progress.start(f"classifying the {_PLURAL[kind]} (insert, present or failed)", None)
            # statistics for the join keys only (the content column would cost a full sample)
            self.conn.execute(f"ANALYZE {_TABLES[kind]} ({_KEYS[kind]})")
            self.conn.execute(stmt)
            self.progress.finish()
            rows = self.conn.execute(
                f"SELECT outcome, count(*) FROM {_OUTCOMES[kind]} GROUP BY outcome"  # noqa: S608 - our temp table
            ).fetchall()
            c = self.counts.of(kind)
            for outcome, n in rows:
                if outcome == Outcome.PRESENT:
                    c.present += n
                elif outcome != Outcome.INSERT:
                    c.failed += n
                    self.counts.reasons[f"{kind}: {outcome}"] += n
        return self.counts

    def insert(self, run_id: int | None = None) -> None:
        """Insert the rows classified 'insert'; with ``run_id``, record each in the ledger
        (``chatmigrate.run_rows``) in the same transaction, set-wise from staging. The messages
        go in chunks of :data:`CHUNK_ROWS`, each with its ledger entries, a progress step each."""
        from . import ledger

        inserts = ((INSERT_CHATS_PARTICIPANTS, *INSERTS[1:]) if self.chat_schema == "participants" else INSERTS)
        for kind, stmt in zip(ROW_KINDS, inserts, strict=True):
            if kind == "message":
                self._insert_messages(stmt, run_id)
                continue
            self.progress.start(f"inserting the {_PLURAL[kind]}", None)
            cur = self.conn.execute(stmt)
            self.counts.of(kind).created = cur.rowcount
            self.progress.finish()
            if run_id is not None:
                recorded = ledger.record(self.conn, run_id, kind)
                if recorded != cur.rowcount:  # cannot happen: both select outcome = 'insert'
                    raise RuntimeError(f"ledger recorded {recorded} {kind} rows of {cur.rowcount} inserted")
        if run_id is not None:
            c = self.counts
            ledger.finish_load(self.conn, run_id, c.chats.created, c.messages.created, c.media.created)

    def _chunks(self, rows: int) -> list[dict[str, str]]:
        """TID ranges that split cm_stage_msg into chunks of about CHUNK_ROWS rows (one range
        holding every block before PostgreSQL 14, which cannot scan a TID range)."""
        row = self.conn.execute("SELECT pg_relation_size('cm_stage_msg') / current_setting('block_size')::int"
                                ).fetchone()
        blocks = int(row[0]) if row else 0
        n = max(1, -(-rows // CHUNK_ROWS)) if self.conn.info.server_version >= 140000 else 1
        step = max(1, -(-blocks // n))
        bounds = [*range(0, blocks, step), blocks]
        ranges = [{"lo": f"({lo},0)", "hi": f"({hi},0)"} for lo, hi in pairwise(bounds)]
        ranges = ranges or [{"lo": "(0,0)", "hi": "(1,0)"}]  # one statement even of none: statement triggers fire
        ranges[-1]["hi"] = "(4294967295,0)"  # the last range to the end (no block is missed)
        return ranges

    def _insert_messages(self, stmt: str, run_id: int | None) -> None:
        from . import ledger

        c = self.counts.messages
        todo = c.attempted - c.present - c.failed
        self.conn.execute(SKIPPED)
        self.conn.execute("ANALYZE cm_msg_skip")
        if run_id is not None:
            ledger.check_unlisted(self.conn, "message")
        self.progress.start("inserting the messages", todo)
        done = 0
        for chunk in self._chunks(todo):
            inserted = self.conn.execute(stmt.format(chunk=CHUNK), chunk).rowcount
            if run_id is not None:
                recorded = ledger.record(self.conn, run_id, "message", chunk, checked=True)
                if recorded != inserted:  # cannot happen: both select the same staged rows
                    raise RuntimeError(f"ledger recorded {recorded} message rows of {inserted} inserted")
            done += inserted
            self.progress.update(done)
        self.progress.finish()
        c.created = done

    # ---------------------------------------------------------------- reading back

    def _select(self, kind: RowKind, cols: str, where: str) -> str:
        if kind == "message":
            return (f"SELECT {cols} FROM cm_stage_msg s JOIN cm_msg_outcome o ON o.ord = s.ord "  # noqa: S608
                    f"WHERE {where}")  # a million rows: no sort; the manifest's order is immaterial
        return f"SELECT {cols} FROM {_TABLES[kind]} s WHERE {where} ORDER BY s.ord"  # noqa: S608 - constants only

    def _copy_out(self, query: str) -> Iterator[list[str]]:
        """Rows of a query as text fields, by COPY TO STDOUT (ids, booleans and our reason
        strings hold no tab, newline or backslash, so no unescaping is needed)."""
        with self.conn.cursor().copy(f"COPY ({query}) TO STDOUT") as cp:
            rest = b""
            for block in cp:
                lines = (rest + bytes(block)).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    yield line.decode("utf-8").split("\t")
            if rest:
                yield rest.decode("utf-8").split("\t")

    def _rows(self, kind: RowKind, outcome: Outcome) -> Iterator[list[str]]:
        cols = {"chat": "s.id, s.booking_id, s.customer_id, s.stylist_id",
                "message": "s.id, s.chat_id, s.sender_id, s.has_image",
                "media": "s.id, s.message_id"}[kind]
        where = ("o" if kind == "message" else "s") + f".outcome = '{outcome.value}'"
        return self._copy_out(self._select(kind, cols, where))

    def rows(self, outcome: Outcome) -> CreatedRows:
        """The staged rows with this outcome (inserted, or already present), as typed records,
        streamed from the database when read."""
        return CreatedRows(
            (CreatedChat(i, from_copy(b), from_copy(c), from_copy(s)) for i, b, c, s in self._rows("chat", outcome)),
            (_make(CreatedMessage, (i, c, s, h == "t")) for i, c, s, h in self._rows("message", outcome)),
            (CreatedMedia(i, m) for i, m in self._rows("media", outcome)),
        )

    def encoded_rows(self, outcome: Outcome) -> CreatedRowsEncoded:
        """:meth:`rows`, the messages as the manifest's JSON text, formatted by PostgreSQL and
        streamed by COPY (ids are canonical uuids, has_image a boolean: nothing to escape)."""
        line = ("""'{"id": "' || s.id || '", "chat_id": "' || s.chat_id || '", "sender_id": "' || s.sender_id """
                """|| '", "has_image": ' || s.has_image || '}'""")
        query = self._select("message", line, f"o.outcome = '{outcome.value}'")
        rows = self.rows(outcome)
        return CreatedRowsEncoded(rows.chats, EncodedItems(self._copy_blocks(query)), rows.media)

    def _copy_blocks(self, query: str) -> Iterator[bytes | bytearray | memoryview]:
        with self.conn.cursor().copy(f"COPY ({query}) TO STDOUT") as cp:
            for block in cp:
                self.manifest_messages += 1  # read by another thread, for its progress bar
                yield block

    def failures(self, kind: RowKind) -> Iterator[r.Failure]:
        yield from (f for f in self.counts.invalid if f.kind == kind)
        alias = "o" if kind == "message" else "s"
        query = self._select(kind, f"s.id, s.{_PARENT[kind]}, {alias}.outcome",
                             f"{alias}.outcome NOT IN ('insert', 'present')")
        for id_, parent, outcome in self._copy_out(query):
            yield r.Failure(kind, id_, from_copy(parent), outcome)
