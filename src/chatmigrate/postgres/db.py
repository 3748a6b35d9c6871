"""Connections to the target PostgreSQL, its schema, and the Phase 1-4 seed for demos.

Owns: reading the database URL with libpq's own parser and never showing its password
(:func:`redact` for display, :func:`scrub` for any text that may quote it), connecting
(:func:`connect`: a URL libpq cannot read, or reads differently than it was meant, is
refused before connecting and never echoed), turning psycopg's errors raised after
connecting into the ``errors.DatabaseError`` family by SQLSTATE (:func:`translate`,
:func:`database_errors`), creating the Supabase-compatible tables (``schema.sql``) for
demos and tests; the plan's indexes are ``indexes``, the demo seed ``seed`` (re-exported
here).

Does not own: the migration steps (``load``, ``checks``, ``rollback``); the error
classes and their wording (``chatmigrate.errors``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .. import errors as e
from ..errors import TargetError as TargetError  # defined with every error; importable here
from ..progress import NO_PROGRESS, Progress
from . import indexes

INDEXES = indexes.INDEXES  # the plan's; ``indexes`` owns them

# --------------------------------------------------------------------------- the URL and its password

UNREADABLE = "(a database URL libpq cannot read; not shown, it may hold a password)"
_SECRET_KEYS = ("password", "sslpassword")
_URI = re.compile(r"(?i)^postgres(?:ql)?://")
# in free text: the password of anything URL-like, and password=... of a keyword DSN
_TEXT_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@]*@")
_TEXT_KW_PASSWORD = re.compile(r"(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)")


@dataclass(frozen=True, slots=True)
class Conninfo:
    """What libpq reads in a URL or keyword DSN (``params`` is None when it cannot)."""

    params: dict[str, str] | None
    display: str  # safe to print and write
    secrets: tuple[str, ...]  # every spelling of the password to remove from text, longest first
    problem: str | None  # why the URL is refused before connecting, or None


def _spellings(secret: str) -> set[str]:
    """The password raw, percent-decoded and percent-encoded (as a URL may carry it)."""
    out = {secret, quote(secret, safe=""), quote(secret), quote(secret, safe="!$&'()*+,;=:")}
    with suppress(UnicodeDecodeError):
        out.add(unquote(secret, errors="strict"))
    return {x for x in out if x}


def _meant_passwords(url: str) -> list[str]:
    """The password as a person reads ``scheme://user:PASSWORD@host``: up to the last ``@``
    (of the whole URL, and of the part before any ``?``, which may start the query).

    libpq ends the user info at the first ``/`` or ``@``; a password holding an unencoded
    ``/`` or ``@`` is then read as host, port or database name.
    """
    rest = _URI.sub("", url, count=1)
    out = []
    for part in (rest, rest.split("?", 1)[0]):
        userinfo = part.rsplit("@", 1)[0] if "@" in part else ""
        if ":" in userinfo:
            out.append(userinfo.split(":", 1)[1])
    return out


def _display(url: str, params: dict[str, str]) -> str:
    if not _URI.match(url):
        first = ("host", "port", "user", "password", "dbname")
        keys = [k for k in first if k in params] + [k for k in params if k not in first]
        return " ".join(f"{k}={'***' if k in _SECRET_KEYS else _kw_quote(params[k])}" for k in keys)
    scheme = url.split(":", 1)[0]
    user = quote(params["user"], safe="") if params.get("user") else ""
    auth = (user + (":***" if params.get("password") else "")) + "@" if user or params.get("password") else ""
    host = params.get("host", "")
    port = f":{params['port']}" if params.get("port") else ""
    path = "/" + quote(params["dbname"], safe="") if params.get("dbname") else ""
    rest = {k: ("***" if k in _SECRET_KEYS else v) for k, v in params.items()
            if k not in ("user", "password", "host", "port", "dbname")}
    query = ("?" + "&".join(f"{k}={quote(v, safe='*')}" for k, v in rest.items())) if rest else ""
    return f"{scheme}://{auth}{host}{port}{path}{query}"


def _kw_quote(value: str) -> str:
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo(url: str) -> Conninfo:
    """Read ``url`` (a ``postgresql://`` URL or a keyword DSN) the way libpq will."""
    meant = _meant_passwords(url) if _URI.match(url) else []
    secrets: set[str] = {url}
    for candidate in meant:
        secrets |= _spellings(candidate)
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        params = None
    if params is None:  # whatever stands between a ":" and the last "@" may be a password
        before_at = url.rsplit("@", 1)[0] if "@" in url else ""
        for i, c in enumerate(before_at):
            if c == ":":
                secrets |= _spellings(before_at[i + 1:])
        return Conninfo(None, UNREADABLE, _order(secrets), "libpq cannot read it")
    values = {k: str(v) for k, v in params.items() if v is not None}
    for key in _SECRET_KEYS:
        if values.get(key):
            secrets |= _spellings(values[key])
    problem = None
    port = values.get("port", "")
    if meant and all(unquote(m) != values.get("password", "") for m in meant):
        problem = "its password holds a character libpq reads as part of the address"
    elif (port and not re.fullmatch(r"\d+(,\d*)*", port)) or "@" in values.get("host", ""):
        problem = "libpq reads a part of it as a port or host that cannot be one"
    display = UNREADABLE if problem else _display(url, values)
    return Conninfo(values, display, _order(secrets), problem)


def _order(secrets: set[str]) -> tuple[str, ...]:
    return tuple(sorted((s for s in secrets if s), key=len, reverse=True))


def redact(url: str) -> str:
    """The URL or DSN with any password replaced by ``***`` (safe to print or write)."""
    return conninfo(url).display


def scrub(text: str, url: str | None) -> str:
    """``text`` with the URL's password, in any form, replaced by ``***``.

    The whole URL, where quoted, becomes its redacted form; then every spelling of the
    password (as written, percent-decoded, percent-encoded); then anything in the text
    that looks like a URL's or a DSN's password.
    """
    if url:
        info = conninfo(url)
        text = text.replace(url, info.display)
        for secret in info.secrets:
            if len(secret) >= 4:
                text = text.replace(secret, "***")
            else:  # a very short password: only where it stands alone, not inside every word
                text = re.sub(rf"(?<![^\W_]){re.escape(secret)}(?![^\W_])", "***", text)
    text = _TEXT_URL_PASSWORD.sub(r"\1***@", text)
    return _TEXT_KW_PASSWORD.sub(r"\1***", text)


def connect(url: str | None, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection to the target; an unreadable URL or a failed connection is a TargetError.

    Errors raised later, on the connection, are psycopg's own: the CLI (and ``run``)
    translate them at their boundary with :func:`database_errors`, which also covers
    connections used in worker threads and errors raised at COMMIT.
    """
    if not url:
        raise TargetError("no target database given: pass --database-url or set DATABASE_URL.")
    info = conninfo(url)
    if info.problem:
        raise TargetError(
            f"the database URL cannot be used: {info.problem} (the URL is not shown: it may hold a password): "
            "percent-encode the password's special characters (/ as %2F, @ as %40, : as %3A, % as %25, "
            "? as %3F, # as %23, space as %20) and check the URL's form: postgresql://, user, password, "
            "@host:port/dbname."
        )
    try:
        return psycopg.connect(url, autocommit=autocommit, application_name="chatmigrate")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TargetError(
            f"cannot connect to the target database {info.display} ({scrub(reason, url)}): "
            "check --database-url / DATABASE_URL and that the server runs."
        ) from None


# --------------------------------------------------------------------------- errors after connecting

_BY_SQLSTATE: tuple[tuple[str, type[e.DatabaseError]], ...] = (
    # most specific first; a prefix matches a whole SQLSTATE class
    ("40P01", e.TransactionConflict), ("40001", e.TransactionConflict),
    ("55P03", e.LockTimeout), ("57014", e.StatementCanceled),
    ("57P", e.ConnectionLost), ("08", e.ConnectionLost), ("25P03", e.ConnectionLost),
    ("53100", e.DiskFull), ("53", e.ServerOutOfResources),
    ("42P01", e.SchemaDrift), ("42703", e.SchemaDrift), ("42883", e.SchemaDrift), ("42704", e.SchemaDrift),
    ("3F000", e.SchemaDrift),
    ("25006", e.ReadOnlyTarget),
    ("23", e.TargetRejectedRow), ("P0001", e.TargetRejectedRow),
)


def _kind(exc: psycopg.Error) -> type[e.DatabaseError] | None:
    state = exc.sqlstate or ""
    if state == "42501":
        text = (exc.diag.message_primary or str(exc)).lower()
        return e.RowSecurityDenied if "row-level security" in text else e.PermissionDenied
    if not state:  # no SQLSTATE: psycopg lost the connection (or was handed a closed one)
        return e.ConnectionLost if isinstance(exc, psycopg.OperationalError) else None
    return next((cls for prefix, cls in _BY_SQLSTATE if state.startswith(prefix)), None)


def translate(exc: BaseException, url: str | None) -> e.DatabaseError | None:
    """The ``DatabaseError`` for a psycopg error raised after connecting, or None.

    None means the error is not the environment's doing (a syntax error, a bad value:
    a bug in chatmigrate) and should be reported as such. An error already translated
    is returned as it is. ``committed``, if a step set it on the psycopg error, is kept.
    """
    if isinstance(exc, e.DatabaseError):
        return exc
    if not isinstance(exc, psycopg.Error):
        return None
    kind = _kind(exc)
    if kind is None:
        return None
    text = exc.diag.message_primary or str(exc).strip() or type(exc).__name__
    detail = " ".join(text.split("\n", 1)[0].split())
    info = conninfo(url) if url else None
    role = info.params.get("user") if info and info.params else None
    return kind(scrub(detail, url), target=info.display if info else "the target database",
                role=f'role "{role}"' if role else None, sqlstate=exc.sqlstate,
                committed=getattr(exc, "committed", None))


@contextmanager
def database_errors(url: str | None, *, committed: str | None = None) -> Iterator[None]:
    """Translate psycopg errors raised in the block into the ``DatabaseError`` family.

    ``committed`` says what the block's step has committed before it failed (for the
    message); errors that are not the environment's (see :func:`translate`) pass as
    they are.
    """
    try:
        yield
    except psycopg.Error as exc:
        ours = translate(exc, url)
        if ours is None:
            raise
        if committed and ours.committed is None:
            ours.committed = committed
        raise ours from exc


CHAT_SCHEMAS = ("booking", "participants")


def schema_sql(chat_schema: str = "booking") -> str:
    """The target tables; ``chat_schema`` picks the chats table: per booking or per pair.

    schema.sql is the plan's schema, runnable as it is; for the later schema its block
    between ``-- chats: begin`` and ``-- chats: end`` is replaced.
    """
    files = resources.files("chatmigrate.postgres")
    text = files.joinpath("schema.sql").read_text(encoding="utf-8")
    if chat_schema == "booking":
        return text
    begin, end = text.index("-- chats: begin"), text.index("-- chats: end")
    chats = files.joinpath(f"schema_chats_{chat_schema}.sql").read_text(encoding="utf-8")
    return text[:begin] + chats + text[end:]


def create_schema(url: str, chat_schema: str = "booking") -> list[str]:
    """Create the target tables that are absent; return the tables that now exist."""
    if chat_schema not in CHAT_SCHEMAS:
        raise TargetError(f"--chat-schema {chat_schema!r} is not one of {', '.join(CHAT_SCHEMAS)}.")
    with connect(url, autocommit=True) as conn:
        conn.execute(schema_sql(chat_schema))
        return missing_tables(conn, invert=True)


def chat_schema(conn: psycopg.Connection[Any]) -> str:
    """Which chats table the target has: "booking" (chats.booking_id) or "participants"."""
    cols = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'chats'"
    ).fetchall()}
    if "booking_id" in cols:
        return "booking"
    if {"customer_id", "stylist_id"} <= cols:
        return "participants"
    raise TargetError("the target's chats table has neither booking_id nor customer_id and stylist_id: "
                      "it is not a schema chatmigrate knows.")


REQUIRED = ("profiles", "bookings", "chats", "chat_messages", "media")


def missing_tables(conn: psycopg.Connection[Any], invert: bool = False) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)",
        (list(REQUIRED),),
    ).fetchall()
    present = {r[0] for r in rows}
    return [t for t in REQUIRED if (t in present) == invert]


def require_tables(conn: psycopg.Connection[Any], url: str) -> None:
    missing = missing_tables(conn)
    if missing:
        raise TargetError(
            f"the target database {redact(url)} has no table(s) {', '.join(missing)}: "
            "run the earlier phases' migrations (or `chatmigrate schema` for a test database)."
        )


def insert_triggers(conn: psycopg.Connection[Any]) -> list[str]:
    """User triggers that fire on INSERT into the tables step 2 writes ("table.trigger").

    A notification or realtime trigger would fire once for every migrated message; the
    operator should know before the cut-over (and may disable it for the load).
    """
    rows = conn.execute(
        "SELECT c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
        "AND c.relname IN ('chats', 'chat_messages', 'media') AND NOT t.tgisinternal "
        "AND (t.tgtype & 4) <> 0 ORDER BY 1"  # bit 2: fires on INSERT
    ).fetchall()
    return [r[0] for r in rows]


def create_indexes(conn: psycopg.Connection[Any], chat_schema: str = "booking",
                   progress: Progress = NO_PROGRESS) -> indexes.IndexOutcome:
    """The plan's indexes where no equivalent is in place (``indexes.create_plan_indexes``)."""
    return indexes.create_plan_indexes(conn, chat_schema, progress)


# the tables a load changed most: their statistics, refreshed after it (autovacuum's analyze may
# come much later, and validation's joins of a million rows are planned on them)
ANALYZED = (("public", "chats"), ("public", "chat_messages"), ("public", "media"), ("chatmigrate", "run_rows"))


def analyze_loaded(conn: psycopg.Connection[Any], progress: Progress = NO_PROGRESS) -> None:
    """ANALYZE the tables a load wrote (a role that does not own one gets PostgreSQL's warning, not an error)."""
    from psycopg import sql

    progress.start("updating the planner's statistics of the loaded tables", len(ANALYZED), "tables")
    for n, (schema, table) in enumerate(ANALYZED, 1):
        conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        progress.update(n)
    progress.finish()


def seed_from_csv(url: str, seed_dir: Path) -> dict[str, int]:
    """Load Phase 1-4 rows (profiles.csv, bookings.csv as written by ``synth``); see ``seed``."""
    from .seed import seed

    c = seed(url, seed_dir, allow_existing=True)
    return {"profiles": c.profiles, "bookings": c.bookings}
