"""Loading what ``synth`` writes (``seed/profiles.csv``, ``seed/bookings.csv``) into a target.

Owns: finding the seed files (a synth output folder or its ``seed/``), refusing a target
that already has profiles (unless ``allow_existing``: then rows already there are left as
they are), the ``auth.users`` row every profile needs where the target has an ``auth.users``
table (a Supabase project, or schema.sql's stand-in: id and email, plus instance_id, aud,
role and timestamps where those columns exist) -- a target without one gets no auth rows,
its profiles have no such foreign key -- and loading all of it by COPY into staging tables,
then ``INSERT ... ON CONFLICT DO NOTHING``, in one transaction.

Does not own: generating the rows (``synth``), the target's tables (``db.create_schema``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ..errors import TargetError, UsageError
from .db import connect, redact, require_tables

FILES = ("profiles.csv", "bookings.csv")
# auth.users columns a Supabase project expects set for a user row, where the table has them
_AUTH_DEFAULTS = {"instance_id": "00000000-0000-0000-0000-000000000000", "aud": "authenticated",
                  "role": "authenticated"}


@dataclass(slots=True)
class SeedCounts:
    auth_users: int = 0
    profiles: int = 0
    bookings: int = 0
    auth_schema: bool = True  # False: the target has no auth.users, so none were written
    already_present: int = 0  # rows skipped because they were there (allow_existing)


def seed_dir(folder: Path) -> Path:
    """The folder holding profiles.csv and bookings.csv: ``folder`` or its ``seed/``."""
    for candidate in (folder, folder / "seed"):
        if all((candidate / f).is_file() for f in FILES):
            return candidate
    raise UsageError(f"{folder} holds no seed (profiles.csv and bookings.csv, as `chatmigrate synth --out "
                     f"{folder}` writes them in {folder / 'seed'}): pass --from the synth output folder.")


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise UsageError(f"{path} is empty: re-run `chatmigrate synth`.")
        return header, list(reader)


def _columns(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    rows = conn.execute("SELECT column_name::text FROM information_schema.columns WHERE table_schema = %s "
                        "AND table_name = %s ORDER BY ordinal_position", (schema, table)).fetchall()
    return [str(r[0]) for r in rows]


def _copy_in(conn: psycopg.Connection[Any], target: tuple[str, str], cols: list[str],
             rows: list[list[Any]]) -> tuple[int, int]:
    """COPY ``rows`` into a staging copy of ``target``, then insert what is not there; (inserted, skipped)."""
    stage = sql.Identifier("cm_seed_" + target[1])
    names = sql.SQL(", ").join(map(sql.Identifier, cols))
    conn.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} LIMIT 0").format(
        stage, names, sql.Identifier(*target)))
    with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, names)) as cp:
        for row in rows:
            cp.write_row(row)
    inserted = conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
        sql.Identifier(*target), names, names, stage)).rowcount
    return inserted, len(rows) - inserted


def seed(url: str, folder: Path, *, allow_existing: bool = False) -> SeedCounts:
    """Load the seed into the target in one transaction; see the module docstring."""
    where = seed_dir(folder)
    (p_cols, profiles), (b_cols, bookings) = (_read(where / f) for f in FILES)
    out = SeedCounts()
    with connect(url) as conn, conn.transaction():
        require_tables(conn, url)
        row = conn.execute("SELECT count(*) FROM public.profiles").fetchone()
        have = int(row[0]) if row else 0
        if have and not allow_existing:
            raise TargetError(
                f"the target {redact(url)} already has {have:,} profiles: a seed is for an empty target "
                "(a test or demo database); nothing was written. Pass --allow-existing to add the seed's "
                "rows beside them (rows already there are left as they are).")
        auth = _columns(conn, "auth", "users")
        out.auth_schema = bool(auth)
        if auth:
            id_i, email_i = p_cols.index("id"), p_cols.index("email")
            created_i = p_cols.index("created_at") if "created_at" in p_cols else None
            extra = [c for c in _AUTH_DEFAULTS if c in auth]
            stamps = [c for c in ("created_at", "updated_at") if c in auth and created_i is not None]
            rows = [[p[id_i], p[email_i] or None, *(_AUTH_DEFAULTS[c] for c in extra),
                     *([p[created_i]] * len(stamps) if created_i is not None else [])] for p in profiles]
            out.auth_users, skipped = _copy_in(conn, ("auth", "users"), ["id", "email", *extra, *stamps], rows)
            out.already_present += skipped
        for table, cols, rows_ in (("profiles", p_cols, profiles), ("bookings", b_cols, bookings)):
            values = [[v if v != "" else None for v in r] for r in rows_]
            n, skipped = _copy_in(conn, ("public", table), cols, values)
            setattr(out, table, n)
            out.already_present += skipped
    return out
