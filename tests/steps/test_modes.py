"""Link modes are explicit: ``plan`` shows what ``run`` will do, and ``run`` does what it says.

- ``plan --database-url`` reads the target's chat schema and puts first the mode ``run``
  would use there; its figures for that mode are exactly what ``run`` then migrates, on
  the booking-keyed schema and on the later one keyed by customer and stylist.
- A ``--link`` the target cannot honour is refused (exit 2) before anything is written.
- The stats file says which mode ran and why ("option", "detected", "default").
"""

from __future__ import annotations

import pytest

from chatmigrate.errors import LinkModeRefused
from chatmigrate.phase6.kinds import ChatSchema, LinkMode
from chatmigrate.postgres.db import create_schema, seed_from_csv
from chatmigrate.steps.modes import Mode, plan_order, resolve
from chatmigrate.steps.plan import plan
from chatmigrate.steps.run import run
from chatmigrate.synth import generate
from clirun import chatmigrate
from pgdb import throwaway
from synthfiles import fresh_temp_dir

RESOLVE: list[tuple[LinkMode | None, ChatSchema | None, Mode | None]] = [
    # requested, target's schema -> the mode used (None: refused)
    (None, None, Mode("strict", "default")),
    (None, "booking", Mode("strict", "default", "booking")),
    (None, "participants", Mode("participants", "detected", "participants")),
    ("recover", "booking", Mode("recover", "option", "booking")),
    ("strict", "booking", Mode("strict", "option", "booking")),
    ("participants", "participants", Mode("participants", "option", "participants")),
    ("strict", "participants", None),
    ("recover", "participants", None),
    ("participants", "booking", None),
    ("participants", None, Mode("participants", "option")),  # extract: no target to ask
]


@pytest.mark.parametrize(("requested", "schema", "expected"), RESOLVE)
def test_the_mode_and_why(requested, schema, expected):
    if expected is None:
        with pytest.raises(LinkModeRefused) as info:
            resolve(requested, schema)
        assert info.value.exit_code == 2 and "nothing was written" in str(info.value)
    else:
        assert resolve(requested, schema) == expected


@pytest.mark.parametrize(("mode", "order"), [
    (Mode("strict", "default"), ("strict", "recover", "participants")),
    (Mode("recover", "option"), ("recover", "strict", "participants")),
    (Mode("strict", "default", "booking"), ("strict", "recover")),
    (Mode("recover", "option", "booking"), ("recover", "strict")),
    (Mode("participants", "detected", "participants"), ("participants",)),
])
def test_plan_shows_runs_mode_first(mode, order):
    assert plan_order(mode) == order


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("modes"), messages=3000, seed=9)


@pytest.mark.postgres
@pytest.mark.parametrize(("schema", "link", "expected_mode", "source"), [
    ("booking", None, "strict", "default"),
    ("booking", "recover", "recover", "option"),
    ("participants", None, "participants", "detected"),
])
def test_plans_figures_are_what_run_migrates(world, tmp_path, schema, link, expected_mode, source):
    with throwaway(f"modes_{schema}", schema=False) as db:
        create_schema(db.url, schema)
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        doc = plan(str(world.dump), temp, url=db.url, link=link)
        assert db.counts() == {"chats": 0, "chat_messages": 0, "media": 0}  # plan writes nothing
        assert (doc["run_mode"], doc["run_mode_source"], doc["chat_schema"]) == (expected_mode, source, schema)
        assert next(iter(doc["modes"])) == expected_mode
        figures = doc["modes"][expected_mode]
        res = run(str(world.dump), temp, db.url, link=link)
        assert res.success, res.validation.doc["validation_errors"]
        assert (res.stats["link_mode"], res.stats["link_mode_source"]) == (expected_mode, source)
        assert res.creation.counts.chats.created == figures["target_chats"] == db.count("chats") > 0
        assert res.creation.counts.messages.created == figures["messages_migrating"] == db.count("chat_messages") > 0


@pytest.mark.postgres
@pytest.mark.parametrize(("schema", "link"), [("participants", "strict"), ("participants", "recover"),
                                              ("booking", "participants")])
def test_run_refuses_a_mode_the_target_cannot_honour(world, tmp_path, schema, link):
    with throwaway(f"modes_refused_{schema}", schema=False) as db:
        create_schema(db.url, schema)
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        before = sorted(p.name for p in temp.iterdir())
        p = chatmigrate("run", "--dump", str(world.dump), "--temp-dir", str(temp), "--database-url", db.url,
                        "--link", link, cwd=tmp_path)
        assert p.returncode == 2, p.stderr
        assert f"--link {link} cannot be used" in p.stderr and "nothing was written" in p.stderr
        assert db.counts() == {"chats": 0, "chat_messages": 0, "media": 0}
        assert sorted(x.name for x in temp.iterdir()) == before  # not even the stats file
        assert db.query("SELECT to_regclass('chatmigrate.runs')") == [(None,)]


@pytest.mark.postgres
def test_the_console_says_which_mode_ran_and_why(world, tmp_path):
    with throwaway("modes_console", schema=False) as db:
        create_schema(db.url, "participants")
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        p = chatmigrate("plan", "--dump", str(world.dump), "--temp-dir", str(temp), "--database-url", db.url,
                        cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert "`run` would use participants (detected)" in p.stdout
        p = chatmigrate("run", "--dump", str(world.dump), "--temp-dir", str(temp), "--database-url", db.url,
                        cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert "link mode: participants (detected: the target's chats are keyed by customer and stylist)" in p.stdout
        p = chatmigrate("extract", "--dump", str(world.dump), "--temp-dir", str(temp), cwd=tmp_path)
        assert "link mode: strict (default: the plan's rule)" in p.stdout
