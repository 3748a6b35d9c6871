"""The plan's SQL validation suite (``chatmigrate.postgres.suite``) against a real PostgreSQL.

One throw-away database per module (``cm_suite_<random>`` on 127.0.0.1:5432, user
postgres, or as ``tests/pgdb.py`` is told by the environment), the target schema, and a tiny consistent dataset: 2 customers, 2 stylists,
5 bookings, 4 chats, 7 messages from both roles, one image message (content ``''``) with
its ``chat_image`` media row. On it every check runs without ERROR and the suite passes.
Each breakage is then applied inside the test's transaction (DDL included), the
transaction is switched to READ ONLY, the suite runs, and everything is rolled back: the
named checks change their status, every other check keeps its status.

Skips without a reachable server -- except on CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from chatmigrate.postgres import suite
from pgdb import HOST, PORT, USER

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.postgres

T0 = datetime(2024, 3, 10, 10, 0, tzinfo=UTC)

C1, C2, S1, S2 = (uuid.uuid4() for _ in range(4))
B_DONE1, B_CONF, B_DONE2, B_PEND, B_CANC = (uuid.uuid4() for _ in range(5))
CH1, CH2, CH3, CH4 = (uuid.uuid4() for _ in range(4))
M = [uuid.uuid4() for _ in range(7)]
IMAGE_MSG = M[2]
IMAGE_MEDIA = uuid.uuid4()

PEOPLE = [(C1, "customer", "Kari"), (C2, "customer", "Ola"), (S1, "stylist", "Siri"), (S2, "stylist", "Stian")]
BOOKINGS = [  # id, customer, stylist, status, days after T0
    (B_DONE1, C1, S1, "completed", 0),
    (B_CONF, C2, S2, "confirmed", 1),
    (B_DONE2, C1, S2, "completed", 30),
    (B_PEND, C2, S1, "pending", 31),
    (B_CANC, C1, S1, "cancelled", 32),  # no chat
]
CHATS = [(CH1, B_DONE1, 0), (CH2, B_CONF, 1), (CH3, B_DONE2, 30), (CH4, B_PEND, 31)]
MESSAGES = [  # id, chat, sender, content, is_read, minutes after the chat
    (M[0], CH1, C1, "Hei! Har du tid fredag?", True, 5),
    (M[1], CH1, S1, "Hei, ja ;) kl. 14 passer", True, 10),
    (M[2], CH1, C1, "", False, 12),  # image-only message
    (M[3], CH2, C2, "Takk for sist 💇", True, 1),
    (M[4], CH2, S2, "Velkommen igjen!", False, 3),
    (M[5], CH3, S2, "Husk å ta med bildet", False, 2),
    (M[6], CH4, C2, "Kan vi flytte timen?", False, 7),
]


def _connect(dbname: str = "postgres", **kw: Any) -> Any:
    return psycopg.connect(host=HOST, port=PORT, user=USER, dbname=dbname, connect_timeout=5, **kw)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required on CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def _seed(conn: Any) -> None:
    schema = resources.files("chatmigrate.postgres").joinpath("schema.sql").read_text(encoding="utf-8")
    conn.execute(schema)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO auth.users (id, email) VALUES (%s, %s)",
                        [(pid, f"{name.lower()}@example.no") for pid, _, name in PEOPLE])
        cur.executemany("INSERT INTO profiles (id, role, full_name, email) VALUES (%s, %s, %s, %s)",
                        [(pid, role, name, f"{name.lower()}@example.no") for pid, role, name in PEOPLE])
        cur.executemany(
            "INSERT INTO bookings (id, customer_id, stylist_id, start_time, end_time, status, total_price,"
            " total_duration_minutes, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(bid, cust, sty, T0 + timedelta(days=d, hours=4), T0 + timedelta(days=d, hours=5), status,
              "650.00", 60, T0 + timedelta(days=d), T0 + timedelta(days=d))
             for bid, cust, sty, status, d in BOOKINGS])
        cur.executemany("INSERT INTO chats (id, booking_id, created_at, updated_at) VALUES (%s, %s, %s, %s)",
                        [(cid, bid, T0 + timedelta(days=d), T0 + timedelta(days=d, hours=1)) for cid, bid, d in CHATS])
        chat_day = {cid: d for cid, _, d in CHATS}
        cur.executemany(
            "INSERT INTO chat_messages (id, chat_id, sender_id, content, is_read, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(mid, cid, sender, content, read, T0 + timedelta(days=chat_day[cid], minutes=mins))
             for mid, cid, sender, content, read, mins in MESSAGES])
        cur.executemany(
            "INSERT INTO media (id, owner_id, file_path, media_type, chat_message_id) VALUES (%s, %s, %s, %s, %s)",
            [(IMAGE_MEDIA, C1, f"{CH1}/{IMAGE_MSG}/3f2a.jpeg", "chat_image", IMAGE_MSG),
             (uuid.uuid4(), S1, f"avatars/{S1}.png", "avatar", None)])  # not a chat medium


@pytest.fixture(scope="module")
def dbname() -> Iterator[str]:
    try:
        admin = _connect(autocommit=True)
    except psycopg.Error as exc:
        _unavailable(" ".join(str(exc).split()))
    name = f"cm_suite_{secrets.token_hex(4)}"
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        with _connect(name, autocommit=True) as conn:
            _seed(conn)
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def conn(dbname: str) -> Iterator[Any]:
    with _connect(dbname) as c:
        yield c
        c.rollback()


def run_read_only(conn: Any, *breakage: str) -> dict[str, suite.CheckResult]:
    """Apply ``breakage`` in the open transaction, make it READ ONLY, run the suite."""
    for statement in breakage:
        conn.execute(statement)
    conn.execute("SET TRANSACTION READ ONLY")
    return {r.check.id: r for r in suite.run_suite(conn)}


@pytest.fixture(scope="module")
def baseline(dbname: str) -> dict[str, suite.CheckResult]:
    with _connect(dbname) as c:
        c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")  # as steps.validate does
        results = suite.run_suite(c)
        c.rollback()
    return {r.check.id: r for r in results}


# ---------------------------------------------------------------------------- structure


def test_checks_are_well_formed() -> None:
    ids = [c.id for c in suite.CHECKS]
    assert len(ids) == len(set(ids))
    assert {c.kind for c in suite.CHECKS} <= {"check", "report"}
    sections = list(dict.fromkeys(c.section for c in suite.CHECKS))
    assert sections[0] == "Step 2: Database Validation"
    assert [s.split(".")[0] for s in sections[1:9]] == [str(n) for n in range(1, 9)]
    assert sections[9:] == ["Post-migration: Business Validation"]
    assert sum(c.section == sections[-1] for c in suite.CHECKS) == 3
    for c in suite.CHECKS:
        assert c.title and c.sql.strip() and not c.sql.rstrip().endswith(";")
    noted = {c.id for c in suite.CHECKS if c.note}
    assert {"final_summary", "image_message_media", "messages_per_chat"} <= noted


@pytest.mark.parametrize(("statuses", "expected"), [
    ([], "PASSED"),
    (["PASSED", "INFO"], "PASSED"),
    (["PASSED", "WARNING", "INFO"], "WARNING"),
    (["WARNING", "FAILED"], "FAILED"),
    (["PASSED", "ERROR"], "FAILED"),
])
def test_overall(statuses: list[str], expected: str) -> None:
    check = suite.CHECKS[0]
    assert suite.overall([suite.CheckResult(check, s, [], [], "") for s in statuses]) == expected


def test_suite_sql_contains_every_check() -> None:
    text = suite.suite_sql()
    for c in suite.CHECKS:
        assert c.sql + ";" in text
        assert f"-- {c.section}: {c.title}\n" in text
    assert text.count(";\n") >= len(suite.CHECKS)


# ---------------------------------------------------------------------------- consistent data


def test_consistent_data_passes(baseline: dict[str, suite.CheckResult]) -> None:
    assert list(baseline) == [c.id for c in suite.CHECKS]
    errors = {k: r.detail for k, r in baseline.items() if r.status == "ERROR"}
    assert errors == {}
    for r in baseline.values():
        assert r.status == ("INFO" if r.check.kind == "report" else "PASSED"), (r.check.id, r.detail)
        assert r.detail
    assert suite.overall(baseline.values()) == "PASSED"
    json.dumps([{"columns": r.columns, "rows": r.rows} for r in baseline.values()])  # serialisable


@pytest.mark.parametrize(("check_id", "columns", "rows"), [
    ("chat_record_count", ["validation_check", "postgres_count"], [["Chat Record Count", 4]]),
    ("message_record_count", ["validation_check", "postgres_count"], [["Message Record Count", 7]]),
    ("step2_duplicate_booking_chats", ["booking_id", "chat_count"], []),
    ("image_message_media", None, [["Image Message Media Validation", 1, 1, "PASSED ✅"]]),
    ("sender_role_distribution", None,
     [["Sender Role Distribution", "customer", 4, 57.14], ["Sender Role Distribution", "stylist", 3, 42.86]]),
    ("messages_per_chat", None, [["Messages Per Chat Distribution", 4, 7, 1.75, 1, 3]]),
    ("media_type_distribution", None, [["Media Type Distribution", "chat_image", 1]]),
    ("chat_coverage_completed", None, [[2, 2, 100.0]]),
    ("completed_bookings_without_chat", ["count"], [[0]]),
    ("final_summary", None, [["FINAL VALIDATION SUMMARY", "✅ MIGRATION SUCCESSFUL - All validations passed",
                              4, 7, 4, 0, 0]]),
])
def test_consistent_figures(baseline: dict[str, suite.CheckResult], check_id: str,
                            columns: list[str] | None, rows: list[list[Any]]) -> None:
    r = baseline[check_id]
    if columns is not None:
        assert r.columns == columns
    assert r.rows == rows


def test_values_are_converted_to_json_types(baseline: dict[str, suite.CheckResult]) -> None:
    months = baseline["chat_activity_over_time"]
    assert months.columns == ["month", "chat_count", "unique_bookings"]
    assert months.rows == [["2024-04-01T00:00:00+00:00", 2, 2], ["2024-03-01T00:00:00+00:00", 2, 2]]
    assert baseline["orphaned_chats"].detail == "orphaned_count=0"
    assert baseline["step2_duplicate_booking_chats"].detail == "no rows"
    assert baseline["message_read_status"].detail.startswith("2 rows: is_read=True count=3")


# ---------------------------------------------------------------------------- breakages

BREAKAGES = [
    pytest.param(
        [f"UPDATE chat_messages SET created_at = '{T0 - timedelta(hours=1)}' WHERE id = '{M[0]}'"],
        {"message_timeline": "WARNING", "step2_messages_before_chat": "WARNING"}, "WARNING",
        id="message-before-its-chat"),
    pytest.param(
        ["DELETE FROM chats"],  # cascades to messages and media
        {"final_summary": "FAILED", "sender_consistency": "WARNING"}, "FAILED",
        id="no-chats"),
    # A missing media row cannot be seen from the target alone (an image-only message and an
    # empty text look alike); the row-level reconciliation reports it as missing_media.
    pytest.param(
        [f"INSERT INTO media (file_path, media_type, chat_message_id) VALUES ('dup.jpeg', 'chat_image', '{IMAGE_MSG}')"],
        {"image_message_media": "WARNING"}, "WARNING",
        id="two-media-rows-for-one-image"),
    pytest.param(
        ["ALTER TABLE chats DISABLE TRIGGER chats_set_updated_at",
         f"UPDATE chats SET updated_at = created_at - interval '1 minute' WHERE id = '{CH2}'"],
        {"chat_timeline": "FAILED", "step2_chat_timestamps": "FAILED"}, "FAILED",
        id="chat-updated-before-created"),
    pytest.param(
        [f"DELETE FROM chat_messages WHERE sender_id IN ('{S1}', '{S2}')"],
        {"sender_consistency": "WARNING"}, "WARNING",
        id="stylists-never-answer"),
    pytest.param(
        ["ALTER TABLE chats DROP CONSTRAINT chats_booking_id_key",
         f"INSERT INTO chats (booking_id, created_at, updated_at) VALUES ('{B_DONE1}', '{T0}', '{T0}')"],
        {"unique_chat_booking": "FAILED", "step2_duplicate_booking_chats": "FAILED"}, "FAILED",
        id="two-chats-one-booking"),
    pytest.param(
        ["ALTER TABLE chats DROP CONSTRAINT chats_booking_id_fkey",
         f"INSERT INTO chats (booking_id, created_at, updated_at) VALUES ('{uuid.uuid4()}', '{T0}', '{T0}')"],
        {"orphaned_chats": "FAILED", "step2_orphaned_chats": "FAILED",
         "chat_booking_relationships": "FAILED", "final_summary": "FAILED"}, "FAILED",
        id="chat-without-booking"),
    pytest.param(
        ["ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_chat_id_fkey",
         "INSERT INTO chat_messages (chat_id, sender_id, content, created_at)"
         f" VALUES ('{uuid.uuid4()}', '{C1}', 'hallo?', '{T0}')"],
        {"orphaned_messages": "FAILED", "step2_orphaned_messages": "FAILED",
         "message_chat_relationships": "FAILED", "final_summary": "FAILED"}, "FAILED",
        id="message-without-chat"),
    pytest.param(
        ["ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_sender_id_fkey",
         f"UPDATE chat_messages SET sender_id = '{uuid.uuid4()}' WHERE id = '{M[3]}'"],
        {"message_sender_validation": "FAILED"}, "FAILED",
        id="unknown-sender"),
]


@pytest.mark.parametrize(("breakage", "changed", "verdict"), BREAKAGES)
def test_breakage_changes_exactly_the_named_checks(
    conn: Any, baseline: dict[str, suite.CheckResult],
    breakage: list[str], changed: dict[str, str], verdict: str,
) -> None:
    results = run_read_only(conn, *breakage)
    got = {k: r.status for k, r in results.items() if r.status != baseline[k].status}
    assert got == changed, {k: results[k].detail for k in got.keys() | changed.keys()}
    assert suite.overall(results.values()) == verdict


def test_failing_query_is_an_error_and_the_rest_still_run(conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = suite.Check("bad", "test", "Broken", "SELECT no_such_column FROM chats", "check")
    write = suite.Check("write", "test", "Writes", "DELETE FROM chat_messages", "check")
    monkeypatch.setattr(suite, "CHECKS", (bad, write, *suite.CHECKS))
    results = run_read_only(conn)
    assert [r.status for r in results.values()][:2] == ["ERROR", "ERROR"]
    assert "no_such_column" in results["bad"].detail
    assert "read-only transaction" in results["write"].detail
    assert all(r.status in ("PASSED", "INFO") for r in list(results.values())[2:])
    assert results["message_record_count"].rows == [["Message Record Count", 7]]  # nothing was deleted
    assert suite.overall(results.values()) == "FAILED"


def test_suite_sql_runs_in_psql(dbname: str, tmp_path: Path) -> None:
    psql = shutil.which("psql")
    if psql is None:
        _unavailable("psql is not installed")
    script = tmp_path / "suite.sql"
    script.write_text(suite.suite_sql(), encoding="utf-8")
    proc = subprocess.run(
        [psql, "-X", "-h", HOST, "-p", str(PORT), "-U", USER, "-d", dbname, "-v", "ON_ERROR_STOP=1", "-f", str(script)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "ERROR" not in proc.stderr
    assert "FINAL VALIDATION SUMMARY" in proc.stdout and "MIGRATION SUCCESSFUL" in proc.stdout


def _psql(dbname: str, script_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    psql = shutil.which("psql")
    if psql is None:
        _unavailable("psql is not installed")
    script = tmp_path / "suite.sql"
    script.write_text(script_text, encoding="utf-8")
    return subprocess.run(
        [psql, "-X", "-h", HOST, "-p", str(PORT), "-U", USER, "-d", dbname, "-v", "ON_ERROR_STOP=1", "-f", str(script)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )


@pytest.mark.parametrize("variant", [None, "booking"])
def test_the_booking_variant_and_the_combined_script_run_in_psql_on_the_booking_schema(
        dbname: str, tmp_path: Path, variant: str | None) -> None:
    proc = _psql(dbname, suite.suite_sql(variant), tmp_path)
    assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stderr
    assert "MIGRATION SUCCESSFUL" in proc.stdout


@pytest.mark.postgres
@pytest.mark.parametrize("variant", [None, "participants"])
def test_the_participants_variant_runs_in_psql_without_an_error(tmp_path: Path, variant: str | None) -> None:
    from chatmigrate.postgres.db import create_schema
    from pgdb import throwaway

    with throwaway("suite_pairs", schema=False) as db:
        create_schema(db.url, "participants")
        proc = _psql(db.name, suite.suite_sql(variant), tmp_path)
        assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stderr
        assert "booking_id" not in proc.stderr
        assert "Message Timeline Validation" in proc.stdout  # the checks that apply did run
        assert "Unique Chat-Participants Relationship" in proc.stdout  # and the participants' own
        assert "FINAL VALIDATION SUMMARY" in proc.stdout and "MIGRATION ISSUES DETECTED" in proc.stdout  # empty


def test_the_participants_variant_leaves_out_exactly_the_booking_keyed_checks() -> None:
    text = suite.suite_sql("participants")
    for c in suite.CHECKS:
        assert (c.sql + ";" in text) == suite.applies(c, "participants"), c.id
    for c in suite.PARTICIPANT_CHECKS:
        assert c.sql + ";" in text and c.sql + ";" not in suite.suite_sql("booking")
    assert "booking_id" not in "\n".join(line for line in text.splitlines() if not line.startswith("--"))


@pytest.mark.postgres
def test_validate_sql_prints_the_targets_variant(tmp_path: Path) -> None:
    from chatmigrate.postgres.db import create_schema
    from clirun import chatmigrate
    from pgdb import throwaway

    with throwaway("suite_cli", schema=False) as db:
        create_schema(db.url, "participants")
        p = chatmigrate("validate", "--sql", "--database-url", db.url, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert p.stdout == suite.suite_sql("participants")
    p = chatmigrate("validate", "--sql", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == suite.suite_sql(None)


@pytest.mark.parametrize(("breakage", "failed"), [
    ([], set()),
    (["ALTER TABLE chats DROP CONSTRAINT chats_customer_id_stylist_id_key",
      "INSERT INTO chats (customer_id, stylist_id) SELECT customer_id, stylist_id FROM chats LIMIT 1"],
     {"unique_chat_participants"}),
    (["ALTER TABLE chats DROP CONSTRAINT chats_customer_id_fkey",
      "INSERT INTO chats (customer_id, stylist_id) SELECT gen_random_uuid(), stylist_id FROM chats LIMIT 1"],
     {"orphaned_chat_participants", "final_summary_participants"}),
], ids=["consistent", "two-chats-one-pair", "customer-not-a-profile"])
def test_the_participant_checks_find_what_they_name(tmp_path: Path, breakage: list[str], failed: set[str]) -> None:
    from chatmigrate.postgres.db import create_schema, seed_from_csv
    from chatmigrate.steps.run import run
    from chatmigrate.synth import generate
    from pgdb import throwaway
    from synthfiles import fresh_temp_dir

    world = generate(tmp_path / "w", messages=300, seed=2)
    with throwaway("suite_pair_checks", schema=False) as db:
        create_schema(db.url, "participants")
        seed_from_csv(db.url, world.seed_dir)
        assert run(str(world.dump), fresh_temp_dir(world, tmp_path), db.url).success
        for statement in breakage:
            db.execute(statement)
        with db.connect(autocommit=False) as c:
            c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            results = {r.check.id: r for r in suite.run_suite(c, "participants")}
        assert {k for k, r in results.items() if r.status in ("FAILED", "ERROR")} == failed
        assert {k: r.status for k, r in results.items() if k in {c.id for c in suite.PARTICIPANT_CHECKS}
                and k not in failed} == {c.id: "PASSED" for c in suite.PARTICIPANT_CHECKS if c.id not in failed}
