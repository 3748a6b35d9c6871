"""Database errors after connecting, as a user meets them: one sentence, exit 2, no password.

Every member of the ``DatabaseError`` family is provoked on the real PostgreSQL and met
through the CLI (``chatmigrate rollback --all --yes``, whose one transaction deletes
from media, chat_messages and chats): a role without privileges, a read-only
transaction, a lock held by a second connection (lock_timeout, statement_timeout), a
deadlock between two connections, a backend terminated with pg_terminate_backend, a
dropped column. Each ends with exit code 2, one ``error:`` line naming the problem and
what was committed, no traceback, and the password of the URL nowhere. Errors the
environment cannot cause (a syntax error) stay "unexpected ... report it", exit 1.

The SQLSTATE table is checked with errors the server itself raises (a statement-level
trigger ``RAISE``\\ s the code), so each code the family maps reaches the CLI for real.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import pgdb
from clirun import assert_no_leak, chatmigrate, one_error_line, start

pytestmark = pytest.mark.postgres
PASSWORD = "Pw s3cret/@:%?#!'ø"  # trust auth ignores it; it must still never be shown
ENCODED = quote(PASSWORD, safe="")


@pytest.fixture
def target() -> Iterator[pgdb.PgDatabase]:
    with pgdb.throwaway("h3err") as db:
        yield db


@pytest.fixture
def role(target: pgdb.PgDatabase) -> Iterator[str]:
    """A login role with no privileges at all on the target's tables."""
    name = f"h3_noperm_{secrets.token_hex(4)}"
    target.execute(f'CREATE ROLE "{name}" LOGIN')
    yield name
    pgdb.drop(target)  # the database first: it holds the role's default privileges
    with pgdb._admin() as admin:
        admin.execute(f'DROP ROLE IF EXISTS "{name}"')


def url(db: pgdb.PgDatabase, *, user: str = "postgres", **settings: str) -> str:
    options = " ".join(f"-c {k}={v}" for k, v in settings.items())
    query = f"?options={quote(options, safe='')}" if options else ""
    return f"postgresql://{user}:{ENCODED}@127.0.0.1:5432/{db.name}{query}"


def rollback_all(db_url: str, tmp: Path) -> tuple[int, str]:
    """``rollback --all --yes``; the exit code and its one error line (asserted to be one, secret-free)."""
    proc = chatmigrate("rollback", "--all", "--yes", "--temp-dir", str(tmp / "temp"), "--database-url", db_url,
                       cwd=tmp, timeout=60)
    line = one_error_line(proc.stdout, proc.stderr)
    for secret in (PASSWORD, ENCODED, "s3cret"):
        assert_no_leak(secret, {"stdout": proc.stdout, "stderr": proc.stderr}, tmp)
    return proc.returncode, line


def waiting_backend(db: pgdb.PgDatabase, timeout: float = 20) -> int:
    """The pid of chatmigrate's backend once it waits for a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [r for r in db.backends() if r[2] == "Lock"]
        if rows:
            return int(rows[0][0])
        time.sleep(0.05)
    raise AssertionError(f"chatmigrate never waited for the lock: {db.backends()}")


class Holder:
    """A second connection holding ACCESS EXCLUSIVE locks in an open transaction."""

    def __init__(self, db: pgdb.PgDatabase, *tables: str, deadlock_timeout: str = "1s") -> None:
        self.conn: Any = db.connect(autocommit=False)
        self.conn.execute(f"SET LOCAL deadlock_timeout = '{deadlock_timeout}'")
        for t in tables:
            self.lock(t)

    def lock(self, table: str) -> None:
        self.conn.execute(f"LOCK TABLE public.{table} IN ACCESS EXCLUSIVE MODE")

    def close(self) -> None:
        self.conn.rollback()
        self.conn.close()


# --------------------------------------------------------------------------- real causes


def test_a_role_without_privileges_is_refused_before_the_step_writes(target: pgdb.PgDatabase, role: str,
                                                                     tmp_path: Path) -> None:
    code, line = rollback_all(url(target, user=role), tmp_path)
    assert code == 2  # the preflight (postgres.preflight) finds it before any statement fails
    assert "refused before writing anything" in line and f"role {role}" in line and "BYPASSRLS" in line


def test_a_role_without_privileges_is_told_to_connect_as_the_owner(target: pgdb.PgDatabase, role: str,
                                                                    tmp_path: Path) -> None:
    # `schema` has no preflight: its CREATE TABLE meets the server's own permission error
    target.execute("DROP TABLE public.media")
    proc = chatmigrate("schema", "--database-url", url(target, user=role), cwd=tmp_path)
    line = one_error_line(proc.stdout, proc.stderr)
    assert proc.returncode == 2
    assert "permission denied" in line and "database owner" in line and f'role "{role}"' in line
    assert "SQLSTATE 42501" in line and "nothing was committed by the step that failed" in line


def test_a_read_only_transaction_is_told_to_connect_to_the_primary(target: pgdb.PgDatabase, tmp_path: Path) -> None:
    code, line = rollback_all(url(target, default_transaction_read_only="on"), tmp_path)
    assert code == 2
    assert "accepts no writes" in line and "primary" in line and "SQLSTATE 25006" in line


@pytest.mark.parametrize("setting, problem, sqlstate", [
    ("lock_timeout", "stayed locked by another session", "55P03"),
    ("statement_timeout", "cancelled a statement", "57014"),
], ids=["lock_timeout", "statement_timeout"])
def test_a_lock_held_too_long_names_the_timeout(target: pgdb.PgDatabase, tmp_path: Path, setting: str,
                                                 problem: str, sqlstate: str) -> None:
    holder = Holder(target, "media")
    try:
        code, line = rollback_all(url(target, **{setting: "300"}), tmp_path)
    finally:
        holder.close()
    assert code == 2
    assert problem in line and f"SQLSTATE {sqlstate}" in line and "re-run" in line


def test_a_deadlock_says_stop_the_writers_and_rerun(target: pgdb.PgDatabase, tmp_path: Path) -> None:
    # rollback locks its tables in one order (chats, chat_messages, media), so it gets
    # chats and waits for media, which the holder has; the holder then asks for chats:
    # a cycle, which rollback's deadlock check breaks.
    holder = Holder(target, "media", deadlock_timeout="60s")
    proc = start("rollback", "--all", "--yes", "--temp-dir", str(tmp_path / "temp"), "--database-url",
                 url(target, deadlock_timeout="2s"), cwd=tmp_path)
    try:
        waiting_backend(target)
        second = threading.Thread(target=holder.lock, args=("chats",))
        second.start()
        out, err = proc.communicate(timeout=60)
        second.join(timeout=60)
    finally:
        proc.kill()
        holder.close()
    line = one_error_line(out, err)
    assert proc.returncode == 2
    assert "deadlock" in line and "SQLSTATE 40P01" in line and "writers" in line
    assert_no_leak(PASSWORD, {"stdout": out, "stderr": err}, tmp_path)


def test_a_terminated_backend_is_a_lost_connection(target: pgdb.PgDatabase, tmp_path: Path) -> None:
    holder = Holder(target, "media")
    proc = start("rollback", "--all", "--yes", "--temp-dir", str(tmp_path / "temp"), "--database-url",
                 url(target), cwd=tmp_path)
    try:
        pid = waiting_backend(target)
        assert target.query("SELECT pg_terminate_backend(%s)", (pid,)) == [(True,)]
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        holder.close()
    line = one_error_line(out, err)
    assert proc.returncode == 2
    assert "connection to the target database was lost" in line and "chatmigrate validate" in line
    assert_no_leak(PASSWORD, {"stdout": out, "stderr": err}, tmp_path)


def test_a_dropped_column_is_schema_drift(target: pgdb.PgDatabase, tmp_path: Path) -> None:
    target.execute("ALTER TABLE public.media DROP COLUMN media_type")
    code, line = rollback_all(url(target), tmp_path)
    assert code == 2
    assert "differ from the schema chatmigrate expects" in line and "media_type" in line


# --------------------------------------------------------------------------- every SQLSTATE the family maps

RAISED = [  # (SQLSTATE the server raises, what the error line says)
    ("42501", "permission denied"),
    ("40P01", "deadlock"),
    ("40001", "serialization failure"),
    ("55P03", "stayed locked"),
    ("57014", "cancelled a statement"),
    ("57P01", "connection to the target database was lost"),
    ("08006", "connection to the target database was lost"),
    ("53100", "disk is full"),
    ("53200", "ran out of a resource"),
    ("53300", "ran out of a resource"),
    ("42P01", "differ from the schema"),
    ("42703", "differ from the schema"),
    ("42883", "differ from the schema"),
    ("25006", "accepts no writes"),
    ("23505", "rejected a row"),
    ("P0001", "rejected a row"),
]


def raise_on_delete(db: pgdb.PgDatabase, sqlstate: str, message: str = "raised by the test") -> None:
    db.execute(
        "CREATE OR REPLACE FUNCTION public.h3_fail() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION USING ERRCODE = TG_ARGV[0], MESSAGE = TG_ARGV[1]; END $$")
    db.execute("DROP TRIGGER IF EXISTS h3_fail ON public.media")
    literal = message.replace("'", "''").replace("%", "%%")  # a trigger argument is a literal, not a parameter
    db.execute(f"CREATE TRIGGER h3_fail BEFORE DELETE ON public.media FOR EACH STATEMENT "
               f"EXECUTE FUNCTION public.h3_fail('{sqlstate}', '{literal}')")


@pytest.mark.parametrize("sqlstate, says", RAISED, ids=[s for s, _ in RAISED])
def test_each_mapped_sqlstate_is_one_sentence_exit_2(target: pgdb.PgDatabase, tmp_path: Path,
                                                     sqlstate: str, says: str) -> None:
    raise_on_delete(target, sqlstate)
    code, line = rollback_all(url(target), tmp_path)
    assert code == 2, line
    assert says in line and f"SQLSTATE {sqlstate}" in line and "raised by the test" in line
    assert "unexpected" not in line and "report it" not in line


def test_row_level_security_is_told_apart_from_a_missing_grant(target: pgdb.PgDatabase, tmp_path: Path) -> None:
    raise_on_delete(target, "42501", 'new row violates row-level security policy for table "chats"')
    code, line = rollback_all(url(target), tmp_path)
    assert code == 2 and "row level security" in line and "BYPASSRLS" in line


def test_an_error_the_environment_cannot_cause_is_reported_as_a_bug(target: pgdb.PgDatabase, tmp_path: Path) -> None:
    raise_on_delete(target, "42601")  # syntax_error: chatmigrate wrote bad SQL
    code, line = rollback_all(url(target), tmp_path)
    assert code == 1
    assert line.startswith("error: unexpected SyntaxError") and "report it" in line


def test_a_server_message_quoting_the_password_is_scrubbed(target: pgdb.PgDatabase, tmp_path: Path) -> None:
    raise_on_delete(target, "53100", f"disk full near {PASSWORD} / {ENCODED}")
    code, line = rollback_all(url(target), tmp_path)
    assert code == 2 and "disk is full" in line and "***" in line


def test_row_level_security_on_insert_is_told_to_bypass_it(target: pgdb.PgDatabase, role: str,
                                                           tmp_path: Path) -> None:
    """A real RLS violation: step 2 as a role that may insert, into chats whose policy allows only SELECT."""
    from chatmigrate.postgres.db import seed_from_csv
    from chatmigrate.synth import generate

    w = generate(tmp_path / "world", messages=300)
    seed_from_csv(target.url, w.seed_dir)
    assert chatmigrate("extract", "--dump", str(w.dump), "--temp-dir", str(w.temp_dir), cwd=tmp_path).returncode == 0
    target.execute(f'GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
    for table in ("profiles", "bookings", "chat_messages", "media"):  # schema.sql enables RLS on all five
        target.execute(f"ALTER TABLE public.{table} DISABLE ROW LEVEL SECURITY")
    target.execute("CREATE POLICY h3_read ON public.chats FOR SELECT USING (true)")
    proc = chatmigrate("create", "--temp-dir", str(w.temp_dir), "--database-url", url(target, user=role),
                       cwd=tmp_path, timeout=120)
    line = one_error_line(proc.stdout, proc.stderr)
    assert proc.returncode == 2
    # refused by the preflight, before a statement could meet the policy
    assert "row level security" in line and "BYPASSRLS" in line and "refused before writing anything" in line
    assert target.counts() == {"chats": 0, "chat_messages": 0, "media": 0}
    assert_no_leak(PASSWORD, {"stdout": proc.stdout, "stderr": proc.stderr}, tmp_path)
