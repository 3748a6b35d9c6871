"""Every file of the plan's temp dir: its name, and the helpers, readers and writers of the ``planfiles*`` modules.

Owns: the name of every file of the temp dir (but a rollback's folder and record:
``planfiles_docs``); the helpers the ``planfiles*`` modules share (small documents
written indented and read back checked, ``now_iso``, ``success_rate``); and the inputs
of Phases 1 and 4 (``user-id-mapping.json``, ``bookings-created.json``): read and checked
here, and written as those phases write them (synthetic worlds). The other files' writers
and readers: ``planfiles_extracted`` (step 1's ``chats-extracted.json``,
``skipped-chats.json`` and ``chat-links.json``), ``planfiles_created`` (step 2's
``chats-created.json`` and ``failed-chats-creation.json``) and ``planfiles_docs`` (the
small documents: ``chat-creation-stats.json``, ``chat-validation-results.json``,
``phase-6-migration-stats.json``, ``phase-6-impact.json``; the HTML report
``phase-6-report.html``, its content :mod:`.report`'s; ``chatmigrate images``'
``chat-images-copied.json``; a rollback's ``rolled-back/<stamp>-<run>/rollback.json`` and
the move of this phase's files beside it). Steps hand typed records and TypedDict
documents to those writers and get typed records back from the readers; no module but
the ``planfiles*`` ones formats or parses these files. The names of theirs that tests
reach through this module are importable here too (looked up on first use: they import
this module).

The large arrays (``processedMessages``, ``skipped_messages``, ``created_messages``) are
written one element per line and read back line by line (:mod:`.jsonstream`), so a million
messages never sit in memory. A record line is written from the record's attributes
by name and read back into the record type by its field names (``itemgetter`` over
``_fields``), so reordering a record's fields cannot mix values. Every file is written
atomically and owner-only (:mod:`.safewrite`).

Does not own: what goes into the files (rules, steps), any database work.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Collection, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from . import jsonstream as s
from .errors import PhaseFileError as PhaseFileError  # defined with every error; importable here
from .phase6 import kinds as k  # noqa: F401 (tests reach the kinds as planfiles.k)
from .phase6 import records as r
from .phase6.compact import id_map, id_set, trim
from .phase6.docs import CreationStats as CreationStats  # the documents' shapes, re-exported
from .phase6.docs import ExtractMetadata as ExtractMetadata
from .phase6.docs import Impact as Impact
from .phase6.docs import MigrationStats as MigrationStats
from .phase6.docs import ValidationResults as ValidationResults
from .phase6.records import CreatedChat as CreatedChat  # step 2's manifest rows
from .phase6.records import CreatedMedia as CreatedMedia
from .phase6.records import CreatedMessage as CreatedMessage
from .phase6.records import CreatedRows as CreatedRows
from .phase6.records import NulWarning as NulWarning
from .safewrite import atomic_text

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
    trim(mapping)
    return PhaseInputs(mapping, migrated, total)


def _migrated(results: Iterable[Any]) -> Collection[str]:
    ids = id_set()
    for x in results:
        if isinstance(x, dict) and x.get("success") is True and x.get("id"):
            ids[str(x["id"]).strip().lower()] = True
    trim(ids)
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
    trim(ids)
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


# --------------------------------------------------------------------------- moved, importable here too

# The names of the other planfiles* modules that tests and benchmarks reach as planfiles.NAME.
# Those modules import this one, so these are looked up on first use (PEP 562), not imported
# here; the code in src imports them from their own modules (mypy sees no re-export here).
_ELSEWHERE = {
    **dict.fromkeys(("ExtractedWriter", "message_line", "messages_by_month", "read_extracted",
                     "read_extracted_metadata", "read_skipped_summary", "write_chat_links"), "planfiles_extracted"),
    **dict.fromkeys(("read_created_ids", "read_created_run", "write_created", "write_failures"), "planfiles_created"),
    **dict.fromkeys(("ROLLBACK_RECORD", "ROLLED_BACK", "read_creation_stats", "read_images_copied", "read_impact",
                     "read_migration_stats", "read_validation_results", "write_impact", "write_migration_stats"),
                    "planfiles_docs"),
}

if not TYPE_CHECKING:
    def __getattr__(name: str) -> Any:
        module = _ELSEWHERE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)
