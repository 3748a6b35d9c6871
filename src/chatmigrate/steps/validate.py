"""Step 3, validate: the dump, step 1's file and the target -> chat-validation-results.json.

Owns: re-deriving the expected rows from the dump itself (the same rules, applied
again: a changed dump or an edited step 1 file shows up), comparing them
with step 1's recorded counts, driving the row-level reconciliation and the plan's SQL
suite in one read-only snapshot on two connections (both take the plan's SQL checks, so
both cores work to the end), its progress step by step, deciding ``is_valid``, and writing
the results file.

``is_valid`` is true only when nothing processed is missing, nothing is orphaned, no
sender, chat, booking, content, read-status or timestamp differs, every image message
has its media row, and the role could see every row. Intentionally skipped rows are
reported with their reasons, never as missing. After go-live, what the app changed since
the migration (``postgres.checks``: told by the ledger) is reported under
``changed_since_migration``: messages read (false -> true) and messages the app added do
not make the migration invalid; content changes still do, and their error says so.
Every capped id list has its complete ``*_total`` and ``*_truncated``.

Does not own: SQL (``postgres.checks``, ``postgres.suite``), printing (``cli``).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .. import planfiles as pf
from .. import planfiles_docs as pfd
from .. import planfiles_extracted as pfe
from ..phase6 import records as r
from ..phase6 import rules
from ..phase6.compact import Spool
from ..phase6.kinds import COUNTED_ONLY, FAILING_VERDICTS, FINDINGS, ChatSchema, LinkMode, chat_schema
from ..postgres import checks, db, suite
from ..postgres.suite_checks import Check
from ..progress import NO_PROGRESS, Progress
from ..report import write_report
from .classify import Classified, load_phase_inputs, over_dump
from .modes import resolve
from .options import Step1Options
from .validate_images import image_fields

if TYPE_CHECKING:
    from ..storage.target import StorageConfig

MAX_LISTED = 10_000  # ids listed per finding in the JSON; each list's *_total is always complete
LISTED: tuple[str, ...] = ("missing_chats", "missing_messages", "orphaned_chats", "orphaned_messages",
                           "message_sender_mismatches", "message_content_mismatches", "missing_media")


@dataclass(slots=True)
class ValidateResult:
    is_valid: bool
    doc: pf.ValidationResults
    suite: list[suite.CheckResult]
    path: Path


class _Checking:
    """Step 3's check on two connections sharing one snapshot, and its progress.

    The reconciliation runs on the staging connection (its temp tables are there), the plan's
    SQL checks on a second connection, in a thread; when the reconciliation is done, its
    connection takes SQL checks too, so both cores work to the end. Progress is one labelled
    task per change of what the two connections are doing, counting the steps done of all.
    """

    def __init__(self, url: str, snapshot: str, chat_schema: ChatSchema, progress: Progress) -> None:
        self.url, self.snapshot, self.chat_schema, self.progress = url, snapshot, chat_schema, progress
        todo = suite.checks_for(chat_schema)
        self.pending: deque[tuple[int, Check]] = deque(enumerate(todo))
        self.results: list[suite.CheckResult | None] = [None] * len(todo)
        self.total = len(checks.STEPS) + len(todo)
        self.done = 0
        self.active: dict[str, str] = {}  # connection -> what it does
        self.shown: str | None = None
        self.lock = threading.Lock()
        self.stop = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="chatmigrate-sql-suite", daemon=True)

    def step(self, worker: str, label: str | None) -> None:
        """``worker`` finished what it did (if anything) and begins ``label`` (None: nothing)."""
        with self.lock:
            if worker in self.active:
                self.done += 1
                del self.active[worker]
            if label is not None:
                self.active[worker] = label
            shown = "; ".join(dict.fromkeys(self.active[w] for w in ("reconcile", "suite") if w in self.active))
            if shown and shown != self.shown:
                if self.shown is not None:
                    self.progress.finish()
                self.progress.start(f"checking {shown}", self.total, "checks")
                self.shown = shown
            self.progress.update(self.done)

    def suite_checks(self, conn: Any, worker: str) -> None:
        """Run SQL checks on ``conn`` until none is left."""
        while True:
            with self.lock:
                if self.stop or not self.pending:
                    break
                i, check = self.pending.popleft()
            self.step(worker, f"the plan's SQL checks, {check.section}")
            self.results[i] = suite.run_check(conn, check, self.chat_schema)
        self.step(worker, None)

    def _work(self) -> None:
        try:
            with db.connect(self.url) as conn:
                checks.use_snapshot(conn, self.snapshot)
                self.suite_checks(conn, "suite")
                conn.rollback()
        except BaseException as exc:  # re-raised in the caller's thread
            self.error = exc
            self.stop = True

    def __enter__(self) -> _Checking:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.stop = True
        self.thread.join()
        if self.shown is not None:
            self.progress.finish()
        if self.error is not None and exc[0] is None:
            raise self.error

    def suite_results(self) -> list[suite.CheckResult]:
        assert all(x is not None for x in self.results)
        return cast(list[suite.CheckResult], self.results)


@dataclass(slots=True)
class Expected:
    """The expected rows of one dump, staged on an open connection, awaiting the check."""

    conn: Any
    dump: str
    temp_dir: Path
    url: str
    schema: ChatSchema
    extracted_meta: pf.ExtractMetadata | None
    total_chats: int
    chat_skips: Sequence[r.Skip]
    msg_skips: Counter[str]
    total_messages: int
    prepared: checks.Prepared

    def close(self) -> None:
        self.conn.close()


def validate(
    dump: str,
    temp_dir: Path,
    url: str,
    *,
    source_tz: str | None = None,
    progress: Progress = NO_PROGRESS,
    max_listed: int = MAX_LISTED,
    storage: StorageConfig | None = None,
) -> ValidateResult:
    """Run step 3: stage what the target should hold, then check it; then phase-6-report.html.
    With ``storage``, the run's chat images are checked there too (``validate_images``)."""
    res = check(stage(dump, temp_dir, url, source_tz=source_tz, progress=progress), max_listed=max_listed,
                storage=storage, progress=progress)
    write_report(temp_dir)
    return res


class Cancelled(Exception):
    """Internal: the staging was told to stop (the step beside it failed)."""


def stage(dump: str, temp_dir: Path, url: str, *, source_tz: str | None = None,
          progress: Progress = NO_PROGRESS, cancel: threading.Event | None = None) -> Expected:
    """First half of step 3: the dump through the rules into temp tables. Reads no target
    table, so ``run`` does it while step 2 loads; ``cancel`` stops it early. The caller owns
    the returned connection."""
    inputs = load_phase_inputs(temp_dir)
    conn = db.connect(url, autocommit=True)
    try:
        db.require_tables(conn, url)
        schema = chat_schema(db.chat_schema(conn))
        extracted_meta = pfe.read_extracted_metadata(temp_dir)
        # step 1's mode; without its file, the one run would use on this target
        link: LinkMode = extracted_meta["link_mode"] if extracted_meta else resolve(None, schema).link
        options = Step1Options(source_tz or (extracted_meta.get("source_timezone") if extracted_meta else None), link,
                               progress=progress)
        return over_dump(dump, inputs, options,
                         lambda cl: _stage(conn, schema, dump, temp_dir, url, extracted_meta, cl, cancel))
    except BaseException:
        conn.close()
        raise


def _stage(conn: Any, schema: ChatSchema, dump: str, temp_dir: Path, url: str,
           extracted_meta: pf.ExtractMetadata | None, cl: Classified, cancel: threading.Event | None) -> Expected:
    msg_skips: Counter[str] = Counter()
    expected_media: Spool[r.PlannedMedia] = Spool(r.PlannedMedia._make)  # spooled: only iterated
    totals = {"messages": 0}

    def messages() -> Iterator[r.TargetMessage]:
        outcome = rules.MessageOutcome
        for batch in cl.message_batches():  # one INSERT's rows at a time
            totals["messages"] += len(batch)
            if cancel is not None and cancel.is_set():
                raise Cancelled
            done: list[rules.MessageOutcome] = [x for x in batch if x.__class__ is outcome]
            if len(done) != len(batch):
                msg_skips.update([x.reason for x in batch if x.__class__ is not outcome])  # type: ignore[union-attr]
            if done:
                msgs, media, *_ = zip(*done, strict=True)
                expected_media.extend(filter(None, media))
                yield from msgs

    checks.create_expected_tables(conn)
    # media are staged after the messages, whose stream fills expected_media
    checks.stage_expected(conn, cl.processed_chats, messages(), expected_media)
    if cancel is not None and cancel.is_set():
        raise Cancelled
    prepared = checks.prepare_expected(conn)  # the planner's statistics, the legacy data's facts: off the check's path
    return Expected(conn, dump, temp_dir, url, schema, extracted_meta, cl.total_chats, cl.chat_skips,
                    msg_skips, totals["messages"], prepared)


def check(expected: Expected, *, max_listed: int = MAX_LISTED, storage: StorageConfig | None = None,
          progress: Progress = NO_PROGRESS) -> ValidateResult:
    """Second half of step 3: one read-only snapshot of the target against the staged rows,
    the plan's SQL suite alongside on a second connection sharing the snapshot."""
    errors: list[str] = []
    conn, url, schema = expected.conn, expected.url, expected.schema
    try:
        checks.begin_read_only(conn)
        with _Checking(url, checks.export_snapshot(conn), schema, progress) as work:
            rec = checks.reconcile(conn, schema, lambda label: work.step("reconcile", label), expected.prepared)
            work.suite_checks(conn, "reconcile")  # then, on this connection too, the SQL checks left
        results = work.suite_results()
        conn.rollback()
    finally:
        expected.close()
    extracted_meta, temp_dir = expected.extracted_meta, expected.temp_dir
    totals = {"messages": expected.total_messages}
    msg_skips = expected.msg_skips

    fnd = rec.findings
    processed_messages = rec.expected_messages
    if extracted_meta:
        for key, now in (("processed_chats", rec.expected_chats), ("processed_messages", processed_messages),
                         ("total_mysql_chats", expected.total_chats), ("total_mysql_messages", totals["messages"])):
            if extracted_meta.get(key) != now:
                errors.append(f"{pf.CHATS_EXTRACTED} says {key} = {extracted_meta.get(key)} but the dump gives {now}: "
                              "the dump or the file changed since step 1; re-run extract and create")
    if not rec.sees_all_rows:
        errors.append("the connected role is subject to row level security and may not see every row: "
                      "validate as the database owner (postgres) or a role with BYPASSRLS")
    changed = set(rec.changed.get("messages_changed", ()))
    for finding in FINDINGS:
        if fnd.get(finding.key):
            line = f"{len(fnd[finding.key]):,} {finding.label}"
            edited = sum(1 for x in fnd[finding.key] if (x if isinstance(x, str) else x[0]) in changed)
            if edited and finding.key.startswith("message_"):
                line += (f" ({edited:,} of them changed in the target since the migration finished at "
                         f"{rec.since}: by the app, not by chatmigrate; still not what the dump holds)")
            errors.append(line)
    link = extracted_meta["link_mode"] if extracted_meta else resolve(None, schema).link
    if rec.expected_chats == 0 and expected.total_chats:
        errors.insert(0, nothing_migrated(link))
    results = [_legacy_timeline(x, rec.legacy_before_chat) for x in results]
    failed_checks = [x for x in results if x.status in FAILING_VERDICTS]
    for x in failed_checks:
        errors.append(f"SQL check '{x.check.title}' {x.status}: {x.detail}")
    stored, image_errors = image_fields(temp_dir, url, storage, max_listed)
    errors.extend(image_errors)
    is_valid = rec.ok and not errors

    def listed(key: str) -> list[Any]:
        return fnd.get(key, [])[:max_listed]

    def total(key: str) -> int:
        return len(fnd.get(key, []))

    doc: pf.ValidationResults = {
        "validated_at": pf.now_iso(),
        "is_valid": is_valid,
        "total_mysql_chats": expected.total_chats,
        "total_mysql_messages": totals["messages"],
        "total_pg_chats": rec.total_pg_chats,
        "total_pg_messages": rec.total_pg_messages,
        "expected_chats": rec.expected_chats,
        "expected_messages": rec.expected_messages,
        "expected_media": rec.expected_media,
        "missing_chats": listed("missing_chats"),
        "missing_messages": listed("missing_messages"),
        "orphaned_chats": listed("orphaned_chats"),
        "orphaned_messages": listed("orphaned_messages"),
        "chat_booking_mismatches": len(fnd.get("chat_booking_mismatches", [])),
        "message_sender_mismatches": [
            {"message_id": a, "expected_sender": b, "actual_sender": c}
            for a, b, c in listed("message_sender_mismatches")
        ],
        "message_content_mismatches": listed("message_content_mismatches"),
        "missing_media": listed("missing_media"),
        "missing_chats_total": total("missing_chats"),
        "missing_chats_truncated": total("missing_chats") > max_listed,
        "missing_messages_total": total("missing_messages"),
        "missing_messages_truncated": total("missing_messages") > max_listed,
        "orphaned_chats_total": total("orphaned_chats"),
        "orphaned_chats_truncated": total("orphaned_chats") > max_listed,
        "orphaned_messages_total": total("orphaned_messages"),
        "orphaned_messages_truncated": total("orphaned_messages") > max_listed,
        "message_sender_mismatches_total": total("message_sender_mismatches"),
        "message_sender_mismatches_truncated": total("message_sender_mismatches") > max_listed,
        "message_content_mismatches_total": total("message_content_mismatches"),
        "message_content_mismatches_truncated": total("message_content_mismatches") > max_listed,
        "missing_media_total": total("missing_media"),
        "missing_media_truncated": total("missing_media") > max_listed,
        "max_listed": max_listed,
        "other_mismatches": {k: len(fnd.get(k, [])) for k in COUNTED_ONLY},
        "changed_since_migration": {
            "since": rec.since,
            **{k: len(v) for k, v in rec.changed.items()},  # type: ignore[typeddict-item]
        },
        "legacy_messages_before_chat": rec.legacy_before_chat[:max_listed],
        "legacy_messages_before_chat_total": len(rec.legacy_before_chat),
        "legacy_messages_before_chat_truncated": len(rec.legacy_before_chat) > max_listed,
        "intentionally_skipped": {
            "chats": len(expected.chat_skips),
            "messages": sum(msg_skips.values()),
            "reasons": {"chats": dict(Counter(s.reason for s in expected.chat_skips)), "messages": dict(msg_skips)},
        },
        "sql_checks": [
            {"id": x.check.id, "section": x.check.section, "title": x.check.title, "status": x.status,
             "detail": x.detail, "columns": x.columns, "rows": x.rows}
            for x in results
        ],
        "sql_suite_status": suite.overall(results),
        "validation_errors": errors,
    }
    cast(dict[str, Any], doc).update(stored)  # the image fields (NotRequired in ValidationResults)
    path = pfd.write_validation_results(temp_dir, doc)
    return ValidateResult(is_valid, doc, results, path)


def nothing_migrated(link: str) -> str:
    """The first validation error when the dump's chats gave no chat to migrate: why, and what next."""
    advice = {
        "strict": "the plan's rule needs a chat's own booking_id; run `chatmigrate plan` to compare the link modes "
                  "and `chatmigrate run --link recover` to link chats through booking.chat_id and their buyer and "
                  "stylist",
        "recover": "no chat links to a booking Phase 4 migrated; check bookings-created.json and `chatmigrate plan`",
        "participants": "no chat has both its buyer and stylist in user-id-mapping.json; check Phase 1's mapping",
    }.get(link, "run `chatmigrate plan` to compare the link modes")
    return f"0 chats were migrated with --link {link} (so the SQL checks below that need rows fail): {advice}"


SHOWN_IDS = 3
_TIMELINE_CHECKS = ("message_timeline", "step2_messages_before_chat")


def _legacy_timeline(x: suite.CheckResult, legacy: list[str]) -> suite.CheckResult:
    """A 'messages created before their chat' warning, with the ids and whose fact it is."""
    if x.check.id not in _TIMELINE_CHECKS or x.status != "WARNING" or not legacy:
        return x
    shown = ", ".join(legacy[:SHOWN_IDS]) + (f" and {len(legacy) - SHOWN_IDS:,} more" if len(legacy) > SHOWN_IDS
                                              else "")
    return replace(x, detail=f"{x.detail}; {len(legacy):,} message(s) are dated before their chat in the legacy "
                             f"data itself ({shown}; all under legacy_messages_before_chat): a fact of the dump, "
                             "kept as it is, not a migration error")
