"""Every file of the plan's temp dir: its name, its shape, one typed writer and one typed reader.

Owns: the inputs of Phases 1 and 4 (``user-id-mapping.json``, ``bookings-created.json``),
step 1's ``chats-extracted.json``, ``skipped-chats.json`` and ``chat-links.json``, step 2's
``chats-created.json``, ``chat-creation-stats.json`` and ``failed-chats-creation.json``,
step 3's ``chat-validation-results.json``, the run's ``phase-6-migration-stats.json`` and
the plan's ``phase-6-impact.json``, a rollback's ``rolled-back/<stamp>-<run>/rollback.json`` (and
the move of this phase's files beside it), the HTML report ``phase-6-report.html`` (written here; its
content is :mod:`.report`'s), and ``chatmigrate images``' ``chat-images-copied.json``. Steps hand typed records and TypedDict documents to
the writers here and get typed records back from the readers; no other module formats
or parses these files.

The large arrays (``processedMessages``, ``skipped_messages``, ``created_messages``) are
written one element per line and read back line by line (:mod:`.jsonstream`), so a million
messages never sit in memory. A record line is written from the record's attributes
by name and read back into the record type by its field names (``itemgetter`` over
``_fields``), so reordering a record's fields cannot mix values. Every file is written
atomically and owner-only (:mod:`.safewrite`).

Does not own: what goes into the files (rules, steps), any database work.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from json.encoder import encode_basestring as js
from pathlib import Path
from typing import Any

import orjson

from . import jsonstream as s
from .errors import PhaseFileError as PhaseFileError  # defined with every error; importable here
from .phase6 import kinds as k
from .phase6 import records as r
from .phase6.compact import Spool, id_map, id_set
from .phase6.docs import CreationStats as CreationStats  # the documents' shapes, re-exported
from .phase6.docs import ExtractMetadata as ExtractMetadata
from .phase6.docs import Impact as Impact
from .phase6.docs import MigrationStats as MigrationStats
from .phase6.docs import ValidationResults as ValidationResults
from .phase6.links import ChatLink
from .phase6.records import CreatedChat as CreatedChat  # step 2's manifest rows
from .phase6.records import CreatedMedia as CreatedMedia
from .phase6.records import CreatedMessage as CreatedMessage
from .phase6.records import CreatedRows as CreatedRows
from .phase6.records import NulWarning as NulWarning
from .safewrite import atomic_text, move_names, new_private_dir

USER_MAPPING = "user-id-mapping.json"
BOOKINGS_CREATED = "bookings-created.json"
CHATS_EXTRACTED = "chats-extracted.json"
SKIPPED_CHATS = "skipped-chats.json"
CHATS_CREATED = "chats-created.json"
CREATION_STATS = "chat-creation-stats.json"
FAILED_CREATION = "failed-chats-creation.json"
VALIDATION_RESULTS = "chat-validation-results.json"
MIGRATION_STATS = "phase-6-migration-stats.json"
CHAT_LINKS = "chat-links.json"
IMPACT = "phase-6-impact.json"
REPORT = "phase-6-report.html"
IMAGES_COPIED = "chat-images-copied.json"
PHASE_OUTPUTS = (
    CHATS_EXTRACTED, SKIPPED_CHATS, CHAT_LINKS, CHATS_CREATED, CREATION_STATS, FAILED_CREATION,
    VALIDATION_RESULTS, MIGRATION_STATS, REPORT, IMAGES_COPIED,
)
ADVICE_PHASE1 = "run Phase 1 (users) first, or point --temp-dir at the folder that holds its output"
ADVICE_PHASE4 = "run Phase 4 (bookings) first, or point --temp-dir at the folder that holds its output"
ADVICE_STEP1 = "run `chatmigrate extract` first (or pass the --temp-dir it wrote to)"

now_iso = s.now_iso


def write_json(path: Path, doc: Any) -> None:
    """A small document, indented (the plan's stats and results files)."""
    with atomic_text(path) as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


def read_json(path: Path, what: str, advice: str) -> dict[str, Any]:
    if not path.is_file():
        raise PhaseFileError(path, f"{what} is missing", advice)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PhaseFileError(path, f"{what} is not valid JSON ({exc})", advice) from None
    if not isinstance(doc, dict):
        raise PhaseFileError(path, f"{what} is not a JSON object", advice)
    return doc


def success_rate(ok: int, total: int) -> str:
    return f"{(100.0 * ok / total) if total else 0.0:.2f}%"


# --------------------------------------------------------------------------- inputs (Phases 1 and 4)


@dataclass(frozen=True, slots=True)
class PhaseInputs:
    mapping: Mapping[str, str]  # legacy buyer/stylist id (lowercase) -> new profile id (compact: phase6.compact)
    migrated: Collection[str]  # booking ids with success: true (compact: phase6.compact.id_set)
    bookings_created_total: int


def read_phase_inputs(temp_dir: Path) -> PhaseInputs:
    """Read and check user-id-mapping.json and bookings-created.json (exit 2 if wrong)."""
    mpath = temp_dir / USER_MAPPING
    mapping_raw = read_json(mpath, "the Phase 1 user id mapping file", ADVICE_PHASE1).get("mapping")
    if not isinstance(mapping_raw, dict):
        raise PhaseFileError(mpath, 'it has no "mapping" object', ADVICE_PHASE1)
    mapping = id_map()
    for a, b in mapping_raw.items():
        if b:
            mapping[str(a).strip().lower()] = str(b).strip().lower()
    del mapping_raw
    bpath = temp_dir / BOOKINGS_CREATED
    streamed = _migrated_streamed(bpath) if bpath.is_file() else None
    if streamed is None:  # another layout, or not valid JSON: read whole, for its error
        results = read_json(bpath, "the Phase 4 booking results file", ADVICE_PHASE4).get("results")
        if not isinstance(results, list):
            raise PhaseFileError(bpath, 'it has no "results" array', ADVICE_PHASE4)
        streamed = _migrated(results), len(results)
    migrated, total = streamed
    if not migrated:
        raise PhaseFileError(bpath, "it lists no booking with success: true", ADVICE_PHASE4)
    return PhaseInputs(mapping, migrated, total)


def _migrated(results: Iterable[Any]) -> Collection[str]:
    ids = id_set()
    for x in results:
        if isinstance(x, dict) and x.get("success") is True and x.get("id"):
            ids[str(x["id"]).strip().lower()] = True
    return ids.keys()


def _migrated_streamed(path: Path) -> tuple[Collection[str], int] | None:
    """bookings-created.json's successful ids and its number of results, read a line at a
    time (a million results never sit in memory as dicts) when the file has the layout
    Phase 4 and ``write_bookings_created`` give it: the "results" array's elements one per
    line between ``  "results": [`` and ``  ]``. None for any other layout or any text
    that orjson does not take: the caller then reads the file whole, as before."""
    head: list[bytes] = []
    total = 0
    ids: MutableMapping[str, bool] = id_set()
    loads = orjson.loads
    seen = False
    try:
        with open(path, "rb") as fh:
            for line in fh:
                if not line.startswith(b'  "results": ['):
                    head.append(line)
                    continue
                if seen or line.rstrip() != b'  "results": [':
                    return None
                seen, pending = True, False  # pending: a comma after the last element
                for item in fh:
                    if item.startswith(b"  ]"):
                        if pending:
                            return None
                        head.append(b'  "results": []' + item[3:])
                        break
                    text = item.strip()
                    lead = text.startswith(b",")
                    if (lead == pending or (lead and not total)) and (total or lead):
                        return None  # not one comma between two elements
                    pending = text.endswith(b",")
                    x = loads(text[1 if lead else 0:len(text) - pending])
                    total += 1
                    if isinstance(x, dict) and x.get("success") is True and x.get("id"):
                        ids[str(x["id"]).strip().lower()] = True
                else:
                    return None
            doc = loads(b"".join(head))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("results") != []:
        return None
    return ids.keys(), total


def write_user_mapping(temp_dir: Path, metadata: dict[str, Any], pairs: Iterable[tuple[str, str]]) -> None:
    """Phase 1's file, as Phase 1 writes it (synthetic worlds): legacy id -> new profile id, streamed."""
    with atomic_text(temp_dir / USER_MAPPING) as fh:
        fh.write('{\n  "metadata": ' + json.dumps(metadata) + ',\n  "mapping": {')
        sep = "\n    "
        for legacy, new in pairs:
            fh.write(f"{sep}{json.dumps(legacy)}: {json.dumps(new)}")
            sep = ",\n    "
        fh.write("\n  }\n}\n")


def write_bookings_created(temp_dir: Path, metadata: dict[str, Any], results: Iterable[r.BookingResult]) -> None:
    """Phase 4's file, as Phase 4 writes it (synthetic worlds): one result per booking."""
    with atomic_text(temp_dir / BOOKINGS_CREATED) as fh:
        fh.write('{\n  "metadata": ' + json.dumps(metadata) + ',\n  "results": [')
        sep = "\n    "
        for x in results:
            error = "" if x.success else f', "error": {json.dumps(x.error)}'
            fh.write(f'{sep}{{"id": {json.dumps(x.id)}, "success": {"true" if x.success else "false"}{error}}}')
            sep = ",\n    "
        fh.write("\n  ]\n}\n")


# --------------------------------------------------------------------------- step 1


def message_line(m: r.TargetMessage) -> str:
    """A processedMessages line, by attribute name; the same text json.dumps gives."""
    return (
        f'{{"id": {js(m.id)}, "chat_id": {js(m.chat_id)}, "sender_id": {js(m.sender_id)}, '
        f'"content": {js(m.content)}, "is_read": {"true" if m.is_read else "false"}, '
        f'"created_at": {js(m.created_at)}, "has_image": {"true" if m.has_image else "false"}, '
        f'"sender_role": {js(m.sender_role)}}}'
    )


def message_lines(ms: Iterable[r.TargetMessage]) -> list[str]:
    """:func:`message_line` of each message (the same text, by attribute name, without a call
    per message)."""
    return [
        f'{{"id": {js(m.id)}, "chat_id": {js(m.chat_id)}, "sender_id": {js(m.sender_id)}, '
        f'"content": {js(m.content)}, "is_read": {"true" if m.is_read else "false"}, '
        f'"created_at": {js(m.created_at)}, "has_image": {"true" if m.has_image else "false"}, '
        f'"sender_role": {_CUSTOMER if m.sender_role == "customer" else js(m.sender_role)}}}'
        for m in ms
    ]


_CUSTOMER = js("customer")


def skipped_message_line(x: r.Skip) -> str:
    return (f'{{"message": {{"id": {js(x.id)}, "chat_id": {js(x.parent_id) if x.parent_id else "null"}}}, '
            f'"reason": {js(x.reason)}}}')


def _chat_item(c: r.TargetChat) -> dict[str, Any]:
    return {"id": c.id, "booking_id": c.booking_id, "created_at": c.created_at, "updated_at": c.updated_at,
            "customer_id": c.customer_id, "stylist_id": c.stylist_id}


def _image_item(md: r.PlannedMedia) -> dict[str, Any]:
    return {
        "message": {"id": md.message_id, "message": md.source_url},
        "chat_id": md.chat_id,
        "media": {"id": md.id, "owner_id": md.owner_id, "file_path": md.file_path,
                  "bucket": r.MEDIA_BUCKET, "media_type": r.MEDIA_TYPE},
    }


class ExtractedWriter:
    """``chats-extracted.json`` and ``skipped-chats.json``, written together as messages stream.

    ``with ExtractedWriter(temp_dir, started) as w: w.chats(...); w.message(m)...; w.finish(...)``;
    both files appear only when the block ends without an error.
    """

    def __init__(self, temp_dir: Path, started: str) -> None:
        self.extracted_path, self.skipped_path = temp_dir / CHATS_EXTRACTED, temp_dir / SKIPPED_CHATS
        self.started = started
        self._stack = ExitStack()

    def __enter__(self) -> ExtractedWriter:
        with ExitStack() as stack:
            self._out = s.StreamedDoc(stack.enter_context(atomic_text(self.extracted_path)))
            self._skip = s.StreamedDoc(stack.enter_context(atomic_text(self.skipped_path)))
            self._stack = stack.pop_all()
        self._out.value("extracted_at", self.started)
        self._skip.value("skipped_at", self.started)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)

    def chats(self, processed: Iterable[r.TargetChat], skips: Iterable[r.Skip]) -> None:
        """The chat arrays; then the message arrays are open for :meth:`message`."""
        self._out.begin_array("processedChats")
        for c in processed:
            self._out.item(_chat_item(c))
        self._out.end_array()
        self._skip.begin_array("skipped_chats")
        for x in skips:
            self._skip.item({"chat": {"id": x.id, "booking_id": x.parent_id}, "reason": x.reason})
        self._skip.end_array()
        self._out.begin_array("processedMessages")
        self._skip.begin_array("skipped_messages")

    def message(self, m: r.TargetMessage) -> None:
        self._out.raw_item(message_line(m))

    def skipped_message(self, x: r.Skip) -> None:
        self._skip.raw_item(skipped_message_line(x))

    def messages(self, ms: Iterable[r.TargetMessage]) -> None:
        """:meth:`message` for each, in one write."""
        self._out.raw_batch(message_lines(ms))

    def skipped_messages(self, xs: Iterable[r.Skip]) -> None:
        """:meth:`skipped_message` for each, in one write."""
        self._skip.raw_batch([skipped_message_line(x) for x in xs])

    def finish(self, images: Sequence[r.PlannedMedia], warnings: Sequence[NulWarning],
               metadata: ExtractMetadata) -> None:
        self._out.end_array()
        self._skip.end_array()
        self._out.value_items("imageMessages", (_image_item(md) for md in images))
        self._out.value_items("warnings", ({"message_id": w.message_id, "warning": f"removed {w.removed} NUL "
                                            "character(s): PostgreSQL text cannot store U+0000"} for w in warnings))
        self._out.value("metadata", metadata)
        self._out.close()
        self._skip.value("summary", {"skipped_chats": metadata["skipped_chats"],
                                     "skipped_messages": metadata["skipped_messages"],
                                     "reasons": metadata["skip_reasons"]})
        self._skip.close()


def read_records(path: Path, key: str, cls: type[s.T], defaults: dict[str, Any] | None = None) -> Iterator[s.T]:
    """The elements of array ``key`` as ``cls`` records, each field taken by its name."""
    def missing(field: str) -> PhaseFileError:
        return PhaseFileError(path, f'an element of "{key}" has no "{field}"', ADVICE_STEP1)

    return s.iter_records(path, key, cls, defaults or {}, missing)


@dataclass(frozen=True, slots=True)
class Extracted:
    """Step 1's output, read back: the head in memory, the messages as a stream."""

    path: Path
    metadata: ExtractMetadata
    chats: Sequence[r.TargetChat]  # spooled (phase6.compact): iterate, len
    media: Sequence[r.PlannedMedia]

    def messages(self, cls: type[r.TargetMessage] = r.TargetMessage) -> Iterator[r.TargetMessage]:
        return read_records(self.path, "processedMessages", cls, {"sender_role": ""})


def read_extracted_metadata(temp_dir: Path) -> ExtractMetadata | None:
    """Step 1's metadata, or None when there is no step 1 output."""
    path = temp_dir / CHATS_EXTRACTED
    if not path.is_file():
        return None
    meta: ExtractMetadata | None = s.read_head(
        path, ("processedChats", "processedMessages", "imageMessages", "warnings")).get("metadata")
    return meta


def read_extracted(temp_dir: Path) -> Extracted:
    path = temp_dir / CHATS_EXTRACTED
    if not path.is_file():
        raise PhaseFileError(path, "step 1's output is missing", ADVICE_STEP1)
    try:
        head = s.read_head(path, ("processedChats", "processedMessages", "imageMessages"))
    except (OSError, ValueError) as exc:
        raise PhaseFileError(path, f"step 1's output cannot be read ({exc})", ADVICE_STEP1) from None
    if "metadata" not in head:
        raise PhaseFileError(path, 'it has no "metadata"', ADVICE_STEP1)
    # read and checked now, held in temporary files (spools) until the steps iterate them
    chats = Spool(r.TargetChat._make, read_records(path, "processedChats", r.TargetChat,
                                                   {"customer_id": None, "stylist_id": None, "booking_id": None}))
    media: Spool[r.PlannedMedia] = Spool(r.PlannedMedia._make)
    try:
        for img in s.iter_value_items(path, "imageMessages"):
            md = img.get("media") or {}
            msg = img["message"]
            media.append(r.PlannedMedia(md.get("id") or r.media_id(msg["id"]), msg["id"], img["chat_id"],
                                        md.get("owner_id", ""), md.get("file_path", ""), msg.get("message", "")))
    except (OSError, ValueError) as exc:
        raise PhaseFileError(path, f"step 1's output cannot be read ({exc})", ADVICE_STEP1) from None
    return Extracted(path, head["metadata"], chats, media)


def write_chat_links(temp_dir: Path, decisions: Iterable[ChatLink], per_part: Mapping[Any, int],
                     link: k.LinkMode) -> None:
    """chat-links.json: for every legacy chat, how it was linked and where its messages went.
    ``per_part``: (legacy chat, target chat) -> messages, or the chat's id alone when both are one."""

    def messages(legacy_id: str, chat_id: str) -> int:
        n = per_part.get((legacy_id, chat_id))
        return (per_part.get(chat_id, 0) if chat_id == legacy_id else 0) if n is None else n

    with atomic_text(temp_dir / CHAT_LINKS) as fh:
        doc = s.StreamedDoc(fh)
        doc.value("link_mode", link)
        doc.begin_array("chats")
        rules_used: dict[str, int] = {}
        legacy_chats = 0
        for d in decisions:
            legacy_chats += 1
            rules_used[d.rule or "not linked"] = rules_used.get(d.rule or "not linked", 0) + 1
            doc.item({
                "legacy_chat_id": d.legacy_id,
                "rule": d.rule,
                "targets": [{"chat_id": c, "booking_id": b, "messages": messages(d.legacy_id, c)}
                            for c, b in d.targets],
                **({"reason": d.reason} if d.reason else {}),
            })
        doc.end_array()
        doc.value("metadata", {"created_at": now_iso(), "legacy_chats": legacy_chats, "by_rule": rules_used})
        doc.close()


# --------------------------------------------------------------------------- step 2


@dataclass(slots=True)
class EncodedItems:
    """Manifest elements already encoded, one JSON object per block, each ending in a newline
    (the shape :func:`write_created` writes for them; ``load`` has PostgreSQL format them)."""

    blocks: Iterable[bytes | bytearray | memoryview]


@dataclass(slots=True)
class CreatedRowsEncoded:
    """:class:`CreatedRows` whose messages are encoded already (a million of them)."""

    chats: Iterable[CreatedChat]
    messages: EncodedItems
    media: Iterable[CreatedMedia]


_MANIFEST_PARTS = ((k.Outcome.INSERT, "created"), (k.Outcome.PRESENT, "already_present"))


def write_created(temp_dir: Path, rows: dict[k.Outcome, CreatedRows | CreatedRowsEncoded], metadata: dict[str, int],
                  *,
                  run_id: int, dump_sha256: str | None) -> None:
    """chats-created.json, the report of step 2: every created and already-present row,
    and the ledger run they belong to (the ledger in the target is the source of truth)."""
    with atomic_text(temp_dir / CHATS_CREATED) as fh:
        doc = s.StreamedDoc(fh)
        doc.value("created_at", now_iso())
        doc.value("run_id", run_id)  # the ledger run (chatmigrate.runs) these rows belong to
        doc.value("dump_sha256", dump_sha256)
        for outcome, prefix in _MANIFEST_PARTS:
            part = rows[outcome]
            doc.begin_array(f"{prefix}_chats")
            for c in part.chats:
                item: dict[str, Any] = {"id": c.id, "booking_id": c.booking_id}
                if c.booking_id is None:  # the participants schema
                    item.update(customer_id=c.customer_id, stylist_id=c.stylist_id)
                doc.item(item)
            doc.end_array()
            doc.begin_array(f"{prefix}_messages")
            if isinstance(part.messages, EncodedItems):
                doc.raw_lines(part.messages.blocks)
            else:  # uuids need no JSON escaping (the loader checked them): format the lines directly
                doc.raw_items(message_item(m) for m in part.messages)
            doc.end_array()
            doc.begin_array(f"{prefix}_media")
            for md in part.media:
                doc.item({"id": md.id, "message_id": md.message_id, "media_type": r.MEDIA_TYPE})
            doc.end_array()
        doc.value("metadata", metadata)
        doc.close()


def message_item(m: CreatedMessage) -> str:
    """One element of the manifest's message arrays (``load`` formats the same text in SQL)."""
    return (f'{{"id": "{m.id}", "chat_id": "{m.chat_id}", "sender_id": "{m.sender_id}", '
            f'"has_image": {"true" if m.has_image else "false"}}}')


def read_created_run(temp_dir: Path) -> tuple[int | None, str | None]:
    """(run id, dump sha256) that the temp dir's chats-created.json names, or (None, None)."""
    path = temp_dir / CHATS_CREATED
    try:
        head = s.read_head(path, tuple(f"{prefix}_{plural}" for _, prefix in _MANIFEST_PARTS
                                       for plural in ("chats", "messages", "media")))
    except (OSError, ValueError):
        return None, None
    run_id, sha = head.get("run_id"), head.get("dump_sha256")
    return (run_id if isinstance(run_id, int) else None), (sha if isinstance(sha, str) else None)


def read_created_ids(temp_dir: Path) -> dict[k.RowKind, list[str]]:
    """The ids chats-created.json lists (created and already present), per row kind."""
    path = temp_dir / CHATS_CREATED
    out: dict[k.RowKind, list[str]] = {}
    plurals: tuple[tuple[k.RowKind, str], ...] = (("chat", "chats"), ("message", "messages"), ("media", "media"))
    for kind, plural in plurals:
        ids = out.setdefault(kind, [])
        for _, prefix in _MANIFEST_PARTS:
            ids.extend(x["id"] for x in s.iter_array(path, f"{prefix}_{plural}"))
    return out


_FAILED_PARTS: tuple[tuple[k.RowKind, str, str], ...] = (
    ("chat", "failed_chats", "booking_id"), ("message", "failed_messages", "chat_id"),
    ("media", "failed_media", "message_id"),
)


def write_failures(temp_dir: Path, failures: dict[k.RowKind, Iterable[r.Failure]], metadata: dict[str, int]) -> Path:
    """failed-chats-creation.json: every row step 2 could not insert, with the reason."""
    path = temp_dir / FAILED_CREATION
    with atomic_text(path) as fh:
        doc = s.StreamedDoc(fh)
        doc.value("failed_at", now_iso())
        for kind, key, parent in _FAILED_PARTS:
            doc.begin_array(key)
            for x in failures[kind]:
                doc.item({kind: {"id": x.id, parent: x.parent_id}, "error": x.error})
            doc.end_array()
        doc.value("metadata", metadata)
        doc.close()
    return path


def remove_failures(temp_dir: Path) -> None:
    (temp_dir / FAILED_CREATION).unlink(missing_ok=True)


def write_creation_stats(temp_dir: Path, stats: CreationStats) -> None:
    write_json(temp_dir / CREATION_STATS, stats)


# --------------------------------------------------------------------------- step 3, run, plan


def write_validation_results(temp_dir: Path, doc: ValidationResults) -> Path:
    path = temp_dir / VALIDATION_RESULTS
    write_json(path, doc)
    return path


def write_migration_stats(temp_dir: Path, stats: MigrationStats) -> None:
    write_json(temp_dir / MIGRATION_STATS, stats)


def write_impact(temp_dir: Path, doc: Impact) -> Path:
    path = temp_dir / IMPACT
    write_json(path, doc)
    return path


def _read_doc(temp_dir: Path, name: str) -> Any:
    return read_json(temp_dir / name, name, "re-run the step that writes it")


def read_creation_stats(temp_dir: Path) -> CreationStats:
    stats: CreationStats = _read_doc(temp_dir, CREATION_STATS)
    return stats


def read_validation_results(temp_dir: Path) -> ValidationResults:
    doc: ValidationResults = _read_doc(temp_dir, VALIDATION_RESULTS)
    return doc


def read_migration_stats(temp_dir: Path) -> MigrationStats:
    stats: MigrationStats = _read_doc(temp_dir, MIGRATION_STATS)
    return stats


def read_impact(temp_dir: Path) -> Impact:
    doc: Impact = _read_doc(temp_dir, IMPACT)
    return doc


def read_if_present(temp_dir: Path, name: str) -> Any | None:
    """A small document of the temp dir, or None when it is absent (the report shows what is at hand);
    a present but unreadable file is still an error."""
    return _read_doc(temp_dir, name) if (temp_dir / name).is_file() else None


def read_skipped_summary(temp_dir: Path) -> dict[str, Any] | None:
    """skipped-chats.json's ``summary`` (counts by reason), without reading its arrays; None if absent."""
    path = temp_dir / SKIPPED_CHATS
    if not path.is_file():
        return None
    try:
        summary = s.read_head(path, ("skipped_chats", "skipped_messages")).get("summary")
    except (OSError, ValueError) as exc:
        raise PhaseFileError(path, f"it cannot be read ({exc})", "re-run `chatmigrate extract`") from None
    return summary if isinstance(summary, dict) else None


# A processedMessages line as message_line writes it: created_at follows is_read. Content is
# JSON-escaped, so every '"' inside it has a backslash before it: ', "is_read": ' cannot occur in it.
_MONTH = re.compile(rb', "is_read": (?:true|false), "created_at": "(\d{4}-\d{2})')


def messages_by_month(temp_dir: Path) -> dict[str, int] | None:
    """Step 1's messages to migrate, counted by month of ``created_at`` (``YYYY-MM``), from
    chats-extracted.json: one regex pass over 4 MB blocks of whole lines (no JSON parsing
    of our own lines; a file in another layout is read element by element); None if absent."""
    path = temp_dir / CHATS_EXTRACTED
    if not path.is_file():
        return None
    months: Counter[bytes] = Counter()
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(b'  "processedMessages": ['):
                if line.rstrip().endswith((b"[]", b"[],")):
                    return {}
                break
        else:
            return _months_slowly(path)
        rest, done = b"", False
        while not done:
            block = fh.read(1 << 22)
            data = rest + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            part, rest = data[:cut], data[cut:]
            stop = (b"\n" + part).find(b"\n  ]")  # the array's end
            if stop >= 0 or not block:
                part, done = part[:stop] if stop >= 0 else part, True
            found = _MONTH.findall(part)
            if len(found) != part.count(b"\n"):  # not our layout: read it as JSON
                return _months_slowly(path)
            months.update(found)
    return {k.decode(): n for k, n in sorted(months.items())}


def _months_slowly(path: Path) -> dict[str, int]:
    months = Counter(str(x.get("created_at", ""))[:7] for x in s.iter_array(path, "processedMessages"))
    return dict(sorted(months.items()))


def write_report(temp_dir: Path, html_text: str) -> Path:
    """phase-6-report.html: one self-contained page (built by :mod:`.report`)."""
    path = temp_dir / REPORT
    with atomic_text(path) as fh:
        fh.write(html_text)
    return path


ROLLED_BACK = "rolled-back"
ROLLBACK_RECORD = "rollback.json"


def new_rollback_folder(temp_dir: Path, label: str) -> Path:
    """``rolled-back/<UTC timestamp>-<label>/`` in the temp dir, created 0700; refused if it exists or is a link."""
    name = f"{s.now_iso().replace('-', '').replace(':', '')[:15]}Z-{label}"
    try:
        return new_private_dir(temp_dir, ROLLED_BACK, name)
    except OSError as e:
        planted = isinstance(e, FileExistsError) or e.errno in (errno.ELOOP, errno.ENOTDIR)
        why = " (a folder, file or symbolic link is already there)" if planted else ""
        raise PhaseFileError(temp_dir / ROLLED_BACK / name,
                             f"cannot be created as a new private folder: {e.strerror or e}{why}",
                             "nothing was deleted; remove or rename that path (or fix the temp dir) and run "
                             "rollback again") from None


def move_phase_outputs(temp_dir: Path, folder: Path) -> list[str]:
    """Move this phase's output files into ``folder`` (rollback; atomic renames); returns the names moved.

    The Phase 1 / Phase 4 inputs stay, so a later extract and create in the same temp dir still work.
    """
    present = [name for name in PHASE_OUTPUTS if os.path.lexists(temp_dir / name)]
    move_names(temp_dir, present, folder.relative_to(temp_dir).parts)
    return present


def write_rollback_record(folder: Path, doc: dict[str, Any]) -> Path:
    """rollback.json beside the moved files: when, the run, the counts deleted / kept, the files moved."""
    path = folder / ROLLBACK_RECORD
    write_json(path, doc)
    return path


# --------------------------------------------------------------------------- chatmigrate images


def write_images_copied(temp_dir: Path, doc: dict[str, Any]) -> Path:
    """chat-images-copied.json: per image message_id, source_url, key, outcome, reason, bytes, md5; totals."""
    path = temp_dir / IMAGES_COPIED
    with atomic_text(path) as fh:
        out = s.StreamedDoc(fh)
        for name, value in doc.items():
            if name != "images":
                out.value(name, value)
        out.begin_array("images")
        for item in doc.get("images", []):
            out.item(item)
        out.end_array()
        out.close()
    return path


def read_images_copied(temp_dir: Path) -> dict[str, Any]:
    return read_json(temp_dir / IMAGES_COPIED, "the image copy report", "run `chatmigrate images` first")
