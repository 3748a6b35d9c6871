"""What the report shows, gathered from the temp dir's JSON documents (through ``planfiles``).

Owns: reading the documents that are present (a missing one leaves its sections "not at
hand", never guessed), the verdict and its rating, the source → migrated / skipped /
failed figures, the per-step times and rows per second, and the link mode. Pure data:
no HTML here (``report.page``), no database, no dump.

Does not own: the documents' shapes (``phase6.docs``), reading files (``planfiles``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import planfiles as pf
from .. import planfiles_docs as pfd
from .. import planfiles_extracted as pfe
from ..phase6.kinds import FAILING_VERDICTS

Doc = dict[str, Any] | None
Rating = Literal["pass", "pass with warnings", "fail", "not validated"]
RATING_MEANING: dict[Rating, str] = {
    "pass": "every row checked, every SQL check passed, no row failed, no alert",
    "pass with warnings": "is_valid: true, but a SQL check warned, a row failed or an alert was raised",
    "fail": "is_valid: false: the validation found problems (listed below)",
    "not validated": "no validation results in this folder yet: run `chatmigrate validate` or `run`",
}


@dataclass(frozen=True, slots=True)
class Flow:
    """One kind of row from the dump to the target: every source row is in exactly one bucket."""

    kind: str  # "chats" / "messages"
    source: int
    migrated: int
    skipped: dict[str, int]  # by reason
    failed: int
    migrated_from: str  # which file the migrated figure comes from
    created: bool = True  # False: step 1's figure (to migrate), step 2 has not run here

    @property
    def migrated_label(self) -> str:
        return "migrated" if self.created else "to migrate (not created yet)"

    @property
    def unaccounted(self) -> int:
        return self.source - self.migrated - sum(self.skipped.values()) - self.failed


@dataclass(frozen=True, slots=True)
class StepTime:
    step: str
    seconds: float
    rows: int | None
    rows_what: str

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.rows is not None and self.seconds > 0 else None


@dataclass(slots=True)
class Facts:
    temp_dir: Path
    written: dict[str, str] = field(default_factory=dict)  # source file -> its own timestamp
    is_valid: bool | None = None
    rating: Rating = "not validated"
    rating_why: list[str] = field(default_factory=list)
    link_mode: str | None = None
    flows: list[Flow] = field(default_factory=list)
    months: dict[str, int] | None = None
    sql_checks: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    validation_errors: list[str] = field(default_factory=list)
    steps: list[StepTime] = field(default_factory=list)
    impact: pf.Impact | None = None
    run_success: bool | None = None


def _stamp(doc: Any, *keys: str) -> str:
    for k in keys:
        if isinstance(doc, dict) and isinstance(doc.get(k), str):
            return str(doc[k])
    return "present"


def gather(temp_dir: Path) -> Facts:
    """Everything the report shows, from the documents present in ``temp_dir``."""
    f = Facts(temp_dir)
    # read as plain dicts: a document written by an older version may lack a key (shown as "—")
    stats: Doc = pfd.read_if_present(temp_dir, pf.MIGRATION_STATS)
    results: Doc = pfd.read_if_present(temp_dir, pf.VALIDATION_RESULTS)
    creation: Doc = pfd.read_if_present(temp_dir, pf.CREATION_STATS)
    meta: Doc = pfe.read_extracted_metadata(temp_dir)  # type: ignore[assignment]
    skipped = pfe.read_skipped_summary(temp_dir)
    f.impact = pfd.read_if_present(temp_dir, pf.IMPACT)
    for name, doc, keys in ((pf.MIGRATION_STATS, stats, ("completed_at",)),
                            (pf.VALIDATION_RESULTS, results, ("validated_at",)),
                            (pf.CREATION_STATS, creation, ("completed_at",)),
                            (pf.CHATS_EXTRACTED, meta, ()), (pf.SKIPPED_CHATS, skipped, ()),
                            (pf.IMPACT, f.impact, ("planned_at",))):
        if doc is not None:
            f.written[name] = _stamp(doc, *keys)
    f.link_mode = (stats or {}).get("link_mode") or (meta or {}).get("link_mode")
    f.run_success = stats.get("success") if stats else None
    if meta:
        f.alerts = list(meta.get("alerts", []))
        f.months = pfe.messages_by_month(temp_dir)
    if results:
        f.is_valid = bool(results["is_valid"])
        f.sql_checks = list(results.get("sql_checks", []))
        f.validation_errors = list(results.get("validation_errors", []))
    f.flows = _flows(meta, skipped, creation, results)
    f.steps = _steps(stats, creation, meta, results)
    f.rating, f.rating_why = _rating(f, creation)
    return f


def _flows(meta: Doc, skipped: Doc, creation: Doc, results: Doc) -> list[Flow]:
    source = meta or results
    if source is None:
        return []
    reasons: dict[str, Any] = (skipped or {}).get("reasons") or (meta or {}).get("skip_reasons") or (
        results["intentionally_skipped"]["reasons"] if results else {})
    flows = []
    for kind in ("chats", "messages"):
        total = int(source[f"total_mysql_{kind}"])
        if creation is not None:
            migrated = int(creation[f"successfully_created_{kind}"]) + int(creation[f"already_present_{kind}"])
            failed = int(creation[f"failed_{kind[:-1]}_creations"])
            origin = pf.CREATION_STATS
        else:
            migrated = int(meta[f"processed_{kind}"]) if meta else 0
            failed, origin = 0, f"{pf.CHATS_EXTRACTED} (step 1: no {pf.CREATION_STATS} here yet)"
        flows.append(Flow(kind, total, migrated, {str(k): int(v) for k, v in reasons.get(kind, {}).items()},
                          failed, origin, creation is not None))
    if meta is not None and flows[0].source != flows[0].migrated + sum(flows[0].skipped.values()) + flows[0].failed:
        # in recover / participants mode legacy chats merge or divide: the chat flow counts target chats
        c = flows[0]
        flows[0] = Flow("chats", c.source, c.migrated, c.skipped, c.failed,
                        c.migrated_from + f"; {meta['legacy_chats_linked']:,} legacy chats linked", c.created)
    return flows


def _steps(stats: Doc, creation: Doc, meta: Doc, results: Doc) -> list[StepTime]:
    steps: dict[str, Any] = (stats or {}).get("steps", {})
    out = []
    ex = steps.get("extraction")
    if ex and "duration_seconds" in ex:
        out.append(StepTime("extract", float(ex["duration_seconds"]), ex.get("total_mysql_messages"),
                            "messages read from the dump"))
    cr = steps.get("creation") or creation
    if cr and "duration_seconds" in cr:
        written: int = sum(int(cr.get(f"successfully_created_{k}", 0)) for k in ("chats", "messages", "media"))
        out.append(StepTime("create", float(cr["duration_seconds"]), written, "rows inserted"))
    va = steps.get("validation")
    if va and "duration_seconds" in va:
        checked = results["expected_messages"] if results else None
        out.append(StepTime("validate (beside create)", float(va["duration_seconds"]), checked,
                            "messages checked"))
    if stats and "duration_seconds" in stats:
        out.append(StepTime("run, in all", float(stats["duration_seconds"]),
                            meta["total_mysql_messages"] if meta else None, "dump messages"))
    return out


def _rating(f: Facts, creation: Doc) -> tuple[Rating, list[str]]:
    """The rating, and why it is not "pass"."""
    if f.is_valid is None:
        return "not validated", []
    failing = [x for x in f.sql_checks if x.get("status") in FAILING_VERDICTS]
    if not f.is_valid or failing:
        return "fail", [f"{len(f.validation_errors):,} validation errors"] if f.validation_errors else []
    why = []
    failed = sum(x.failed for x in f.flows) + (int(creation["failed_media_creations"]) if creation else 0)
    if failed:
        why.append(f"{failed:,} rows failed in step 2")
    if f.alerts:
        why.append(f"{len(f.alerts):,} alerts from step 1")
    warned = sum(1 for x in f.sql_checks if x.get("status") == "WARNING")
    if warned:
        why.append(f"{warned:,} SQL checks warned")
    return ("pass with warnings" if why else "pass"), why
