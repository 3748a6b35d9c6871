"""The later chat schema: chats keyed by (customer_id, stylist_id), one per pair.

When the target's chats table has customer_id and stylist_id instead of booking_id,
``run`` detects it and migrates by participants: every active chat whose buyer and
stylist are mapped, with the legacy chats of one pair merged into one chat (the
previous implementation lost them). Validation, re-runs and rollback work the same.
"""

from __future__ import annotations

import pytest

from chatmigrate.dump import read_rows
from chatmigrate.errors import ChatmigrateError
from chatmigrate.phase6 import links, rules
from chatmigrate.phase6 import records as r
from chatmigrate.postgres.db import create_schema, seed_from_csv
from chatmigrate.steps.classify import load_phase_inputs
from chatmigrate.steps.create import create
from chatmigrate.steps.extract import extract
from chatmigrate.steps.rollback import rollback
from chatmigrate.steps.run import run
from chatmigrate.synth import generate
from pgdb import throwaway
from synthfiles import fresh_temp_dir

BUYER, STYLIST, NOBODY = "b0000000-0000-4000-8000-000000000001", "50000000-0000-4000-8000-000000000002", "dead0000-0000-4000-8000-000000000000"
CUSTOMER, STYLIST_P = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def chat(id_: str, buyer: str = BUYER, active: int = 1, created: str = "2024-01-01 00:00:00.000000") -> r.LegacyChat:
    return r.LegacyChat(id_, buyer, STYLIST, None, active, created, "2024-06-01 00:00:00.000000")


def test_one_chat_per_pair_merging_legacy_chats():
    lk = rules.Lookups({}, frozenset(), {BUYER: CUSTOMER, STYLIST: STYLIST_P})
    a = chat("c0000000-0000-4000-8000-00000000000a", created="2024-02-01 00:00:00.000000")
    b = chat("c0000000-0000-4000-8000-00000000000b", created="2024-01-01 00:00:00.000000")
    targets, skips, decisions, routes = links.link_by_participants(
        [a, b, chat("c0000000-0000-4000-8000-00000000000c", buyer=NOBODY),
         chat("c0000000-0000-4000-8000-00000000000d", active=0)], lk)
    assert [s.reason for s in skips] == [links.PEOPLE_NOT_MAPPED, r.CHAT_NOT_ACTIVE]
    assert len(targets) == 1
    t = targets[0]
    assert (t.id, t.booking_id, t.customer_id, t.stylist_id) == (links.pair_chat_id(CUSTOMER, STYLIST_P), None,
                                                                 CUSTOMER, STYLIST_P)
    assert (t.created_at, t.updated_at) == ("2024-01-01T00:00:00.000000Z", "2024-06-01T00:00:00.000000Z")
    assert {d.legacy_id: d.targets for d in decisions if d.rule} == {a.id: ((t.id, ""),), b.id: ((t.id, ""),)}
    msg = r.LegacyMessage("m1", "hei", 0, "stylist", a.id.upper(), 0, "2024-03-01 00:00:00")
    out = rules.classify_message(msg, lk.with_chats(routes))
    assert (out.message.chat_id, out.message.sender_id) == (t.id, STYLIST_P)  # type: ignore[union-attr]


def test_a_pair_with_one_chat_keeps_the_legacy_id():
    lk = rules.Lookups({}, frozenset(), {BUYER: CUSTOMER, STYLIST: STYLIST_P})
    targets, _, _, _ = links.link_by_participants([chat("c0000000-0000-4000-8000-00000000000a")], lk)
    assert [t.id for t in targets] == ["c0000000-0000-4000-8000-00000000000a"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("pairs"), messages=3000, seed=9)


def _oracle(world) -> tuple[int, int]:
    """Distinct mapped pairs among active chats, and their migratable messages, from the dump."""
    mapping = {k.lower(): v for k, v in load_phase_inputs(world.temp_dir).mapping.items()}
    pairs, chat_pair = set(), {}
    for row in read_rows(world.dump, ["chat"]):
        v = row.values
        c, s = mapping.get(v["buyer_id"].lower()), mapping.get(v["stylist_id"].lower())
        if v["is_active"] == 1 and c and s:
            pairs.add((c, s))
            chat_pair[v["id"].lower()] = (c, s)
    messages = sum(
        1 for row in read_rows(world.dump, ["message"])
        if (row.values["chat_id"] or "").lower() in chat_pair and row.values["is_from"] in ("buyer", "stylist")
        and not row.values["created_at"].startswith("0000")
    )
    return len(pairs), messages


@pytest.mark.postgres
def test_run_detects_the_schema_and_migrates_every_mapped_pair(world, tmp_path):
    pairs, messages = _oracle(world)
    with throwaway("pairs", schema=False) as db:
        create_schema(db.url, "participants")
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        res = run(str(world.dump), temp, db.url)  # default --link strict: the schema decides
        assert res.stats["link_mode"] == "participants"
        assert res.validation.is_valid, res.validation.doc["validation_errors"]
        assert db.count("chats") == pairs
        assert db.count("chat_messages") == messages
        assert db.query("SELECT count(*) FROM chats GROUP BY customer_id, stylist_id HAVING count(*) > 1") == []
        assert all(x["status"] != "ERROR" for x in res.validation.doc["sql_checks"])
        def snapshot() -> list[list[tuple]]:
            return [db.query(f"SELECT * FROM {t} ORDER BY id") for t in ("chats", "chat_messages", "media")]

        before = snapshot()
        again = run(str(world.dump), temp, db.url)
        assert again.creation.counts.messages.created == 0 and snapshot() == before
        counts, _ = rollback(temp, db.url)
        assert (counts.chats, counts.messages) == (pairs, messages)
        assert db.counts() == {"chats": 0, "chat_messages": 0, "media": 0}


@pytest.mark.postgres
def test_create_refuses_a_file_extracted_for_the_other_schema(world, tmp_path):
    with throwaway("pairs_mismatch", schema=False) as db:
        create_schema(db.url, "participants")
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        extract(str(world.dump), temp, link="strict")
        with pytest.raises(ChatmigrateError) as info:
            create(temp, db.url)
        assert info.value.exit_code == 2 and "--link participants" in str(info.value)
        assert db.counts() == {"chats": 0, "chat_messages": 0, "media": 0}
