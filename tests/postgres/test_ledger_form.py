"""The ledger's form: run_rows without a primary key, a ledger of the earlier form, the message chunks.

A new ledger's ``chatmigrate.run_rows`` has no index (a primary key on random uuids cost
seconds at a million rows); that no two entries name one row is kept by a check before the
rows are recorded. A ledger an earlier version made (primary key (kind, id)) keeps working:
create records into it, validate tells the app's changes by its xmin, rollback deletes
exactly its rows. The messages are inserted, and recorded, in chunks with a progress step each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatmigrate.errors import LoadCommitted
from chatmigrate.postgres import load
from chatmigrate.postgres.db import seed_from_csv
from chatmigrate.postgres.ledger import LedgerError
from chatmigrate.steps.create import create
from chatmigrate.steps.extract import extract
from chatmigrate.steps.rollback import rollback
from chatmigrate.steps.validate import validate
from chatmigrate.synth import generate
from pgdb import PgDatabase, throwaway
from synthfiles import fresh_temp_dir

pytestmark = pytest.mark.postgres

# the ledger as chatmigrate made it before run_rows lost its primary key
EARLIER_DDL = """
CREATE SCHEMA chatmigrate;
CREATE TABLE chatmigrate.runs (
    run_id bigserial PRIMARY KEY, started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz,
    indexes_built_at timestamptz, rolled_back_at timestamptz, dump_path text, dump_sha256 text, temp_dir text,
    link_mode text, chat_schema text, chats bigint NOT NULL DEFAULT 0, messages bigint NOT NULL DEFAULT 0,
    media bigint NOT NULL DEFAULT 0, indexes text[] NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('committed', 'rolled back'))
);
CREATE TABLE chatmigrate.run_rows (
    run_id bigint NOT NULL REFERENCES chatmigrate.runs (run_id),
    kind text NOT NULL CHECK (kind IN ('chat', 'message', 'media')),
    id uuid NOT NULL,
    PRIMARY KEY (kind, id)
);
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("ledgerform"), messages=1200, seed=7)


@pytest.fixture
def target(world: Any, tmp_path: Path) -> Any:
    with throwaway("ledgerform") as db:
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        extract(str(world.dump), temp)
        yield db, temp


def ledger_counts(db: PgDatabase) -> dict[str, int]:
    return dict(db.query("SELECT kind, count(*) FROM chatmigrate.run_rows GROUP BY kind"))


def target_counts(db: PgDatabase) -> dict[str, int]:
    return {"chat": db.count("chats"), "message": db.count("chat_messages"), "media": db.count("media")}


def ledger_indexes(db: PgDatabase) -> int:
    return int(db.query("SELECT count(*) FROM pg_index WHERE indrelid = 'chatmigrate.run_rows'::regclass")[0][0])


class Steps:
    def __init__(self) -> None:
        self.tasks: list[list[Any]] = []

    def start(self, label: str, total: int | None, unit: str = "rows") -> None:
        self.tasks.append([label, total])

    def update(self, done: int) -> None:
        self.tasks[-1].append(done)

    def finish(self) -> None:
        self.tasks[-1].append("done")


def test_a_new_ledger_has_no_index_and_lists_each_inserted_row_once(target: Any) -> None:
    db, temp = target
    res = create(temp, db.url)
    assert ledger_indexes(db) == 0
    assert ledger_counts(db) == target_counts(db)
    assert res.counts.messages.created == db.count("chat_messages") > 0
    dup = db.query("SELECT count(*) FROM (SELECT kind, id FROM chatmigrate.run_rows GROUP BY 1, 2 "
                   "HAVING count(*) > 1) d")
    assert dup == [(0,)]
    again = create(temp, db.url)  # a no-op: every row already present, nothing recorded twice
    assert again.counts.messages.created == 0 and again.counts.messages.present == res.counts.messages.created
    assert ledger_counts(db) == target_counts(db)


def test_a_row_the_ledger_lists_already_is_refused_as_a_primary_key_would(target: Any) -> None:
    """The app deleted a migrated message; a re-run would insert it again under a second entry."""
    db, temp = target
    create(temp, db.url)
    (mid,) = db.query("SELECT id::text FROM public.chat_messages m WHERE NOT EXISTS "
                      "(SELECT 1 FROM public.media x WHERE x.chat_message_id = m.id) ORDER BY id LIMIT 1")[0]
    db.execute("DELETE FROM public.chat_messages WHERE id = %s", (mid,))
    before = (target_counts(db), ledger_counts(db))
    with pytest.raises(LedgerError, match=f"already lists message {mid} as written by run 1"):
        create(temp, db.url)
    assert (target_counts(db), ledger_counts(db)) == before  # nothing was written


def test_a_ledger_of_the_earlier_form_is_recorded_validated_and_rolled_back(world: Any, target: Any) -> None:
    db, temp = target
    db.execute(EARLIER_DDL)
    res = create(temp, db.url)
    assert ledger_indexes(db) == 1  # its primary key stays, and is used
    assert ledger_counts(db) == target_counts(db)
    (mid,) = db.query("SELECT id::text FROM public.chat_messages WHERE NOT is_read ORDER BY id LIMIT 1")[0]
    db.execute("UPDATE public.chat_messages SET is_read = true WHERE id = %s", (mid,))  # a user read it
    out = validate(str(world.dump), temp, db.url)
    assert out.is_valid, out.doc["validation_errors"]
    assert out.doc["changed_since_migration"]["messages_read"] == 1
    assert out.doc["changed_since_migration"]["messages_changed"] == 1
    counts, _ = rollback(temp, db.url, run_id=res.run_id)
    assert (counts.chats, counts.messages) == (res.counts.chats.created, res.counts.messages.created)
    assert target_counts(db) == {"chat": 0, "message": 0, "media": 0}
    assert ledger_counts(db) == {}


def test_messages_go_in_chunks_each_a_progress_step_with_its_ledger_entries(
        target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    db, temp = target
    monkeypatch.setattr(load, "CHUNK_ROWS", 100)
    steps = Steps()
    res = create(temp, db.url, progress=steps)
    n = res.counts.messages.created
    (task,) = [t for t in steps.tasks if t[0] == "inserting the messages"]
    assert task[1] == n and task[-1] == "done"
    done = task[2:-1]
    assert len(done) >= n // 100 and done == sorted(done) and done[-1] == n
    assert all(b - a <= 2 * 100 for a, b in zip([0, *done], done, strict=False))  # about a chunk per step
    assert db.count("chat_messages") == n == ledger_counts(db)["message"]
    # the manifest, written beside the indexes, reports its progress too and lists every message
    (manifest,) = [t for t in steps.tasks if t[0] == "writing chats-created.json"]
    assert manifest[1] == n and manifest[-2] == n


def test_a_chunked_load_skips_what_is_present_and_records_only_what_it_inserted(
        target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the messages are in the target already (an earlier load of them, rolled into the app)."""
    db, temp = target
    monkeypatch.setattr(load, "CHUNK_ROWS", 50)
    first = create(temp, db.url)
    n = first.counts.messages.created
    keep = n // 2
    db.execute("DELETE FROM chatmigrate.run_rows")
    db.execute("DELETE FROM public.chat_messages WHERE id IN (SELECT id FROM public.chat_messages m WHERE NOT "
               "EXISTS (SELECT 1 FROM public.media x WHERE x.chat_message_id = m.id) ORDER BY id LIMIT %s)",
               (n - keep,))
    gone = n - db.count("chat_messages")
    again = create(temp, db.url)
    assert again.counts.messages.created == gone and again.counts.messages.present == n - gone
    assert ledger_counts(db)["message"] == gone
    assert db.count("chat_messages") == n


def test_a_manifest_that_cannot_be_written_says_the_load_is_committed(
        target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    db, temp = target
    from chatmigrate import planfiles_created

    def broken(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(planfiles_created, "write_created", broken)
    with pytest.raises(LoadCommitted) as err:
        create(temp, db.url)
    assert "writing chats-created.json" in str(err.value)
    assert db.count("chat_messages") > 0 and db.count("chat_messages") == ledger_counts(db)["message"]
    # the indexes were built all the same, beside it, and recorded
    assert db.query("SELECT indexes <> '{}' FROM chatmigrate.runs") == [(True,)]


def test_no_query_of_the_ledger_runs_once_per_row(target: Any) -> None:
    """The ledger has no index on id: every query joining it must be a join (hash or merge), never a
    subquery run per row, which scans the whole ledger each time (an OR'd EXISTS did: 131 s at 200k)."""
    from chatmigrate.postgres import checks

    db, temp = target
    create(temp, db.url)
    with db.connect() as conn:
        checks.create_expected_tables(conn)
        conn.execute("INSERT INTO cm_exp_chat (id) SELECT id FROM public.chats")
        conn.execute("INSERT INTO cm_exp_msg (id) SELECT id FROM public.chat_messages")
        conn.execute("ANALYZE cm_exp_chat; ANALYZE cm_exp_msg")
        queries = {"changed_messages": checks.CHANGED_MESSAGES, **checks.CHANGED_QUERIES}
        for name, query in queries.items():
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query, {"since": "2000-01-01"}).fetchall())
            scans = [line for line in plan.splitlines() if "run_rows" in line]
            assert scans and "SubPlan" not in plan, f"{name}:\n{plan}"
