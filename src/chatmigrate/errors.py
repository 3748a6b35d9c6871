"""The one exception hierarchy of chatmigrate.

Owns: ``ChatmigrateError`` (the root) and its subclasses. Each subclass carries the
context of the failure (file, line, byte offset, table, row id) as attributes and
builds its own one-sentence message from them: what went wrong, where, and what to do.

Does not own: turning exceptions into exit codes and terminal output (that is the
CLI's job, ``chatmigrate.cli``). Nothing here imports any other chatmigrate module.
"""

from __future__ import annotations


class ChatmigrateError(Exception):
    """Root of every error chatmigrate raises on purpose.

    ``exit_code`` is 2 for bad input or usage (the user must fix something before
    re-running) and 1 for a migration that ran but found problems.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ChatmigrateError):
    """A missing or contradictory option, or a missing input file."""


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
