"""``run`` as a whole: the stats file, and a stop in step 2 while step 3's staging runs beside it.

``run`` stages step 3's expected rows in a thread while step 2 loads. When step 2 stops
(the plan's 5% error threshold), the staging is cancelled, nothing is committed, the
run's stats file says why, and the error reaches the caller.
"""

from __future__ import annotations

import json
import time

import pytest

from chatmigrate.dump.engine import choose as choose_engine
from chatmigrate.dump.engine import native_available
from chatmigrate.postgres.db import seed_from_csv
from chatmigrate.steps.create import ThresholdExceeded
from chatmigrate.steps.extract import extract
from chatmigrate.steps.run import run
from chatmigrate.synth import generate
from pgdb import throwaway
from synthfiles import fresh_temp_dir

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("run"), messages=4000, seed=21)


def test_a_threshold_stop_in_step_2_commits_nothing_and_is_recorded(world, tmp_path):
    with throwaway("run_stop") as db:
        seed_from_csv(db.url, world.seed_dir)
        # half of the migrated bookings vanish from the target: their chats cannot be created
        db.execute("DELETE FROM bookings WHERE id IN (SELECT id FROM bookings ORDER BY id LIMIT "
                   "(SELECT count(*) / 2 FROM bookings))")
        temp = fresh_temp_dir(world, tmp_path)
        started = time.perf_counter()
        with pytest.raises(ThresholdExceeded) as info:
            run(str(world.dump), temp, db.url)
        assert time.perf_counter() - started < 60
        assert info.value.exit_code == 1
        assert db.counts() == {"chats": 0, "chat_messages": 0, "media": 0}
        stats = json.loads((temp / "phase-6-migration-stats.json").read_text())
        assert stats["success"] is False and "limit" in stats["steps"]["error"]
        assert "extraction" in stats["steps"] and "validation" not in stats["steps"]
        failed = json.loads((temp / "failed-chats-creation.json").read_text())
        assert {x["error"] for x in failed["failed_chats"]} == {"Booking not found in the target bookings table"}


def test_run_writes_the_plans_stats_file(world, tmp_path):
    with throwaway("run_ok") as db:
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        res = run(str(world.dump), temp, db.url)
        stats = json.loads((temp / "phase-6-migration-stats.json").read_text())
        assert res.success and stats["success"] is True and stats["phase"] == 6
        assert set(stats["steps"]) == {"extraction", "creation", "validation"}
        assert stats["steps"]["validation"]["is_valid"] is True
        assert stats["duration_seconds"] > 0 and stats["started_at"] < stats["completed_at"]
        assert stats["link_mode"] == "strict"
        assert stats["steps"]["extraction"]["dump_reader"] == choose_engine()  # the reader that read the dump


@pytest.mark.parametrize("pure", ["1", "0"])
def test_the_stats_name_the_dump_reader_used(world, tmp_path, monkeypatch, pure):
    if pure == "0" and not native_available():
        pytest.skip("the native reader is not built here (no C compiler at install)")
    monkeypatch.setenv("CHATMIGRATE_PURE_PYTHON", pure)
    temp = fresh_temp_dir(world, tmp_path)
    meta = extract(str(world.dump), temp).metadata
    assert meta["dump_reader"] == ("python" if pure == "1" else "native")


def test_create_names_the_insert_triggers_that_fired(world, tmp_path):
    from chatmigrate.steps.create import create
    from chatmigrate.steps.extract import extract

    with throwaway("run_triggers") as db:
        seed_from_csv(db.url, world.seed_dir)
        db.execute("CREATE TABLE notified (n int)")
        db.execute("CREATE FUNCTION notify_new() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN INSERT INTO notified VALUES (1); RETURN NULL; END $$")
        db.execute("CREATE TRIGGER on_new_message AFTER INSERT ON chat_messages "
                   "FOR EACH ROW EXECUTE FUNCTION notify_new()")
        temp = fresh_temp_dir(world, tmp_path)
        extract(str(world.dump), temp)
        res = create(temp, db.url)
        assert res.insert_triggers == ["chat_messages.on_new_message"]  # the schema's own BEFORE UPDATE is not
        assert db.query("SELECT count(*) FROM notified")[0][0] == res.counts.messages.created > 0
        stats = json.loads((temp / "chat-creation-stats.json").read_text())
        assert stats["insert_triggers_fired"] == ["chat_messages.on_new_message"]
