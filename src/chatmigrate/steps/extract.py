"""Step 1, extract: dump + Phase 1/4 files -> chats-extracted.json, skipped-chats.json.

Owns: the preflight (the plan's "Input Validation"), the two streaming passes over
the dump (bookings and chats first, whatever their order in the file, then messages),
applying the rules to every row, and writing both output files while the messages
stream past, so memory holds the chats but never the messages.

Does not own: the rules themselves (``phase6.rules``), the file shapes
(``phase6.files``), the dump grammar (``dump``). No database.
"""

from __future__ import annotations

import os
from collections import Counter
from json.encoder import encode_basestring as js  # type: ignore[attr-defined]
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..dump import DumpReader
from ..errors import UsageError
from ..phase6 import files as f
from ..phase6 import records as r
from ..phase6 import rules
from ..progress import NO_PROGRESS, Progress

ADVICE_PHASE1 = "run Phase 1 (users) first, or point --temp-dir at the folder that holds its output"
ADVICE_PHASE4 = "run Phase 4 (bookings) first, or point --temp-dir at the folder that holds its output"


@dataclass(slots=True)
class PhaseInputs:
    mapping: dict[str, str]
    migrated: frozenset[str]
    bookings_created_total: int


def load_phase_inputs(temp_dir: Path) -> PhaseInputs:
    """Read and check user-id-mapping.json and bookings-created.json (exit 2 if wrong)."""
    mpath = temp_dir / f.USER_MAPPING
    mdoc = f.read_json(mpath, "the Phase 1 user id mapping", ADVICE_PHASE1)
    mapping_raw = mdoc.get("mapping")
    if not isinstance(mapping_raw, dict):
        raise f.PhaseFileError(mpath, 'it has no "mapping" object', ADVICE_PHASE1)
    mapping = {str(k).strip().lower(): str(v).strip().lower() for k, v in mapping_raw.items() if v}
    bpath = temp_dir / f.BOOKINGS_CREATED
    bdoc = f.read_json(bpath, "the Phase 4 booking results", ADVICE_PHASE4)
    results = bdoc.get("results")
    if not isinstance(results, list):
        raise f.PhaseFileError(bpath, 'it has no "results" array', ADVICE_PHASE4)
    migrated = frozenset(
        str(x["id"]).strip().lower() for x in results if isinstance(x, dict) and x.get("success") is True and x.get("id")
    )
    if not migrated:
        raise f.PhaseFileError(bpath, "it lists no booking with success: true", ADVICE_PHASE4)
    return PhaseInputs(mapping, migrated, len(results))


def parse_timezone(name: str | None) -> Any:
    if not name or name.upper() in ("UTC", "+00:00", "Z"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--source-timezone {name!r} is not a known time zone: use an IANA name such as Europe/Oslo.") from None


@dataclass(slots=True)
class ExtractResult:
    metadata: dict[str, Any]
    chat_skips: Counter[str] = field(default_factory=Counter)
    message_skips: Counter[str] = field(default_factory=Counter)
    warnings: int = 0
    extracted_path: Path | None = None
    skipped_path: Path | None = None


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

    def messages(self) -> Iterator[rules.MessageOutcome | r.Skip]:
        """Second pass over the dump: every message row, classified, in file order."""
        for row in DumpReader(self.dump, ("message",), progress=self.progress):
            yield rules.classify_message(rules.legacy_message(row.values), self.lookups)


def classify_dump(
    dump: str,
    inputs: PhaseInputs,
    *,
    source_tz: str | None = None,
    progress: Progress = NO_PROGRESS,
    allow_incomplete: bool = False,
) -> Classified:
    """Pass 1 over the dump (bookings, chats) and the chat rules; messages stay lazy."""
    if dump == "-":
        raise UsageError("extract reads the dump twice and cannot read standard input: save the dump to a file.")
    if not os.path.isfile(dump):
        raise UsageError(f"the dump file {dump} does not exist: check --dump or MYSQL_DUMP_PATH.")
    tz = parse_timezone(source_tz)
    first = DumpReader(dump, ("booking", "chat"), progress=progress)
    bookings: dict[str, r.LegacyBooking] = {}
    chats: list[r.LegacyChat] = []
    for row in first:
        if row.table == "booking":
            b = rules.legacy_booking(row.values)
            bookings[b.id] = b
        else:
            chats.append(rules.legacy_chat(row.values))
    if not allow_incomplete:
        _require_tables(first, dump)
    lk = rules.Lookups(bookings, inputs.migrated, inputs.mapping, tz)
    processed: list[r.TargetChat] = []
    skips: list[r.Skip] = []
    active = 0
    for chat in chats:
        active += str(chat.is_active).strip() == "1"
        outcome = rules.classify_chat(chat, lk)
        key = rules.low(chat.id) or ""
        if isinstance(outcome, r.Skip):
            skips.append(outcome)
            lk.chats[key] = None
        else:
            processed.append(outcome)
            lk.chats[key] = outcome
    return Classified(dump, lk, len(chats), len(bookings), active, processed, skips, progress)


def extract(
    dump: str,
    temp_dir: Path,
    *,
    source_tz: str | None = None,
    progress: Progress = NO_PROGRESS,
    allow_incomplete: bool = False,
) -> ExtractResult:
    """Run step 1. Raises ChatmigrateError (exit 2) on bad input; writes nothing then."""
    inputs = load_phase_inputs(temp_dir)
    cl = classify_dump(dump, inputs, source_tz=source_tz, progress=progress, allow_incomplete=allow_incomplete)
    processed_chats, chat_skips = cl.processed_chats, cl.chat_skips

    result = ExtractResult(metadata={})
    result.chat_skips.update(s.reason for s in chat_skips)
    out_path = temp_dir / f.CHATS_EXTRACTED
    skip_path = temp_dir / f.SKIPPED_CHATS
    images: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    senders: Counter[str] = Counter()
    total_messages = processed_messages = 0
    started = f.now_iso()
    with f.atomic_text(out_path) as out_fh, f.atomic_text(skip_path) as skip_fh:
        out = f.StreamedDoc(out_fh)
        out.value("extracted_at", started)
        out.begin_array("processedChats")
        for c in processed_chats:
            out.item({"id": c.id, "booking_id": c.booking_id, "created_at": c.created_at, "updated_at": c.updated_at})
        out.end_array()
        skipped = f.StreamedDoc(skip_fh)
        skipped.value("skipped_at", started)
        skipped.begin_array("skipped_chats")
        for s in chat_skips:
            skipped.item({"chat": {"id": s.id, "booking_id": s.parent_id}, "reason": s.reason})
        skipped.end_array()

        out.begin_array("processedMessages")
        skipped.begin_array("skipped_messages")
        for res in cl.messages():
            total_messages += 1
            if isinstance(res, r.Skip):
                result.message_skips[res.reason] += 1
                skipped.raw_item(
                    f'{{"message": {{"id": {js(res.id)}, "chat_id": {js(res.parent_id) if res.parent_id else "null"}}}, '
                    f'"reason": {js(res.reason)}}}'
                )
                continue
            m = res.message
            processed_messages += 1
            senders[m.sender_role] += 1
            # one JSON line per message, formatted directly: the same text json.dumps gives
            out.raw_item(
                f'{{"id": {js(m.id)}, "chat_id": {js(m.chat_id)}, "sender_id": {js(m.sender_id)}, '
                f'"content": {js(m.content)}, "is_read": {"true" if m.is_read else "false"}, '
                f'"created_at": {js(m.created_at)}, "has_image": {"true" if m.has_image else "false"}, '
                f'"sender_role": {js(m.sender_role)}}}'
            )
            if res.media is not None:
                md = res.media
                images.append(
                    {
                        "message": {"id": m.id, "message": md.source_url},
                        "chat_id": m.chat_id,
                        "media": {"id": md.id, "owner_id": md.owner_id, "file_path": md.file_path,
                                  "bucket": r.MEDIA_BUCKET, "media_type": r.MEDIA_TYPE},
                    }
                )
            if res.nul_removed:
                warnings.append({"message_id": m.id, "warning": f"removed {res.nul_removed} NUL character(s): PostgreSQL text cannot store U+0000"})
        out.end_array()
        skipped.end_array()
        out.value("imageMessages", images)
        out.value("warnings", warnings)
        skipped_messages = total_messages - processed_messages
        metadata = {
            "total_mysql_chats": cl.total_chats,
            "total_mysql_messages": total_messages,
            "total_mysql_bookings": cl.total_bookings,
            "processed_chats": len(processed_chats),
            "processed_messages": processed_messages,
            "skipped_chats": len(chat_skips),
            "skipped_messages": skipped_messages,
            "active_chats": cl.active_chats,
            "image_messages": len(images),
            "sender_distribution": {"customer": senders["customer"], "stylist": senders["stylist"]},
            "skip_reasons": {"chats": dict(result.chat_skips), "messages": dict(result.message_skips)},
            "warnings": len(warnings),
            "migrated_bookings_in_phase4": len(inputs.migrated),
            "source_timezone": source_tz or "UTC",
            "dump": os.path.abspath(dump),
        }
        out.value("metadata", metadata)
        out.close()
        skipped.value("summary", {"skipped_chats": len(chat_skips), "skipped_messages": skipped_messages,
                                  "reasons": metadata["skip_reasons"]})
        skipped.close()
    result.metadata = metadata
    result.warnings = len(warnings)
    result.extracted_path, result.skipped_path = out_path, skip_path
    return result
