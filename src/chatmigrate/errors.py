"""The one exception hierarchy of chatmigrate.

Owns: ``ChatmigrateError`` (the root) and every subclass, in sections: usage, phase
files, the target database (``TargetError`` before connecting, the ``DatabaseError``
family after), object storage (``StorageError``), step outcomes (``ThresholdExceeded``), signals (``Terminated``) and the
dump. Each subclass carries the context of the failure as attributes and builds its
own one-sentence message from them: what went wrong, where, and what to do.

Exit codes (``exit_code``): 0 ok, 1 the migration ran and found problems, 2 bad input,
usage, or an environment to fix first (files, the target database's permissions,
locks, disk, schema). 130 / 143 for SIGINT / SIGTERM (the CLI's).

``committed`` is the hook for saying truthfully what was committed: ``None`` means
nothing was committed by the step that failed; a step that has committed sets it on
the error it lets through (``exc.committed = "step 2's rows (chats-created.json)"``).

Does not own: turning exceptions into exit codes and terminal output (that is the
CLI's job, ``chatmigrate.cli``), nor recognising psycopg's errors (``postgres.db``
maps them into the ``DatabaseError`` family: this module imports no psycopg).
Nothing here imports any other chatmigrate module.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

NOTHING_COMMITTED = "nothing was committed by the step that failed"


class ChatmigrateError(Exception):
    """Root of every error chatmigrate raises on purpose.

    ``exit_code`` is 2 for bad input, usage or environment (the user must fix something
    before re-running) and 1 for a migration that ran but found problems.
    """

    exit_code: int = 2
    committed: str | None = None  # what the failing step had committed; None: nothing

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ChatmigrateError):
    """A missing or contradictory option, or a missing input file."""


class LinkModeRefused(UsageError):
    """A ``--link`` the target's chats table cannot honour (refused before anything is written)."""

    def __init__(self, link: str, chat_schema: str, target: str) -> None:
        self.link, self.chat_schema = link, chat_schema
        keyed = "customer and stylist" if chat_schema == "participants" else "booking"
        fits = "--link participants (or no --link)" if chat_schema == "participants" else \
            "--link strict or --link recover (or no --link)"
        super().__init__(f"--link {link} cannot be used on {target}: its chats table is keyed by {keyed}; "
                         f"use {fits}; nothing was written.")


class PhaseFileError(ChatmigrateError):
    """A phase file that is missing or does not have the plan's shape."""

    def __init__(self, path: Path, problem: str, advice: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}; {advice}.")


class ThresholdExceeded(ChatmigrateError):
    """Too many rows failed: the plan says stop; nothing was committed."""

    exit_code = 1

    def __init__(self, rate: float, limit: float, failed_path: Path) -> None:
        self.rate, self.limit = rate, limit
        super().__init__(
            f"{rate:.2%} of the rows could not be inserted, above the {limit:.2%} limit (--max-error-rate): "
            f"nothing was committed; see {failed_path} for every failed row and its reason."
        )


class LoadCommitted(ChatmigrateError):
    """The load is committed but a later part of step 2 failed or was interrupted."""

    exit_code = 1

    def __init__(self, run_id: int, created: tuple[int, int, int], present: int, what: str, cause: BaseException,
                 advice: str = "re-run create to finish (it finds its rows present and completes the rest), "
                               "or rollback") -> None:
        self.run_id, self.created, self.present, self.what = run_id, created, present, what
        if isinstance(cause, KeyboardInterrupt):
            self.exit_code = 130
            why = "was interrupted"
        else:
            first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
            why = f"failed: {first}"
        super().__init__(
            f"the load of run {run_id} is committed ({created[0]:,} chats, {created[1]:,} messages, "
            f"{created[2]:,} media inserted; {present:,} rows were already present); {what} {why}; "
            f"{advice}."
        )

class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds like Ctrl-C.

    A KeyboardInterrupt on purpose: psycopg cancels the running query on one, and every
    ``except BaseException`` cleanup (temporary files, rollbacks) runs.
    """

    def __init__(self, signum: int = 15) -> None:
        super().__init__(signum)
        self.signum = signum


# --------------------------------------------------------------------------- the target database


class TargetError(ChatmigrateError):
    """The target database cannot be reached or lacks what the step needs."""


class DatabaseError(ChatmigrateError):
    """The target database refused or broke off a statement after connecting.

    Built by ``postgres.db.translate`` from psycopg's error: ``detail`` (the server's
    first message line, password scrubbed), ``target`` (the redacted URL), ``role``,
    ``sqlstate``. Each subclass names the problem and what to do; the message ends with
    what was committed (``committed``, settable after construction). Exit code 2: the
    environment must be fixed before re-running, and every step is safe to re-run.
    """

    problem: ClassVar[str] = "the target database refused a statement"
    advice: ClassVar[str] = "fix what the server's message names and re-run"

    def __init__(self, detail: str, *, target: str, role: str | None = None, sqlstate: str | None = None,
                 committed: str | None = None) -> None:
        self.detail, self.target, self.role, self.sqlstate = detail, target, role, sqlstate
        self.committed = committed
        super().__init__(self._build())

    def _outcome(self) -> str:
        return self.committed or NOTHING_COMMITTED

    def _build(self) -> str:
        code = f"SQLSTATE {self.sqlstate}: " if self.sqlstate else ""
        advice = self.advice.format(role=self.role or "the connecting role")
        return f"{self.problem} on {self.target} ({code}{self.detail}): {advice}; {self._outcome()}."

    def __str__(self) -> str:  # rebuilt: ``committed`` may be set after construction
        self.message = self._build()
        return self.message


class PermissionDenied(DatabaseError):
    problem = "permission denied"
    advice = ("connect as the database owner (postgres) or grant {role} what the step needs "
              "(SELECT, INSERT, DELETE on public.chats, chat_messages, media; SELECT on profiles, bookings)")


class RowSecurityDenied(DatabaseError):
    problem = "row level security refused a row"
    advice = "connect as the database owner (postgres) or a role with BYPASSRLS, so no policy hides or blocks rows"


class TransactionConflict(DatabaseError):
    problem = "another session wrote the same rows at the same time (deadlock or serialization failure)"
    advice = "stop the application's writers during the migration and re-run"


class LockTimeout(DatabaseError):
    problem = "a table stayed locked by another session longer than lock_timeout"
    advice = ("find the session holding the lock (pg_stat_activity, pg_locks), let it finish or end it, "
              "and re-run")


class StatementCanceled(DatabaseError):
    problem = "the server cancelled a statement (statement_timeout, or an operator's pg_cancel_backend)"
    advice = "raise statement_timeout for {role} (e.g. ALTER ROLE ... SET statement_timeout = 0) and re-run"


class ConnectionLost(DatabaseError):
    problem = "the connection to the target database was lost"
    advice = "check that the server runs and is reachable, then re-run"

    def _outcome(self) -> str:
        return self.committed or (f"{NOTHING_COMMITTED}, unless the connection broke during its final COMMIT "
                                  "(`chatmigrate validate` tells)")


class DiskFull(DatabaseError):
    problem = "the target database's disk is full"
    advice = "free disk space on the database server and re-run"


class ServerOutOfResources(DatabaseError):
    problem = "the target database ran out of a resource (memory, connections)"
    advice = "free the resource the server names (or raise its limit) and re-run"


class SchemaDrift(DatabaseError):
    problem = "the target's tables differ from the schema chatmigrate expects"
    advice = ("bring the target to the plan's schema (the earlier phases' migrations; `chatmigrate schema` "
              "creates it on a test database)")


class ReadOnlyTarget(DatabaseError):
    problem = "the target database accepts no writes (a read-only transaction)"
    advice = ("connect to the primary, not a standby or read replica, and unset default_transaction_read_only "
              "for {role}")


class TargetRejectedRow(DatabaseError):
    problem = "the target rejected a row (a constraint or trigger chatmigrate does not expect)"
    advice = "look at the constraint or trigger the server names (it is not in the plan's schema), fix it, and re-run"


class LedgerError(ChatmigrateError):
    """The ledger refuses what was asked (another dump, an unknown or rolled-back run)."""


class PreflightError(ChatmigrateError):
    """The connected role cannot do the step completely and safely; nothing was written."""

    def __init__(self, role: str, step: str, problem: str, fix: str) -> None:
        self.role, self.step, self.problem, self.fix = role, step, problem, fix
        super().__init__(f"{step} refused before writing anything: role {role} {problem}; {fix}.")


class CascadeRefused(ChatmigrateError):
    """A delete would have removed rows the ledger does not list; nothing was deleted."""

    def __init__(self, run_id: int | None, table: str, extra: int) -> None:
        self.run_id, self.table, self.extra = run_id, table, extra  # table: "schema.table"
        what = f"rollback of run {run_id}" if run_id is not None else "rollback --all"
        super().__init__(
            f"{what} refused: deleting its rows would also remove {extra:,} row(s) of "
            f"{table} that the ledger does not list (ON DELETE CASCADE); nothing was deleted -- "
            "check which app rows reference the migrated rows."
        )

# --------------------------------------------------------------------------- storage (chat images)


class StorageError(ChatmigrateError):
    """Object storage (the legacy source or Supabase Storage) cannot be used as asked.

    ``where`` names the endpoint or folder (never a key or secret); exit code 2: fix the
    configuration or the bucket, then re-run (copied images are kept, the re-run resumes).
    """

    def __init__(self, where: str, problem: str, fix: str) -> None:
        self.where, self.problem, self.fix = where, problem, fix
        super().__init__(f"{where}: {problem}; {fix}.")


class StorageBucketMissing(StorageError):
    """The target bucket does not exist: chatmigrate never creates it silently."""

    def __init__(self, where: str, bucket: str) -> None:
        self.bucket = bucket
        super().__init__(
            where, f"the bucket {bucket!r} does not exist",
            f"create it first (Supabase Studio → Storage → New bucket {bucket!r}, private, allowed types "
            "image/jpeg, image/png, image/webp, image/gif, 5 MB limit), or pass --bucket NAME; nothing was copied",
        )


# --------------------------------------------------------------------------- dump


def _escape_char(ch: str) -> str:
    if ch.isprintable() and ch not in "\u00ad\u200b\u200c\u200d\u2060\ufeff":
        return ch
    code = ord(ch)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    )


def _excerpt(text: bytes | None, limit: int = 60) -> str:
    """The first ``limit`` bytes of the input, safe for a terminal: every control or
    invisible character (NUL, a byte-order mark, escape sequences) and every byte that is
    not UTF-8 is shown as an escape (the dump's own escapes, like ``\\'``, as written)."""
    if not text:
        return ""
    snippet = text[:limit].decode("utf-8", errors="surrogateescape")
    out = "".join(
        f"\\x{ord(ch) - 0xDC00:02x}" if 0xDC80 <= ord(ch) <= 0xDCFF else _escape_char(ch) for ch in snippet
    )
    return out + ("…" if len(text) > limit else "")


class DumpError(ChatmigrateError):
    """Something in a dump file that cannot be read as mysqldump output.

    Carries ``path``, 1-based ``line``, 0-based byte ``offset`` (in the uncompressed
    stream), the ``table`` being read (if any) and a short ``excerpt`` of the input.
    """

    advice = "check that the file is a complete mysqldump/mariadb-dump output"

    def __init__(
        self,
        problem: str,
        *,
        path: str,
        line: int | None = None,
        offset: int | None = None,
        table: str | None = None,
        excerpt: bytes | None = None,
        advice: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = path
        self.line = line
        self.offset = offset
        self.table = table
        self.excerpt = excerpt
        where = path
        if line is not None:
            where += f", line {line}"
        if offset is not None:
            where += f", byte offset {offset}"
        in_table = f" in table `{table}`" if table else ""
        near = f" near «{_excerpt(excerpt)}»" if excerpt else ""
        super().__init__(f"{problem}{in_table} at {where}{near}: {advice or self.advice}.")


class TruncatedDumpError(DumpError):
    """The dump ends in the middle of a statement or a value."""

    advice = "the file is truncated; re-create or re-copy the dump"


class MalformedStatementError(DumpError):
    """A statement or value that does not follow mysqldump's syntax."""


class ColumnCountError(DumpError):
    """A row whose number of values differs from its table's number of columns."""

    advice = "the CREATE TABLE and the INSERT disagree; re-create the dump (e.g. with --complete-insert)"


class MissingColumnsError(DumpError):
    """An INSERT without a column list for a table whose CREATE TABLE was not seen."""

    advice = "dump with the table structure (no --no-create-info) or with --complete-insert"


class InvalidTextError(DumpError):
    """A text value that is not valid UTF-8."""

    advice = "the value is not valid UTF-8; re-dump with --default-character-set=utf8mb4 or fix the row in the source"

    def __init__(self, *, row_key: str | None, column: str, **kw) -> None:  # type: ignore[no-untyped-def]
        self.row_key = row_key
        self.column = column
        key = f" (row id {row_key!r})" if row_key is not None else ""
        super().__init__(f"column `{column}`{key} holds bytes that are not UTF-8", **kw)


class RowTooLargeError(DumpError):
    """A single value, row or statement larger than the reader's memory bound."""

    advice = (
        "a string is probably not terminated; if a row of a table being read is genuinely this "
        "large, chatmigrate inspect --max-row-mb N reads it (the Phase 6 steps keep the 64 MB limit)"
    )


class UnexpectedInputError(DumpError):
    """Bytes where mysqldump writes only whitespace, comments or one of its statements.

    The MariaDB client refuses such a file (ERROR 1064); skipping the bytes could skip
    the INSERT they are glued to, so the reader refuses it too.
    """

    advice = (
        "this is not what mysqldump/mariadb-dump writes here (a stray byte, an edited or "
        "damaged file, or not a dump); re-create or re-copy the dump"
    )


class CorruptDumpError(DumpError):
    """A compressed dump whose data is damaged (a bad CRC or length, an invalid stream)."""

    advice = "the compressed file is damaged; re-copy it (check it with gzip -t) or re-create the dump"


class MissingRequiredColumnError(DumpError):
    """A table read for its rows lacks a column the migration's rules read."""

    advice = (
        "the dump's table does not have the shape the migration expects; dump the legacy "
        "database as it is (no renamed or dropped columns) or use --complete-insert"
    )

    def __init__(self, *, missing: list[str], found: list[str], **kw) -> None:  # type: ignore[no-untyped-def]
        self.missing = missing
        self.found = found
        names = ", ".join(f"`{m}`" for m in missing)
        have = ", ".join(f"`{f}`" for f in found) or "none"
        plural = "s" if len(missing) > 1 else ""
        super().__init__(f"required column{plural} {names} missing (the columns found are {have})", **kw)
