"""Real PostgreSQL roles for one test database.

Roles are cluster-wide, so each gets a unique name (``cm_role_<pid>_<hex>``) and is
dropped when the block ends (``DROP OWNED BY`` in the test's database first: the
ledger schema it may have created, its grants). :data:`WRITER` is what a role needs to
run create besides the ledger (which it creates where it may): SELECT and INSERT on
the Phase 6 tables, SELECT on profiles and bookings; :data:`REMOVER` the same for
rollback (SELECT, DELETE).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pgdb

WRITER = (
    "GRANT SELECT, INSERT ON public.chats, public.chat_messages, public.media TO {role}",
    "GRANT SELECT ON public.profiles, public.bookings TO {role}",
    "GRANT CREATE ON DATABASE {db} TO {role}",
)
REMOVER = (
    "GRANT SELECT, DELETE ON public.chats, public.chat_messages, public.media TO {role}",
    "GRANT USAGE ON SCHEMA chatmigrate TO {role}",
    "GRANT SELECT, UPDATE, DELETE ON ALL TABLES IN SCHEMA chatmigrate TO {role}",
)


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    url: str


@contextmanager
def role(pg: pgdb.PgDatabase, *grants: str, attributes: str = "") -> Iterator[Role]:
    """A LOGIN role (plus ``attributes``, e.g. BYPASSRLS) with ``grants`` ({role}, {db} filled in)."""
    name = f"cm_role_{os.getpid()}_{secrets.token_hex(4)}"
    with pg.connect() as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN {attributes}')
        for g in grants:
            conn.execute(g.format(role=f'"{name}"', db=f'"{pg.name}"'))
    try:
        yield Role(name, f"postgresql://{name}@{pgdb.HOST}:{pgdb.PORT}/{pg.name}")
    finally:
        with pg.connect() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE "{name}"')
