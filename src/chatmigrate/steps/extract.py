"""Step 1, extract: dump + Phase 1/4 files -> chats-extracted.json, skipped-chats.json.

Owns: writing both output files while the classified messages stream past (memory
holds the chats, never the messages), the plan's metadata and summary counts.

Does not own: reading and classifying the dump (``steps.classify``), the rules
(``phase6.rules``), the file shapes (``phase6.files``). No database.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from json.encoder import encode_basestring as js  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from ..phase6 import files as f
from ..phase6 import records as r
from ..phase6 import rules
from ..progress import NO_PROGRESS, Progress
from .classify import PhaseInputs, TableOrderChanged, classify_dump, load_phase_inputs

__all__ = ["ExtractResult", "PhaseInputs", "extract", "load_phase_inputs"]


@dataclass(slots=True)
class ExtractResult:
    metadata: dict[str, Any]
    chat_skips: Counter[str] = field(default_factory=Counter)
    message_skips: Counter[str] = field(default_factory=Counter)
    warnings: int = 0
    extracted_path: Path | None = None
    skipped_path: Path | None = None


def extract(
    dump: str,
    temp_dir: Path,
    *,
    source_tz: str | None = None,
    progress: Progress = NO_PROGRESS,
    allow_incomplete: bool = False,
    link: str = "strict",
) -> ExtractResult:
    """Run step 1. Raises ChatmigrateError (exit 2) on bad input; writes nothing then."""
    inputs = load_phase_inputs(temp_dir)
    try:
        return _extract(dump, temp_dir, inputs, source_tz, progress, allow_incomplete, link, single_pass=True)
    except TableOrderChanged:  # chats or bookings after messages: nothing was written; read twice
        return _extract(dump, temp_dir, inputs, source_tz, progress, allow_incomplete, link, single_pass=False)


def _extract(
    dump: str, temp_dir: Path, inputs: PhaseInputs, source_tz: str | None, progress: Progress,
    allow_incomplete: bool, link: str, *, single_pass: bool,
) -> ExtractResult:
    cl = classify_dump(dump, inputs, source_tz=source_tz, progress=progress, allow_incomplete=allow_incomplete,
                       single_pass=single_pass, link=link)
    per_part: Counter[tuple[str, str]] = Counter()  # (legacy chat, target chat) -> messages
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
            out.item({"id": c.id, "booking_id": c.booking_id, "created_at": c.created_at, "updated_at": c.updated_at,
                      "customer_id": c.customer_id, "stylist_id": c.stylist_id})
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
            per_part[(res.legacy_chat_id, m.chat_id)] += 1
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
            "alerts": rules.extraction_alerts(result.chat_skips, result.message_skips, cl.active_chats,
                                              processed_messages),
            "migrated_bookings_in_phase4": len(inputs.migrated),
            "source_timezone": source_tz or "UTC",
            "link_mode": link,
            "legacy_chats_linked": sum(1 for x in cl.chat_links if x.rule is not None),
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
    write_chat_links(temp_dir / f.CHAT_LINKS, cl.chat_links, per_part, link)
    return result


def write_chat_links(path: Path, decisions: list[Any], per_part: Counter[tuple[str, str]], link: str) -> None:
    """chat-links.json: for every legacy chat, how it was linked and where its messages went."""
    with f.atomic_text(path) as fh:
        doc = f.StreamedDoc(fh)
        doc.value("link_mode", link)
        doc.begin_array("chats")
        rules_used: Counter[str] = Counter()
        for d in decisions:
            rules_used[d.rule or "not linked"] += 1
            doc.item({
                "legacy_chat_id": d.legacy_id,
                "rule": d.rule,
                "targets": [{"chat_id": c, "booking_id": b, "messages": per_part.get((d.legacy_id, c), 0)}
                            for c, b in d.targets],
                **({"reason": d.reason} if d.reason else {}),
            })
        doc.end_array()
        doc.value("metadata", {"created_at": f.now_iso(), "legacy_chats": len(decisions), "by_rule": dict(rules_used)})
        doc.close()
