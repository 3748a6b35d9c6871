"""Step 1, extract: dump + Phase 1/4 files -> step 1's files (planfiles.ExtractedWriter).

Owns: driving the writers of both output files while the classified messages stream
past (memory holds the chats, never the messages), the plan's metadata and summary
counts, and chat-links.json.

Does not own: reading and classifying the dump (``steps.classify``), the rules
(``phase6.rules``), the file shapes (``planfiles``). No database.
"""

from __future__ import annotations

import os
from collections import ChainMap, Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from .. import planfiles as pf
from .. import planfiles_extracted as pfe
from ..dump.engine import choose as choose_engine
from ..phase6 import records as r
from ..phase6 import rules
from ..phase6.compact import Spool, count_map
from ..phase6.kinds import LinkMode
from ..progress import NO_PROGRESS, Progress
from .classify import Classified, PhaseInputs, load_phase_inputs, over_dump
from .modes import Mode, resolve
from .options import Step1Options

__all__ = ["ExtractResult", "PhaseInputs", "extract", "load_phase_inputs"]


@dataclass(slots=True)
class ExtractResult:
    metadata: pf.ExtractMetadata
    chat_skips: Counter[str] = field(default_factory=Counter)
    message_skips: Counter[str] = field(default_factory=Counter)
    warnings: int = 0
    extracted_path: Path | None = None
    skipped_path: Path | None = None
    mode: Mode = field(default_factory=lambda: Mode("strict", "default"))


def extract(
    dump: str,
    temp_dir: Path,
    *,
    source_tz: str | None = None,
    progress: Progress = NO_PROGRESS,
    allow_incomplete: bool = False,
    link: LinkMode | Mode | None = None,
) -> ExtractResult:
    """Run step 1. Raises ChatmigrateError (exit 2) on bad input; writes nothing then.

    ``link``: a mode already resolved against the target (``run``), a ``--link`` value
    (source "option"), or None (strict, the plan's rule: source "default").
    """
    mode = link if isinstance(link, Mode) else resolve(link, None)
    options = Step1Options(source_tz, mode.link, allow_incomplete, progress)
    inputs = load_phase_inputs(temp_dir)
    return over_dump(dump, inputs, options, lambda cl: _extract(dump, temp_dir, inputs, options, cl, mode))


_chat_id = attrgetter("chat_id")
_role = attrgetter("sender_role")


def _extract(dump: str, temp_dir: Path, inputs: PhaseInputs, options: Step1Options, cl: Classified,
             mode: Mode) -> ExtractResult:
    # messages per target chat: by its id where it is its legacy chat (compact: phase6.compact),
    # else by (legacy chat, target chat) (recover mode's divided and merged chats)
    per_chat = count_map()
    per_part: Counter[tuple[str, str]] = Counter()
    processed_chats, chat_skips = cl.processed_chats, cl.chat_skips
    chat_reasons: Counter[str] = Counter(s.reason for s in chat_skips)
    message_reasons: Counter[str] = Counter()
    images: Spool[r.PlannedMedia] = Spool(r.PlannedMedia._make)  # spooled: only iterated, by finish()
    warnings: Spool[pf.NulWarning] = Spool(pf.NulWarning._make)
    senders: Counter[str] = Counter()
    total_messages = processed_messages = 0
    with pfe.ExtractedWriter(temp_dir, pf.now_iso()) as out:
        out.chats(processed_chats, chat_skips)
        write_messages, write_skips = out.messages, out.skipped_messages
        outcome = rules.MessageOutcome
        for batch in cl.message_batches():  # one INSERT's rows at a time, counted column by column
            total_messages += len(batch)
            done: list[rules.MessageOutcome] = [x for x in batch if x.__class__ is outcome]
            if len(done) != len(batch):
                skips = [x for x in batch if x.__class__ is not outcome]
                message_reasons.update([x.reason for x in skips])  # type: ignore[union-attr]
                write_skips(skips)  # type: ignore[arg-type]
            if not done:
                continue
            processed_messages += len(done)
            msgs, media, nuls, _urls, legacy_ids = zip(*done, strict=True)
            for (legacy, chat), n in Counter(zip(legacy_ids, map(_chat_id, msgs), strict=True)).items():
                if legacy == chat:
                    per_chat[chat] = per_chat.get(chat, 0) + n
                else:
                    per_part[legacy, chat] += n
            senders.update(map(_role, msgs))
            write_messages(msgs)
            images.extend(filter(None, media))
            if any(nuls):
                warnings.extend(pf.NulWarning(m.id, n) for m, n in zip(msgs, nuls, strict=True) if n)
        skipped_messages = total_messages - processed_messages
        metadata: pf.ExtractMetadata = {
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
            "skip_reasons": {"chats": dict(chat_reasons), "messages": dict(message_reasons)},
            "warnings": len(warnings),
            "alerts": rules.extraction_alerts(chat_reasons, message_reasons, cl.active_chats, processed_messages,
                                              link=options.link, processed_chats=len(processed_chats)),
            "migrated_bookings_in_phase4": len(inputs.migrated),
            "source_timezone": options.source_tz or "UTC",
            "link_mode": options.link,
            "link_mode_source": mode.source,
            "legacy_chats_linked": sum(1 for x in cl.chat_links if x.rule is not None),
            "dump": os.path.abspath(dump),
            "dump_reader": choose_engine(),
        }
        out.finish(images, warnings, metadata)
    parts: ChainMap[Any, int] = ChainMap(per_chat, dict(per_part))  # a plain dict: a Counter gives 0 for any key
    pfe.write_chat_links(temp_dir, cl.chat_links, parts, options.link)
    return ExtractResult(metadata, chat_reasons, message_reasons, len(warnings), out.extracted_path,
                         out.skipped_path, mode)
