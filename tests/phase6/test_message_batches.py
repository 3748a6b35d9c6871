"""rules.classify_messages, the message rules inline for a whole batch, against the reference.

Every result must equal ``classify_message(legacy_message(row), lk)``: the table cases of
test_rules, and generated rows mixing every value shape the inline path treats apart
(ids to lowercase or trim, chats found / skipped / unknown / divided by a Route, text and
integer flags, datetime texts of every length, zone and damage, NULs, images).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatmigrate.phase6 import records as r
from chatmigrate.phase6 import rules

CHAT, SKIPPED, DIVIDED, UNKNOWN = ("eeeeeeee-0000-4000-8000-000000000005", "99999999-0000-4000-8000-000000000000",
                                   "dddddddd-0000-4000-8000-00000000000d", "77777777-0000-4000-8000-000000000000")
CUSTOMER, STYLIST = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
PART_A = r.TargetChat(DIVIDED, None, "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z", CUSTOMER, None)
PART_B = r.TargetChat("cccccccc-0000-4000-8000-00000000000b", None, "2024-06-01T00:00:00.000000Z",
                      "2024-06-01T00:00:00.000000Z", None, STYLIST)
ROUTES: dict[str, r.ChatRoute] = {
    CHAT: r.TargetChat(CHAT, "b", "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z", CUSTOMER, STYLIST),
    SKIPPED: None,
    DIVIDED: r.Route(("", "2024-06-01T00:00:00.000000Z"), (PART_A, PART_B)),
    "12345": r.TargetChat("12345", "b", "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z", CUSTOMER,
                          STYLIST),
}


def lookups(tz: Any = None) -> rules.Lookups:
    return rules.Lookups({}, frozenset(), {}, tz).with_chats(ROUTES)


def row(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "0f0f0f0f-0000-4000-8000-000000000009", "message": "Hei! Ses på fredag ;)",
                            "is_image": 0, "is_from": "buyer", "chat_id": CHAT, "is_unread": 1,
                            "created_at": "2024-03-01 11:00:00.250000"}
    base.update(kw)
    return base


def reference(rows: list[dict[str, Any]], lk: rules.Lookups) -> list[Any]:
    return [rules.classify_message(rules.legacy_message(v), lk) for v in rows]


CASES = [
    {}, {"id": "0F0F0F0F-0000-4000-8000-000000000009"}, {"id": "  0f0f0f0f  "}, {"id": ""}, {"id": 42},
    {"chat_id": UNKNOWN}, {"chat_id": None}, {"chat_id": ""}, {"chat_id": "  "}, {"chat_id": SKIPPED},
    {"chat_id": CHAT.upper()}, {"chat_id": f" {CHAT}\t"}, {"chat_id": 12345}, {"chat_id": DIVIDED},
    {"chat_id": DIVIDED, "created_at": "2024-07-01 00:00:00.000000"},
    {"chat_id": DIVIDED, "is_from": "stylist"}, {"chat_id": DIVIDED, "created_at": "2024-07-01 00:00:00.000000",
                                                 "is_from": "stylist"},
    {"is_from": ""}, {"is_from": "admin"}, {"is_from": None}, {"is_from": "Buyer"}, {"is_from": "stylist"},
    {"created_at": "0000-00-00 00:00:00.000000"}, {"created_at": None}, {"created_at": "2024-13-45 99:00:00"},
    {"created_at": "2024-02-30 10:00:00.000000"}, {"created_at": "2024-03-01 10:00:00"},
    {"created_at": "2024-03-01 10:00:00.5"}, {"created_at": " 2024-03-01 10:00:00.25000"},
    {"created_at": "2024-03-01 10:00:00.25000 "}, {"created_at": "2024-03-01 10:00:00,250000"},
    {"created_at": "2024-03-01T10:00:00.250000"}, {"created_at": "2024-03-01 10:00:00.250+01"},
    {"created_at": "2024-03-01 10:00:00.25+01:00"}, {"created_at": "2024-03-01 10:00:00+0100"},
    {"created_at": "２０２４-03-01 10:00:00.250000"}, {"created_at": ""}, {"created_at": "garbage"},
    {"message": None}, {"message": ""}, {"message": "a\x00b\x00"}, {"message": "x" * 70_000},
    {"is_image": 1, "message": f"https://s3.amazonaws.com/Chat-Images//{CHAT}/x%20y.png"},
    {"is_image": 2, "message": "a\x00"}, {"is_image": -1}, {"is_image": "0"}, {"is_image": " 1"}, {"is_image": ""},
    {"is_image": None}, {"is_image": True}, {"is_image": False},
    {"is_unread": 0}, {"is_unread": 2}, {"is_unread": None}, {"is_unread": "0"}, {"is_unread": " 0 "},
    {"is_unread": False}, {"is_unread": -1}, {"is_image": 0.0}, {"is_unread": 0.0},
]


@pytest.mark.parametrize("tz", [None, UTC, ZoneInfo("Europe/Oslo")], ids=["no-zone", "utc", "oslo"])
@pytest.mark.parametrize("change", CASES, ids=[repr(c)[:60] for c in CASES])
def test_each_case_as_the_reference(change: dict[str, Any], tz: Any) -> None:
    rows = [row(**change)]
    assert rules.classify_messages(rows, lookups(tz)) == reference(rows, lookups(tz))


def test_a_batch_keeps_file_order_and_types() -> None:
    rows = [row(**c) for c in CASES]
    got, want = rules.classify_messages(rows, lookups()), reference(rows, lookups())
    assert got == want
    assert [type(x) for x in got] == [type(x) for x in want]
    assert [type(x.message) for x in got if isinstance(x, rules.MessageOutcome)] == \
        [r.TargetMessage] * sum(1 for x in want if isinstance(x, rules.MessageOutcome))


def mostly(common: Any, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The common value half the time (so whole rows often reach the later rules), else ``other``."""
    return st.one_of(st.just(common), other)


ids = mostly("0f0f0f0f-0000-4000-8000-000000000009", st.sampled_from(
    ["0F0F0F0F-0000-4000-8000-00000000000A", " a ", "", "ÅØ", "1", 7]) | st.text(max_size=6))
chat_ids = mostly(CHAT, st.sampled_from([CHAT.upper(), f" {CHAT} ", SKIPPED, DIVIDED, UNKNOWN, None, "", 12345,
                                         "12345 "]))
dates = mostly("2024-03-01 11:00:00.250000", st.sampled_from(
    ["2024-07-01 00:00:00.000001", "2023-12-31 23:59:59.999999", "2024-03-31 01:30:00.000000",
     "0000-00-00 00:00:00.000000", "2024-02-30 00:00:00.000000", "2024-03-01 11:00:00", "2024-03-01 11:00:00.25+01",
     " 2024-03-01 11:00:00.25000", "2024-03-01 11:00:00,250000", None, "", "x"]) | st.text(max_size=27))
flags = st.sampled_from([0, 1, 2, -1, "0", "1", " 0", "", None, True, False, 0.0])
texts = mostly("hei", st.sampled_from(["", "a\x00b", "https://x/Chat-Images//c/p.jpeg ", None]) | st.text(max_size=8))
rows_st = st.fixed_dictionaries({"id": ids, "message": texts, "is_image": mostly(0, flags),
                                 "is_from": mostly("buyer", st.sampled_from(["stylist", "", None, "admin"])),
                                 "chat_id": chat_ids, "is_unread": flags, "created_at": dates})


@settings(max_examples=400, deadline=None)
@given(st.lists(rows_st, max_size=12), st.sampled_from([None, UTC, ZoneInfo("Europe/Oslo")]))
def test_generated_batches_as_the_reference(rows: list[dict[str, Any]], tz: Any) -> None:
    assert rules.classify_messages(rows, lookups(tz)) == reference(rows, lookups(tz))


@pytest.mark.parametrize("column", ["message", "is_image", "is_from", "chat_id", "is_unread", "created_at"])
def test_a_row_without_a_column_as_the_reference(column: str) -> None:
    rows = [row(), {k: v for k, v in row().items() if k != column}, row(is_from="stylist")]
    assert rules.classify_messages(rows, lookups()) == reference(rows, lookups())


def test_a_row_without_an_id_fails_as_the_reference() -> None:
    with pytest.raises(KeyError):
        rules.classify_messages([{k: v for k, v in row().items() if k != "id"}], lookups())
    with pytest.raises(KeyError):
        reference([{k: v for k, v in row().items() if k != "id"}], lookups())
