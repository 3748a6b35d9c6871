"""The error hierarchy: every class in errors.py, exit codes by kind, what was committed.

- Every exception class under ``src/chatmigrate`` is defined in ``errors.py``, except the
  private control-flow ones listed here (never shown to a user).
- Names stay importable where they were (``steps.create.ThresholdExceeded``, ...).
- Exit codes: 1 "the migration ran and found problems", 2 everything the user must fix
  first (input, usage, the environment: files, the database's permissions, locks, disk).
- A database error's sentence ends with what was committed; a step that has committed
  sets ``committed`` and the sentence says so instead.
- ``db.database_errors`` translates a real server error and lets a bug's error through.
"""

from __future__ import annotations

import ast
import gzip
from pathlib import Path

import pytest

import pgdb
from chatmigrate import errors as e
from clirun import chatmigrate, one_error_line

SRC = Path(__file__).resolve().parents[1] / "src" / "chatmigrate"
PRIVATE = {  # control flow inside one module, caught there, never shown
    ("dump/tokens.py", "BadText"),
    ("dump/source.py", "SourceDamaged"),  # raised by the input, turned into a DumpError by the reader
    ("steps/classify.py", "TableOrderChanged"),
    ("steps/validate.py", "Cancelled"),
}


def exception_classes() -> set[tuple[str, str]]:
    """(module path, class name) of every class whose base is named like an exception."""
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(b) for b in node.bases]
                if any(b.endswith(("Error", "Exception", "Interrupt", "Exceeded")) for b in bases):
                    found.add((path.relative_to(SRC).as_posix(), node.name))
    return found


def test_every_exception_class_is_defined_in_errors_py() -> None:
    elsewhere = {c for c in exception_classes() if c[0] != "errors.py"}
    assert elsewhere == PRIVATE, f"define these in errors.py: {sorted(elsewhere - PRIVATE)}"


@pytest.mark.parametrize("module, name", [
    ("chatmigrate.steps.create", "ThresholdExceeded"),
    ("chatmigrate.planfiles", "PhaseFileError"),
    ("chatmigrate.postgres.db", "TargetError"),
])
def test_moved_classes_are_importable_from_their_old_modules(module: str, name: str) -> None:
    mod = __import__(module, fromlist=[name])
    assert getattr(mod, name) is getattr(e, name)


DB_FAMILY = [e.PermissionDenied, e.RowSecurityDenied, e.TransactionConflict, e.LockTimeout, e.StatementCanceled,
             e.ConnectionLost, e.DiskFull, e.ServerOutOfResources, e.SchemaDrift, e.ReadOnlyTarget,
             e.TargetRejectedRow]
EXIT_CODES = [
    (e.UsageError, 2), (e.PhaseFileError, 2), (e.TargetError, 2), (e.DumpError, 2), (e.TruncatedDumpError, 2),
    (e.DatabaseError, 2), *[(cls, 2) for cls in DB_FAMILY],
    (e.ThresholdExceeded, 1),
]


@pytest.mark.parametrize("cls, code", EXIT_CODES, ids=[c.__name__ for c, _ in EXIT_CODES])
def test_exit_code_by_kind(cls: type[e.ChatmigrateError], code: int) -> None:
    assert issubclass(cls, e.ChatmigrateError) and cls.exit_code == code


def test_every_database_error_is_one_sentence_naming_target_state_advice_and_commit() -> None:
    for cls in DB_FAMILY:
        err = cls("the server's words", target="postgresql://u:***@h/d", role='role "u"', sqlstate="XX000")
        text = str(err)
        assert text.startswith(cls.problem) and text.endswith(".") and "\n" not in text
        assert "on postgresql://u:***@h/d (SQLSTATE XX000: the server's words): " in text
        assert "{role}" not in text and "nothing was committed by the step that failed" in text


def test_a_step_that_committed_says_so() -> None:
    err = e.DiskFull("could not extend file", target="t", sqlstate="53100")
    err.committed = "step 2 had committed its rows (chats-created.json lists them); the indexes were not built"
    assert str(err).endswith("; step 2 had committed its rows (chats-created.json lists them); the indexes were "
                             "not built.")
    assert "nothing was committed" not in str(err)


def test_a_lost_connection_cannot_promise_the_commit_did_not_happen() -> None:
    assert "unless the connection broke during its final COMMIT" in str(e.ConnectionLost("x", target="t"))


def test_terminated_unwinds_like_ctrl_c() -> None:
    assert issubclass(e.Terminated, KeyboardInterrupt) and not issubclass(e.Terminated, Exception)


@pytest.mark.postgres
def test_database_errors_translates_a_real_lock_timeout_and_keeps_what_was_committed() -> None:
    from chatmigrate.postgres import db

    with pgdb.throwaway("h3ctx") as target:
        holder = target.connect(autocommit=False)
        holder.execute("LOCK TABLE public.chats IN ACCESS EXCLUSIVE MODE")
        try:
            with pytest.raises(e.LockTimeout) as info, db.connect(target.url, autocommit=True) as conn, \
                    db.database_errors(target.url, committed="step 2's rows were committed"):
                conn.execute("SET lock_timeout = '100ms'")
                conn.execute("SELECT count(*) FROM public.chats")
            assert info.value.sqlstate == "55P03" and str(info.value).endswith("; step 2's rows were committed.")
            with pytest.raises(db.psycopg.errors.DivisionByZero), db.connect(target.url) as conn, \
                    db.database_errors(target.url):
                conn.execute("SELECT 1 / 0")  # a bug's error is not the environment's: it passes through
        finally:
            holder.close()


def test_a_truncated_gzip_dump_is_bad_input(tmp_path: Path) -> None:
    data = gzip.compress(b"-- MySQL dump\n" + b"INSERT INTO `t` VALUES (1);\n" * 20_000)
    (tmp_path / "cut.sql.gz").write_bytes(data[: len(data) // 2])
    proc = chatmigrate("inspect", str(tmp_path / "cut.sql.gz"), cwd=tmp_path)
    assert proc.returncode == 2
    line = one_error_line(proc.stdout, proc.stderr)
    assert "cut.sql.gz" in line and "truncated" in line and "unexpected" not in line
