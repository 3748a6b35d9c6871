"""Privileges and row level security before writing, with real roles and real policies.

Each case makes a role in the test's own database (unique name, dropped afterwards)
that lacks one thing the step needs, or is under row level security, and checks that
the step refuses with exit 2, names the problem and the fix, and writes nothing: no
row, no ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pgroles
from chatmigrate.postgres.db import INDEXES
from chatmigrate.postgres.preflight import PreflightError
from chatmigrate.steps.create import create
from chatmigrate.steps.extract import extract
from chatmigrate.steps.rollback import rollback
from chatmigrate.steps.run import run
from world import World

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]
OWN_TABLES = ("ALTER TABLE public.chats OWNER TO {role}", "ALTER TABLE public.chat_messages OWNER TO {role}",
              "ALTER TABLE public.media OWNER TO {role}")


@pytest.fixture
def world(mariadb: Any, tmp_path: Path) -> Any:
    w = World(mariadb, tmp_path, "preflight")
    a = w.chat(w.booking())
    w.message(a)
    w.message(a, is_from="stylist", image=True)
    w.build()
    extract(str(w.dump_path), w.temp_dir)
    yield w
    w.close()


# case: (role attributes, grants, problem in the message, fix in the message)
CREATE_CASES: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "rls-not-owner": ("", pgroles.WRITER, "row level security on public.chats", "BYPASSRLS"),
    "rls-forced-on-owner": ("", (*pgroles.WRITER, *OWN_TABLES,
                                 "ALTER TABLE public.chat_messages FORCE ROW LEVEL SECURITY"),
                            "row level security on public.chat_messages (FORCE ROW LEVEL SECURITY",
                            "NO FORCE ROW LEVEL SECURITY"),
    "no-insert-on-media": ("BYPASSRLS", ("GRANT SELECT, INSERT ON public.chats, public.chat_messages TO {role}",
                                         "GRANT SELECT ON public.media, public.profiles, public.bookings TO {role}",
                                         "GRANT CREATE ON DATABASE {db} TO {role}"),
                           "lacks INSERT on public.media", "GRANT SELECT, INSERT ON public.media"),
    "no-temp": ("BYPASSRLS", (*pgroles.WRITER, "REVOKE TEMP ON DATABASE {db} FROM PUBLIC"),
                "lacks TEMP on the database", "GRANT TEMP ON DATABASE"),
    "cannot-create-the-ledger": ("BYPASSRLS", pgroles.WRITER[:2], "cannot create the ledger",
                                 "GRANT CREATE ON DATABASE"),
    "not-owner-so-no-indexes": ("BYPASSRLS", pgroles.WRITER, "does not own public.chats", "--skip-indexes"),
}


@pytest.mark.parametrize("case", list(CREATE_CASES))
def test_create_refuses_before_writing(world: World, case: str) -> None:
    attributes, grants, problem, fix = CREATE_CASES[case]
    pg = world.pg
    assert pg is not None
    before = pg.snapshot()
    with pgroles.role(pg, *grants, attributes=attributes) as role:
        with pytest.raises(PreflightError) as exc:
            create(world.temp_dir, role.url)
        assert exc.value.exit_code == 2
        assert problem in str(exc.value) and fix in str(exc.value), str(exc.value)
        assert f"role {role.name}" in str(exc.value) and "refused before writing anything" in str(exc.value)
        assert pg.snapshot() == before
        assert pg.query("SELECT to_regnamespace('chatmigrate')") == [(None,)]


def test_a_role_that_may_insert_loads_with_skip_indexes_and_the_owner_finishes(world: World) -> None:
    pg = world.pg
    assert pg is not None
    with pgroles.role(pg, *pgroles.WRITER, attributes="BYPASSRLS") as role:
        first = create(world.temp_dir, role.url, indexes=False)
        assert first.run_id == 1 and first.counts.messages.created == 2 and first.indexes == []
        again = create(world.temp_dir, pg.url)  # the owner: rows present, builds only the indexes
        assert again.run_id == 1 and again.counts.messages.present == 2 and again.counts.messages.created == 0
        # chats_booking_id_key (the UNIQUE constraint's) serves idx_chats_booking_id
        assert pg.index_names() >= {name for name, *_ in INDEXES} - {"idx_chats_booking_id"}
        assert pg.counts() == {"chats": 1, "chat_messages": 2, "media": 1}
        assert pg.query("SELECT run_id, status, messages FROM chatmigrate.runs") == [(1, "committed", 2)]


# case: (role attributes, grants, problem, fix)
ROLLBACK_CASES: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "rls-not-owner": ("", pgroles.REMOVER, "row level security on public.chats", "BYPASSRLS"),
    "no-delete": ("BYPASSRLS", ("GRANT SELECT ON public.chats, public.chat_messages, public.media TO {role}",
                                *pgroles.REMOVER[1:]), "lacks DELETE on public.chats", "GRANT SELECT, DELETE"),
    "no-ledger-delete": ("BYPASSRLS", (*pgroles.REMOVER[:2], "GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA "
                                       "chatmigrate TO {role}"), "lacks DELETE on the ledger table "
                         "chatmigrate.run_rows", "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES"),
}


@pytest.mark.parametrize("case", list(ROLLBACK_CASES))
def test_rollback_refuses_before_deleting(world: World, case: str) -> None:
    attributes, grants, problem, fix = ROLLBACK_CASES[case]
    pg = world.pg
    assert pg is not None
    create(world.temp_dir, pg.url)
    before = pg.snapshot()
    with pgroles.role(pg, *grants, attributes=attributes) as role:
        with pytest.raises(PreflightError) as exc:
            rollback(world.temp_dir, role.url)
        assert exc.value.exit_code == 2
        assert problem in str(exc.value) and fix in str(exc.value), str(exc.value)
    assert pg.snapshot() == before
    assert pg.query("SELECT status FROM chatmigrate.runs") == [("committed",)]
    assert (world.temp_dir / "chats-created.json").exists()


def test_run_refuses_a_role_under_rls_before_extracting(world: World) -> None:
    pg = world.pg
    assert pg is not None
    (world.temp_dir / "chats-extracted.json").unlink()
    with pgroles.role(pg, *pgroles.WRITER) as role:
        with pytest.raises(PreflightError) as exc:
            run(str(world.dump_path), world.temp_dir, role.url)
        assert exc.value.exit_code == 2 and "row level security on public.chats" in str(exc.value)
    assert not (world.temp_dir / "chats-extracted.json").exists()
    assert pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}
