"""After go-live, validate tells what the app changed since the migration from migration errors.

The ledger knows which rows the migration wrote (chatmigrate.run_rows, inserted in the
same transaction as each row, hence with the same xmin until the row is updated) and
when it finished (chatmigrate.runs.finished_at). So:

| the app...                                   | reported under changed_since_migration | is_valid |
|----------------------------------------------|----------------------------------------|----------|
| marks a migrated message read (false → true) | messages_read                          | true     |
| adds a message to a migrated chat            | app_messages                           | true     |
| updates a migrated chat (updated_at)         | chats_updated                          | true     |
| edits a migrated message's content           | messages_changed (and the error says so)| false   |

A read status that differs without the row having been updated since is still a migration
error, and so is true → false.
"""

from __future__ import annotations

import pytest

from chatmigrate.postgres.db import seed_from_csv
from chatmigrate.steps.run import run
from chatmigrate.steps.validate import validate
from chatmigrate.synth import generate
from pgdb import throwaway
from synthfiles import fresh_temp_dir

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("golive"), messages=1500, seed=12)


@pytest.fixture
def migrated(world, tmp_path):
    with throwaway("golive") as db:
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        res = run(str(world.dump), temp, db.url)
        assert res.success
        ch = res.validation.doc["changed_since_migration"]
        assert ch["since"] is not None  # the run's own finished_at
        assert {k: v for k, v in ch.items() if k != "since"} == {
            "messages_changed": 0, "messages_read": 0, "chats_updated": 0, "app_messages": 0}
        yield db, temp


def _unread(db, n: int) -> list[str]:
    return [x for (x,) in db.query("SELECT id::text FROM chat_messages WHERE NOT is_read ORDER BY id LIMIT %s", (n,))]


def test_messages_a_user_read_are_changes_not_errors(world, migrated):
    db, temp = migrated
    ids = _unread(db, 3)
    db.execute("UPDATE chat_messages SET is_read = true WHERE id = ANY(%s::uuid[])", (ids,))
    res = validate(str(world.dump), temp, db.url)
    assert res.is_valid, res.doc["validation_errors"]
    ch = res.doc["changed_since_migration"]
    assert (ch["messages_read"], ch["messages_changed"]) == (3, 3)
    assert res.doc["other_mismatches"]["message_read_mismatches"] == 0


def test_app_messages_and_chat_updates_are_changes_not_errors(world, migrated):
    db, temp = migrated
    chat_id, sender = db.query("SELECT chat_id::text, sender_id::text FROM chat_messages ORDER BY id LIMIT 1")[0]
    db.execute("INSERT INTO chat_messages (chat_id, sender_id, content) VALUES (%s, %s, 'hei fra appen')",
               (chat_id, sender))
    db.execute("UPDATE chats SET created_at = created_at WHERE id = %s", (chat_id,))  # the trigger sets updated_at
    res = validate(str(world.dump), temp, db.url)
    assert res.is_valid, res.doc["validation_errors"]
    ch = res.doc["changed_since_migration"]
    assert (ch["app_messages"], ch["chats_updated"], ch["messages_changed"]) == (1, 1, 0)


def test_edited_content_is_still_an_error_and_says_it_happened_after_the_migration(world, migrated):
    db, temp = migrated
    (mid,) = db.query("SELECT id::text FROM chat_messages WHERE content <> '' ORDER BY id LIMIT 1")[0]
    db.execute("UPDATE chat_messages SET content = content || ' (redigert)' WHERE id = %s", (mid,))
    res = validate(str(world.dump), temp, db.url)
    assert not res.is_valid
    (line,) = [e for e in res.doc["validation_errors"] if "differ in content" in e]
    assert line.startswith("1 message(s) differ in content") and "changed in the target since the migration" in line
    assert res.doc["changed_since_migration"]["messages_changed"] == 1


@pytest.mark.parametrize("how", ["true-to-false", "not-updated-since"])
def test_a_read_status_the_migration_got_wrong_is_still_an_error(world, migrated, how):
    db, temp = migrated
    if how == "true-to-false":
        (mid,) = db.query("SELECT id::text FROM chat_messages WHERE is_read ORDER BY id LIMIT 1")[0]
        db.execute("UPDATE chat_messages SET is_read = false WHERE id = %s", (mid,))
    else:  # the row and its ledger entry changed together: as if the load itself had written true
        (mid,) = _unread(db, 1)
        with db.connect(autocommit=False) as conn, conn.transaction():  # one transaction: one xmin
            conn.execute("UPDATE chat_messages SET is_read = true WHERE id = %s", (mid,))
            conn.execute("UPDATE chatmigrate.run_rows SET id = id WHERE kind = 'message' AND id = %s", (mid,))
    res = validate(str(world.dump), temp, db.url)
    assert not res.is_valid
    (line,) = [e for e in res.doc["validation_errors"] if "read status" in e]
    assert line.startswith("1 message(s) differ in read status from the source")
    assert ("changed in the target since the migration" in line) == (how == "true-to-false")
    assert res.doc["changed_since_migration"]["messages_read"] == 0
