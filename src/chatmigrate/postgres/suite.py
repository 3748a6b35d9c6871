"""The test plan's SQL validation suite, run read-only against the target.

Owns: running the plan's checks (:data:`CHECKS`, in plan order, and on the later schema
:data:`PARTICIPANT_CHECKS`: :func:`checks_for`) -- :func:`run_suite`, each in its own
savepoint, so one failing query is an ``ERROR`` result and the others still run; which
checks apply to a target (:func:`applies`: on the later schema, chats keyed by
customer_id and stylist_id, the plan's booking-keyed checks are "not applicable" and the
participants' checks ask the same questions); turning their results into verdicts
(``PASSED`` / ``WARNING`` / ``FAILED``, ``INFO`` for figures-only reports) and JSON
values; and printing them as one psql script (:func:`suite_sql`: for one chat schema, or
both variants behind psql's ``\\if``).

Does not own: the SQL texts (``suite_integrity``, ``suite_business``: the plan's, with a
note wherever they differ from it) and the catalogue of checks (``suite_checks``; its
``Check``, ``CHECKS`` and ``PARTICIPANT_CHECKS`` are importable here too); the per-row
reconciliation against the dump (``postgres.checks``: missing, mismatched and orphaned
rows, and the real per-image media check), opening the read-only transaction (the
caller), deciding ``is_valid`` (``steps.validate``). Never writes.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from .suite_checks import CHECKS as CHECKS  # the catalogue, importable here (run_suite reads CHECKS here)
from .suite_checks import PARTICIPANT_CHECKS as PARTICIPANT_CHECKS
from .suite_checks import Check as Check

VERDICTS = ("PASSED", "WARNING", "FAILED")


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    status: str  # "PASSED" | "WARNING" | "FAILED" | "INFO" | "ERROR"
    columns: list[str]
    rows: list[list[Any]]  # JSON-serialisable
    detail: str  # one line with the key figures


def checks_for(chat_schema: str) -> tuple[Check, ...]:
    """The plan's checks, then, on the participants schema, the participant checks."""
    return CHECKS + PARTICIPANT_CHECKS if chat_schema == "participants" else CHECKS


# Step 2's bare queries: the verdict when they return anything but no rows / a 0 count.
_ON_VIOLATION = {
    "step2_duplicate_booking_chats": "FAILED",
    "step2_orphaned_chats": "FAILED",
    "step2_orphaned_messages": "FAILED",
    "step2_chat_timestamps": "FAILED",
    "step2_messages_before_chat": "WARNING",  # as Step 3's Message Timeline Validation
}

# Label columns repeat the title: left out of the one-line detail.
_LABELS = frozenset({"validation_check", "report_type", "validation_report", "status", "overall_status"})
_DETAIL_ROWS = 5


def applies(check: Check, chat_schema: str) -> bool:
    """The plan's queries join chats to bookings; the later schema's chats have no booking_id."""
    return chat_schema == "booking" or "booking_id" not in check.sql


def run_suite(conn: psycopg.Connection[Any], chat_schema: str = "booking") -> list[CheckResult]:
    """Run every check on ``conn`` (the caller's read-only transaction), each in a savepoint."""
    return [run_check(conn, check, chat_schema) for check in checks_for(chat_schema)]


def run_check(conn: psycopg.Connection[Any], check: Check, chat_schema: str = "booking") -> CheckResult:
    """Run one check on ``conn`` (the caller's read-only transaction) in a savepoint: a query
    that fails is an ``ERROR`` result and the transaction goes on."""
    if not applies(check, chat_schema):
        return CheckResult(check, "INFO", [], [], "not applicable: the target's chats are keyed by customer and stylist")
    try:
        with conn.transaction():
            cur = conn.execute(check.sql)  # no params: '%' stays literal
            columns = [d.name for d in cur.description or ()]
            rows = [[_jsonable(v) for v in row] for row in cur.fetchall()]
    except psycopg.Error as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        return CheckResult(check, "ERROR", [], [], f"{type(exc).__name__}: {message}")
    return CheckResult(check, _verdict(check, columns, rows), columns, rows, _detail(columns, rows))


def overall(results: Iterable[CheckResult]) -> str:
    statuses = {r.status for r in results}
    if statuses & {"FAILED", "ERROR"}:
        return "FAILED"
    return "WARNING" if "WARNING" in statuses else "PASSED"


_SCHEMA_LABELS = {
    "booking": "chats keyed by booking (chats.booking_id): the plan's schema",
    "participants": "chats keyed by customer and stylist (chats.customer_id, chats.stylist_id)",
}


def _variant(chat_schema: str) -> list[str]:
    parts = []
    for check in checks_for(chat_schema):
        parts.append("")
        parts.append(f"-- {check.section}: {check.title}")
        if not applies(check, chat_schema):
            parts.append("-- not applicable: the target's chats have no booking_id (every chat's customer and "
                         "stylist are checked row by row by `chatmigrate validate`)")
            continue
        if check.note:
            parts.extend(textwrap.wrap(f"Note: {check.note}", 96, initial_indent="-- ", subsequent_indent="--   "))
        parts.append(check.sql + ";")
    return parts


def suite_sql(chat_schema: str | None = None) -> str:
    """The whole suite as one psql script (read-only session), for ``chatmigrate validate --sql``.

    ``chat_schema`` "booking" or "participants": the variant for that target. None: both,
    labelled, behind psql's ``\\if`` on whether ``public.chats`` has ``booking_id``, so the
    script runs without an error on either schema.
    """
    parts = [
        "-- chatmigrate: the Phase 6 test plan's SQL validation suite (read-only).",
        "-- Run with: psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -f this-file",
        "SET default_transaction_read_only = on;",
    ]
    if chat_schema is not None:
        parts.append(f"-- variant: {_SCHEMA_LABELS[chat_schema]}")
        return "\n".join([*parts, *_variant(chat_schema)]) + "\n"
    parts += [
        "-- Two variants, one per chats schema; psql runs the one that fits the target",
        "-- (`chatmigrate validate --sql --database-url URL` prints only that one).",
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public'",
        "  AND table_name = 'chats' AND column_name = 'booking_id') AS chatmigrate_booking_schema \\gset",
        "\\if :chatmigrate_booking_schema",
        f"-- ===== variant: {_SCHEMA_LABELS['booking']}",
        *_variant("booking"),
        "\\else",
        f"-- ===== variant: {_SCHEMA_LABELS['participants']}",
        *_variant("participants"),
        "\\endif",
    ]
    return "\n".join(parts) + "\n"


def _verdict(check: Check, columns: list[str], rows: list[list[Any]]) -> str:
    if check.kind == "report":
        return "INFO"
    if "status" in columns:
        if not rows:
            return "FAILED"
        text = str(rows[0][columns.index("status")] or "")
        return next((v for v in VERDICTS if text.startswith(v)), "FAILED")
    if "overall_status" in columns:
        ok = bool(rows) and str(rows[0][columns.index("overall_status")] or "").startswith("✅")
        return "PASSED" if ok else "FAILED"
    # Step 2: "Should be 0" / "Should return no rows"
    clean = not rows or rows == [[0]]
    return "PASSED" if clean else _ON_VIOLATION.get(check.id, "FAILED")


def _detail(columns: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "no rows"

    def one(row: list[Any]) -> str:
        return " ".join(f"{c}={_fmt(v)}" for c, v in zip(columns, row, strict=True) if c not in _LABELS)

    if len(rows) == 1:
        return one(rows[0])
    shown = "; ".join(one(r) for r in rows[:_DETAIL_ROWS])
    more = f"; ... {len(rows) - _DETAIL_ROWS} more" if len(rows) > _DETAIL_ROWS else ""
    return f"{len(rows)} rows: {shown}{more}"


def _fmt(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)  # timedelta, ranges, enums loaded as objects, ...
