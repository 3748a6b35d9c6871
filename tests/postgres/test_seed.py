"""Loading what ``synth`` writes into a target (``chatmigrate.postgres.seed``, ``chatmigrate seed``).

One command puts a synthetic world's Phase 1-4 rows in a fresh target of either chat
schema -- every profile with the ``auth.users`` row its foreign key needs, every booking
-- so that the whole phase then runs on it and is valid. A target that already has
profiles is refused (nothing written) unless told; a target without an ``auth.users``
table gets no auth rows; a Supabase-shaped ``auth.users`` gets the columns a user row
has there.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

import pgdb
from chatmigrate.errors import TargetError, UsageError
from chatmigrate.postgres.db import CHAT_SCHEMAS, create_schema
from chatmigrate.postgres.seed import seed
from chatmigrate.steps.run import run
from chatmigrate.synth import SynthSummary, generate
from clirun import chatmigrate
from synthfiles import fresh_temp_dir

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    return generate(tmp_path_factory.mktemp("seed"), messages=800, seed=13)


def csv_rows(world: SynthSummary, name: str) -> int:
    with open(world.seed_dir / name, newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


@pytest.mark.parametrize("chat_schema", CHAT_SCHEMAS)
def test_the_seed_loads_every_row_and_the_phase_runs_valid_on_it(
        postgres: Any, world: SynthSummary, tmp_path: Path, chat_schema: str) -> None:
    with pgdb.throwaway("seed", schema=False) as db:
        create_schema(db.url, chat_schema)
        counts = seed(db.url, world.out_dir)  # the synth folder itself, or its seed/
        profiles, bookings = csv_rows(world, "profiles.csv"), csv_rows(world, "bookings.csv")
        assert (counts.auth_users, counts.profiles, counts.bookings) == (profiles, profiles, bookings)
        assert counts.auth_schema and counts.already_present == 0
        assert db.query("SELECT count(*) FROM auth.users") == [(profiles,)]
        assert (db.count("profiles"), db.count("bookings")) == (profiles, bookings)
        res = run(str(world.dump), fresh_temp_dir(world, tmp_path), db.url,
                  link="participants" if chat_schema == "participants" else "strict")
        assert res.success and res.validation.is_valid
        assert res.creation.counts.messages.created > 0


def test_a_target_with_profiles_is_refused_unless_told(postgres: Any, world: SynthSummary) -> None:
    with pgdb.throwaway("seed") as db:
        seed(db.url, world.seed_dir)
        before = (db.query("SELECT count(*) FROM auth.users"), db.count("profiles"), db.count("bookings"))
        with pytest.raises(TargetError) as exc:
            seed(db.url, world.seed_dir)
        assert exc.value.exit_code == 2
        assert f"already has {before[1]:,} profiles" in str(exc.value) and "nothing was written" in str(exc.value)
        assert "--allow-existing" in str(exc.value)
        again = seed(db.url, world.seed_dir, allow_existing=True)  # every row is there: none is added
        assert (again.auth_users, again.profiles, again.bookings) == (0, 0, 0)
        assert again.already_present == 2 * before[1] + before[2]
        assert (db.query("SELECT count(*) FROM auth.users"), db.count("profiles"), db.count("bookings")) == before


def test_a_target_without_an_auth_schema_gets_no_auth_rows(postgres: Any, world: SynthSummary) -> None:
    with pgdb.throwaway("seed") as db:
        db.execute("ALTER TABLE public.profiles DROP CONSTRAINT profiles_id_fkey")
        db.execute("DROP SCHEMA auth CASCADE")
        counts = seed(db.url, world.seed_dir)
        assert not counts.auth_schema and counts.auth_users == 0
        assert db.count("profiles") == csv_rows(world, "profiles.csv")


def test_a_supabase_shaped_auth_users_gets_a_users_columns(postgres: Any, world: SynthSummary) -> None:
    with pgdb.throwaway("seed") as db:
        db.execute("ALTER TABLE auth.users ADD COLUMN instance_id uuid, ADD COLUMN aud varchar(255), "
                   "ADD COLUMN role varchar(255), ADD COLUMN created_at timestamptz, ADD COLUMN updated_at timestamptz, "
                   "ADD COLUMN is_sso_user boolean NOT NULL DEFAULT false")
        seed(db.url, world.seed_dir)
        assert db.query("SELECT DISTINCT instance_id::text, aud, role, is_sso_user FROM auth.users") == [
            ("00000000-0000-0000-0000-000000000000", "authenticated", "authenticated", False)]
        assert db.query("SELECT count(*) FROM auth.users u JOIN public.profiles p ON p.id = u.id "
                        "WHERE u.created_at = p.created_at AND u.email = p.email") == [(db.count("profiles"),)]


def test_a_folder_without_a_seed_is_a_usage_error(postgres: Any, tmp_path: Path) -> None:
    with pgdb.throwaway("seed") as db, pytest.raises(UsageError, match="holds no seed"):
        seed(db.url, tmp_path)


def test_the_seed_command_as_the_readme_shows_it(postgres: Any, world: SynthSummary, tmp_path: Path) -> None:
    with pgdb.throwaway("seed", schema=False) as db:
        assert chatmigrate("schema", "--database-url", db.url, cwd=tmp_path).returncode == 0
        done = chatmigrate("seed", "--from", str(world.out_dir), "--database-url", db.url, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        profiles = csv_rows(world, "profiles.csv")
        assert f"{profiles:,} auth.users, {profiles:,} profiles" in done.stdout
        again = chatmigrate("seed", "--from", str(world.out_dir), "--database-url", db.url, cwd=tmp_path)
        assert again.returncode == 2 and "already has" in again.stderr and "Traceback" not in again.stderr
    assert "seed" in chatmigrate("--help", cwd=tmp_path).stdout
