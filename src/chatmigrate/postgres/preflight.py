"""Before a step writes: may the connected role do all of it, and does it see every row?

Owns: refusing (exit 2, before anything is written) a role under row level security on
chats, chat_messages or media (RLS enabled and the role neither the owner nor BYPASSRLS
nor superuser, or FORCE ROW LEVEL SECURITY for the owner): policies that hide rows
would make create misjudge what is present and let rollback cascade into app rows it
cannot see; and a role lacking a privilege the step needs (INSERT/SELECT/DELETE on the
tables, TEMP on the database, what the ledger needs, ownership for the plan's indexes).
Every refusal names the table or object and the fix.

Does not own: the steps themselves; connecting (``db``).
"""

from __future__ import annotations

from typing import Any, Literal

import psycopg

from ..errors import PreflightError
from . import db

Step = Literal["create", "rollback"]
TABLES = ("chats", "chat_messages", "media")
_NEEDS: dict[Step, tuple[str, ...]] = {"create": ("SELECT", "INSERT"), "rollback": ("SELECT", "DELETE")}
_LEDGER_NEEDS: dict[Step, tuple[tuple[str, str], ...]] = {
    "create": (("runs", "SELECT"), ("runs", "INSERT"), ("runs", "UPDATE"), ("run_rows", "SELECT"),
               ("run_rows", "INSERT")),
    "rollback": (("runs", "SELECT"), ("runs", "UPDATE"), ("run_rows", "SELECT"), ("run_rows", "DELETE")),
}




def _role(conn: psycopg.Connection[Any]) -> tuple[str, bool, bool]:
    row = conn.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                       "WHERE rolname = current_user").fetchone()
    assert row is not None
    return str(row[0]), bool(row[1]), bool(row[2])


def _tables(conn: psycopg.Connection[Any], names: tuple[str, ...]) -> list[tuple[str, bool, bool, bool, str]]:
    """(name, RLS enabled, FORCE RLS, the role has the owner's rights, owner) per table."""
    rows = conn.execute(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_has_role(c.relowner, 'USAGE'), "
        "pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relname = ANY(%s) ORDER BY array_position(%s, c.relname::text)",
        (list(names), list(names)),
    ).fetchall()
    return [(str(r[0]), bool(r[1]), bool(r[2]), bool(r[3]), str(r[4])) for r in rows]


def check_rls(conn: psycopg.Connection[Any], step: str) -> None:
    role, superuser, bypass = _role(conn)
    if superuser or bypass:
        return
    for name, enabled, forced, owner, owner_name in _tables(conn, TABLES):
        if enabled and (forced or not owner):
            why = "FORCE ROW LEVEL SECURITY applies to its owner" if owner else "it is not the table's owner"
            raise PreflightError(
                role, step,
                f"is under row level security on public.{name} ({why}), so policies may hide rows from it: "
                "create would misjudge what is present and rollback could cascade into app rows it cannot see",
                f"connect as {owner_name} (the owner) or a role with BYPASSRLS (ALTER ROLE {role} BYPASSRLS)"
                + (f", or ALTER TABLE public.{name} NO FORCE ROW LEVEL SECURITY" if forced else ""),
            )


def _has(conn: psycopg.Connection[Any], query: str, *params: Any) -> bool:
    row = conn.execute(query, params).fetchone()
    return bool(row and row[0])


def check(conn: psycopg.Connection[Any], step: Step, *, indexes: bool = False,
          chat_schema: str = "booking") -> None:
    """Raise PreflightError unless the role can do ``step`` completely; reads only."""
    check_rls(conn, step)
    role = _role(conn)[0]
    for table in TABLES:
        for priv in _NEEDS[step]:
            if not _has(conn, "SELECT has_table_privilege(%s, %s)", f"public.{table}", priv):
                raise PreflightError(role, step, f"lacks {priv} on public.{table}",
                                     f"GRANT {', '.join(_NEEDS[step])} ON public.{table} TO {role}, "
                                     "or connect as the table owner")
    if not _has(conn, "SELECT has_database_privilege(current_database(), 'TEMP')"):
        raise PreflightError(role, step, "lacks TEMP on the database (the step stages rows in temp tables)",
                             f"GRANT TEMP ON DATABASE {_dbname(conn)} TO {role}")
    _check_ledger(conn, step, role)
    if step == "create" and indexes:
        _check_indexes(conn, role, chat_schema)


def _dbname(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT quote_ident(current_database())").fetchone()
    return str(row[0]) if row else "the_database"


def _check_ledger(conn: psycopg.Connection[Any], step: Step, role: str) -> None:
    schema_there = _has(conn, "SELECT to_regnamespace('chatmigrate') IS NOT NULL")
    tables_there = schema_there and _has(conn, "SELECT to_regclass('chatmigrate.run_rows') IS NOT NULL "
                                               "AND to_regclass('chatmigrate.runs') IS NOT NULL")
    if not tables_there:
        if step == "rollback":
            return  # the step itself says there is no ledger run to roll back
        if not schema_there and not _has(conn, "SELECT has_database_privilege(current_database(), 'CREATE')"):
            raise PreflightError(
                role, step, "cannot create the ledger (schema chatmigrate, which records every row the "
                "migration writes) because it lacks CREATE on the database",
                f"GRANT CREATE ON DATABASE {_dbname(conn)} TO {role}, or run create once as the database owner")
        if schema_there and not _has(conn, "SELECT has_schema_privilege('chatmigrate', 'CREATE')"):
            raise PreflightError(role, step, "lacks CREATE on schema chatmigrate (for the ledger's tables)",
                                 f"GRANT CREATE ON SCHEMA chatmigrate TO {role}")
        return
    if not _has(conn, "SELECT has_schema_privilege('chatmigrate', 'USAGE')"):
        raise PreflightError(role, step, "lacks USAGE on schema chatmigrate (the ledger)",
                             f"GRANT USAGE ON SCHEMA chatmigrate TO {role}")
    for table, priv in _LEDGER_NEEDS[step]:
        if not _has(conn, "SELECT has_table_privilege(%s, %s)", f"chatmigrate.{table}", priv):
            raise PreflightError(role, step, f"lacks {priv} on the ledger table chatmigrate.{table}",
                                 f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA chatmigrate TO {role}")
    if step == "create" and not _has(conn, "SELECT has_sequence_privilege('chatmigrate.runs_run_id_seq', 'USAGE')"):
        raise PreflightError(role, step, "lacks USAGE on the sequence chatmigrate.runs_run_id_seq",
                             f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA chatmigrate TO {role}")


def _check_indexes(conn: psycopg.Connection[Any], role: str, chat_schema: str) -> None:
    present = {str(r[0]) for r in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()}
    owners = {name: owner for name, _e, _f, owner, _o in _tables(conn, TABLES)}
    for name, table, cols, _where in db.INDEXES:
        if chat_schema != "booking" and "booking_id" in cols:
            continue
        if name not in present and not owners.get(table, True):
            raise PreflightError(
                role, step="create",
                problem=f"does not own public.{table}, so it cannot create the plan's index {name}",
                fix="pass --skip-indexes (and create the indexes later as the owner: re-run create as the "
                    "owner, which finds the rows present and builds only the indexes), or connect as the owner",
            )
