"""``plan``: the Business Impact Assessment the plan asks for, before anything is written.

Owns: applying step 1 to the dump under each link mode and counting, side by side,
what would migrate, what would be skipped and why, which customers and stylists would
lose conversation history, and the list of conversations still lost with the reason.
With a target URL it reads only the target's chat schema (nothing else, nothing written)
and shows first the mode ``run`` would use there (``steps.modes``), then the others
that target can take; without one, strict, recover and participants. Writes
``phase-6-impact.json`` (and the report).

Does not own: the rules (``phase6``), reading the dump (``steps.classify``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .. import planfiles as pf
from .. import planfiles_docs as pfd
from ..phase6 import records as r
from ..phase6.docs import ModeImpact
from ..phase6.kinds import ChatSchema, LinkMode, chat_schema
from ..progress import NO_PROGRESS, Progress
from ..report import write_report
from .classify import Classified, load_phase_inputs, over_dump
from .modes import plan_order, resolve
from .options import Step1Options


def target_chat_schema(url: str) -> ChatSchema:
    """The target's chat schema: the one thing ``plan`` reads from the database."""
    from ..postgres import db

    with db.connect(url) as conn:
        db.require_tables(conn, url)
        return chat_schema(db.chat_schema(conn))


def _one_mode(cl: Classified) -> ModeImpact:
    migrated = 0
    skipped: Counter[str] = Counter()
    per_chat: Counter[str] = Counter()  # legacy chat -> its messages
    for res in cl.messages():
        if isinstance(res, r.Skip):
            skipped[res.reason] += 1
            if res.parent_id:
                per_chat[res.parent_id] += 1
        else:
            migrated += 1
            per_chat[res.legacy_chat_id] += 1
    lost: list[dict[str, Any]] = []
    for d in cl.chat_links:
        if d.rule is None and per_chat.get(d.legacy_id):
            buyer, stylist = cl.people.get(d.legacy_id, (None, None))
            lost.append({"legacy_chat_id": d.legacy_id, "buyer_id": buyer, "stylist_id": stylist,
                         "messages": per_chat[d.legacy_id], "reason": d.reason})
    return {
        "legacy_chats": cl.total_chats,
        "legacy_chats_migrating": sum(1 for d in cl.chat_links if d.rule is not None),
        "target_chats": len(cl.processed_chats),
        "messages_migrating": migrated,
        "chats_skipped": dict(Counter(s.reason for s in cl.chat_skips)),
        "messages_skipped": dict(skipped),
        "linked_by_rule": dict(Counter(d.rule for d in cl.chat_links if d.rule is not None)),
        "customers_losing_history": len({x["buyer_id"] for x in lost if x["buyer_id"]}),
        "stylists_losing_history": len({x["stylist_id"] for x in lost if x["stylist_id"]}),
        "conversations_lost": len(lost),
        "messages_in_lost_conversations": sum(x["messages"] for x in lost),
        "lost_conversations": sorted(lost, key=lambda x: -x["messages"]),
    }


def plan(dump: str, temp_dir: Path, *, url: str | None = None, link: LinkMode | None = None,
         source_tz: str | None = None, progress: Progress = NO_PROGRESS) -> pf.Impact:
    """The link modes side by side, the one ``run`` would use first; writes phase-6-impact.json
    and returns its content. ``url``: read the target's chat schema (a ``link`` it cannot
    honour is refused, as ``run`` refuses it); ``link``: the ``--link`` run would be given."""
    inputs = load_phase_inputs(temp_dir)
    schema = target_chat_schema(url) if url else None
    if url:
        from ..postgres.db import redact

        mode = resolve(link, schema, redact(url))
    else:
        mode = resolve(link, None)
    doc: pf.Impact = {"planned_at": pf.now_iso(), "run_mode": mode.link, "run_mode_source": mode.source,
                      "chat_schema": schema, "modes": {}}
    options = Step1Options(source_tz, progress=progress)
    for each in plan_order(mode):
        doc["modes"][each] = over_dump(dump, inputs, options.with_link(each), _one_mode, keep_people=True)
    doc["path"] = str(pfd.write_impact(temp_dir, doc))
    write_report(temp_dir)  # phase-6-report.html: the impact, with whatever else the folder holds
    return doc
