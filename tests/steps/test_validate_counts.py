"""Validation's counts are complete: a capped list of ids in ``chat-validation-results.json``
comes with its ``*_total`` and ``*_truncated``, and the summary prints the totals.

The cap (10,000 ids per finding) is lowered here through ``validate(max_listed=...)``
rather than by deleting more than 10,000 rows.
"""

from __future__ import annotations

import json

import pytest

from chatmigrate import cli_render
from chatmigrate.postgres.db import seed_from_csv
from chatmigrate.steps.run import run
from chatmigrate.steps.validate import LISTED, validate
from chatmigrate.synth import generate
from pgdb import throwaway
from synthfiles import fresh_temp_dir

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("counts"), messages=2000, seed=5)


def test_more_missing_rows_than_the_cap_are_all_counted(world, tmp_path):
    with throwaway("counts") as db:
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        assert run(str(world.dump), temp, db.url).success
        gone = db.execute("DELETE FROM chat_messages WHERE id IN (SELECT id FROM chat_messages ORDER BY id LIMIT 37)")
        assert gone == 37
        res = validate(str(world.dump), temp, db.url, max_listed=10)
        doc = json.loads((temp / "chat-validation-results.json").read_text())
        assert not res.is_valid
        assert (len(doc["missing_messages"]), doc["missing_messages_total"], doc["missing_messages_truncated"]) == \
            (10, 37, True)
        assert doc["max_listed"] == 10
        for key in LISTED:  # every capped list has both
            assert doc[f"{key}_total"] >= len(doc[key]) and isinstance(doc[f"{key}_truncated"], bool)
        assert (doc["missing_chats_total"], doc["missing_chats_truncated"]) == (0, False)
        assert "37 processed message(s) are not in the target" in doc["validation_errors"]
        with cli_render.out.capture() as shown:
            cli_render.print_validate(res)
        text = shown.get()
        assert "missing 0 chats, 37 messages" in text
        assert "lists the first 10 ids of missing_messages" in text
