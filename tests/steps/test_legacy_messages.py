"""What validation and extraction say about the legacy data itself: whose fact it is, which
rows, and what to do next.

- Nothing migrated: the first validation error says so, with the link mode, and points to
  ``chatmigrate plan`` and ``--link recover`` (the known dump: every chat.booking_id NULL).
- Chats without a booking in the legacy data are not blamed on Phase 4.
- Messages dated before their chat: the timeline warning names their ids and the count, and
  says it is a fact of the dump (the generator's truth knows how many it planted).
"""

from __future__ import annotations

import pytest

from chatmigrate.postgres.db import seed_from_csv
from chatmigrate.steps.run import run
from chatmigrate.synth import generate, read_truth
from pgdb import throwaway
from synthfiles import fresh_temp_dir

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("legacy"), messages=3000, seed=3)


@pytest.fixture(scope="module")
def booking_side_world(tmp_path_factory: pytest.TempPathFactory):
    """Like the known dump: chats link bookings only through booking.chat_id."""
    return generate(tmp_path_factory.mktemp("legacy_side"), messages=1500, seed=4, links="booking")


def test_messages_dated_before_their_chat_are_named_as_a_fact_of_the_dump(world, tmp_path):
    planted = read_truth(world.truth)["specials"]["messages_before_chat"]
    assert planted > 0
    with throwaway("legacy_timeline") as db:
        seed_from_csv(db.url, world.seed_dir)
        res = run(str(world.dump), fresh_temp_dir(world, tmp_path), db.url)
        assert res.success
        doc = res.validation.doc
        ids = doc["legacy_messages_before_chat"]
        assert doc["legacy_messages_before_chat_total"] == len(ids) > 0
        in_target = db.query("SELECT m.id::text FROM chat_messages m JOIN chats c ON c.id = m.chat_id "
                             "WHERE m.created_at < c.created_at ORDER BY m.created_at, m.id")
        assert ids == [x for (x,) in in_target]  # exactly the target's, and all of them from the dump
        timeline = next(x for x in doc["sql_checks"] if x["id"] == "message_timeline")
        assert timeline["status"] == "WARNING"
        assert ids[0] in timeline["detail"] and f"{len(ids):,} message(s) are dated before their chat in the " \
            "legacy data itself" in timeline["detail"] and "not a migration error" in timeline["detail"]


def test_nothing_migrated_points_to_plan_and_recover(booking_side_world, tmp_path):
    with throwaway("legacy_nothing") as db:
        seed_from_csv(db.url, booking_side_world.seed_dir)
        res = run(str(booking_side_world.dump), fresh_temp_dir(booking_side_world, tmp_path), db.url)
        assert db.count("chats") == 0 and not res.success
        first = res.validation.doc["validation_errors"][0]
        assert first.startswith("0 chats were migrated with --link strict")
        assert "chatmigrate plan" in first and "--link recover" in first
        alerts = res.extraction.metadata["alerts"]
        assert alerts[0].startswith("0 of ") and "chatmigrate plan" in alerts[0]
        legacy = [a for a in alerts if "have no booking in the legacy data" in a]
        assert len(legacy) == 1 and "review Phase 4" not in legacy[0] and "not a Phase 4 gap" in legacy[0]
