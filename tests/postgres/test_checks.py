"""Step 3's reconciliation (``chatmigrate.postgres.checks``) on a real PostgreSQL.

A small migrated target (three chats, one of them empty; text and image messages from
both roles; the image's media row) and exactly its rows staged as expected: nothing is
found, and the REPEATABLE READ READ ONLY protocol step 3 uses writes nothing. Then one
table row per kind of finding: a single defect is planted in the target, and exactly
that finding lists exactly that row -- every other finding stays empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import pgdb
import pgrows
from chatmigrate.phase6 import records as r
from chatmigrate.postgres import checks
from pgrows import Seeded, chat, media, message


@dataclass
class Migrated:
    db: pgdb.PgDatabase
    s: Seeded
    chats: list[r.TargetChat]
    messages: list[r.TargetMessage]
    media: list[r.PlannedMedia]


@pytest.fixture(scope="module")
def migrated(postgres: Any) -> Iterator[Migrated]:
    with pgdb.throwaway("pgtest_checks") as db:
        s = pgrows.seed(db)
        a, b, empty = chat(s.bookings[0]), chat(s.bookings[1]), chat(s.bookings[2])
        msgs = [
            message(a, s.customer, content="Hei! Har du tid fredag?", is_read=True),
            message(a, s.stylist, content="Ja, kl. 14 😀", role="stylist", created_at="2024-03-01T09:05:00.000001Z"),
            message(a, s.customer, content="", has_image=True, created_at="2024-03-01T09:06:00Z"),
            message(b, s.stylist, content="Takk\tfor\nsist \\o/", role="stylist"),
        ]
        planned = [media(msgs[2])]
        with db.connect() as conn, conn.cursor() as cur:
            cur.executemany("INSERT INTO public.chats (id, booking_id, created_at, updated_at) VALUES (%s, %s, %s, %s)",
                            [(c.id, c.booking_id, c.created_at, c.updated_at) for c in (a, b, empty)])
            cur.executemany(
                "INSERT INTO public.chat_messages (id, chat_id, sender_id, content, is_read, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [(m.id, m.chat_id, m.sender_id, m.content, m.is_read, m.created_at) for m in msgs])
            cur.executemany("INSERT INTO public.media (id, owner_id, file_path, media_type, chat_message_id, created_at)"
                            " VALUES (%s, %s, %s, 'chat_image', %s, %s)",  # created with its message, as create does
                            [(md.id, md.owner_id, md.file_path, md.message_id, msgs[2].created_at) for md in planned])
        yield Migrated(db, s, [a, b, empty], msgs, planned)


def reconcile_with(m: Migrated, *defect: str, params: tuple[Any, ...] = (),
                   schema: str = "booking") -> checks.Reconciliation:
    """Stage the expected rows, plant ``defect`` in the same transaction, reconcile, roll back."""
    with m.db.connect(autocommit=False) as conn:
        checks.create_expected_tables(conn)
        checks.stage_expected(conn, m.chats, m.messages, m.media)
        for statement in defect:
            conn.execute(statement, params)
        try:
            return checks.reconcile(conn, schema)
        finally:
            conn.rollback()


def test_a_faithful_migration_has_no_findings_and_the_check_writes_nothing(migrated: Migrated) -> None:
    before = migrated.db.snapshot()
    with migrated.db.connect() as conn:  # as steps.validate does it: stage, then read in one read-only snapshot
        checks.create_expected_tables(conn)
        assert checks.stage_expected(conn, migrated.chats, migrated.messages, migrated.media) == (3, 4, 1)
        checks.begin_read_only(conn)
        rec = checks.reconcile(conn)
        conn.rollback()
    assert rec.ok and rec.sees_all_rows
    assert {k: v for k, v in rec.findings.items() if v} == {}
    assert set(rec.findings) == set(checks.QUERIES)
    assert (rec.expected_chats, rec.expected_messages, rec.expected_media) == (3, 4, 1)
    assert (rec.total_pg_chats, rec.total_pg_messages, rec.total_pg_chat_media) == (3, 4, 1)
    assert migrated.db.snapshot() == before


def _ids(m: Migrated) -> dict[str, str]:
    a, b, empty = m.chats
    return {"a": a.id, "b": b.id, "empty": empty.id, "text": m.messages[0].id, "stylist_text": m.messages[1].id,
            "image": m.messages[2].id, "media": m.media[0].id, "spare_booking": m.s.bookings[3],
            "other_customer": m.s.other_customer, "customer": m.s.customer, "stylist": m.s.stylist}


# (finding, the defect as SQL with {names} from _ids, what the finding must list: a format of _ids,
# or a list of them for the findings that carry expected and actual values)
DEFECTS = [
    ("missing_chats", "DELETE FROM public.chats WHERE id = '{empty}'", "{empty}"),
    ("chat_booking_mismatches", "UPDATE public.chats SET booking_id = '{spare_booking}' WHERE id = '{empty}'",
     ["{empty}", "{empty_booking}", "{spare_booking}"]),
    ("chat_timestamp_mismatches",
     "UPDATE public.chats SET created_at = created_at + interval '1 second' WHERE id = '{empty}'", "{empty}"),
    ("missing_messages", "DELETE FROM public.chat_messages WHERE id = '{text}'", "{text}"),
    ("message_sender_mismatches", "UPDATE public.chat_messages SET sender_id = '{other_customer}' WHERE id = '{text}'",
     ["{text}", "{customer}", "{other_customer}"]),
    ("message_chat_mismatches", "UPDATE public.chat_messages SET chat_id = '{b}' WHERE id = '{text}'",
     ["{text}", "{a}", "{b}"]),
    ("message_content_mismatches", "UPDATE public.chat_messages SET content = content || ' ' WHERE id = '{text}'",
     "{text}"),
    ("message_read_mismatches", "UPDATE public.chat_messages SET is_read = NOT is_read WHERE id = '{text}'", "{text}"),
    ("message_timestamp_mismatches",  # one microsecond off
     "UPDATE public.chat_messages SET created_at = created_at - interval '1 microsecond' WHERE id = '{stylist_text}'",
     "{stylist_text}"),
    ("media_timestamp_mismatches",  # the migration's time instead of the message's
     "UPDATE public.media SET created_at = now() WHERE id = '{media}'", "{image}"),
    ("missing_media", "DELETE FROM public.media WHERE id = '{media}'", "{image}"),
    ("missing_media", "UPDATE public.media SET file_path = file_path || '.png' WHERE id = '{media}'", "{image}"),
    ("missing_media", "UPDATE public.media SET owner_id = '{stylist}' WHERE id = '{media}'", "{image}"),
    ("missing_media", "UPDATE public.media SET media_type = 'other' WHERE id = '{media}'", "{image}"),
    # the foreign keys forbid orphans; a target without them (dropped here, in the rolled-back transaction) may have some
    ("orphaned_chats", "ALTER TABLE public.chats DROP CONSTRAINT chats_booking_id_fkey; "
     "INSERT INTO public.chats (id, booking_id) VALUES ('{new}', '{new}')", "{new}"),
    ("orphaned_messages", "ALTER TABLE public.chat_messages DROP CONSTRAINT chat_messages_chat_id_fkey; "
     "INSERT INTO public.chat_messages (id, chat_id, sender_id, content) VALUES ('{new}', '{new}', '{customer}', 'x')",
     "{new}"),
]


@pytest.mark.parametrize("finding, defect, listed", DEFECTS,
                         ids=[f"{d[0]}-{i}" for i, d in enumerate(DEFECTS)])
def test_each_defect_is_found_by_exactly_its_check(migrated: Migrated, finding: str, defect: str,
                                                   listed: str | list[str]) -> None:
    names = {**_ids(migrated), "empty_booking": migrated.chats[2].booking_id or "", "new": pgrows.uid()}
    rec = reconcile_with(migrated, defect.format(**names))
    expected = listed.format(**names) if isinstance(listed, str) else [x.format(**names) for x in listed]
    assert {k: v for k, v in rec.findings.items() if v} == {finding: [expected]}
    assert not rec.ok  # every one of these makes the migration invalid


def test_every_defect_of_one_row_is_listed_under_each_finding_in_id_order(migrated: Migrated) -> None:
    """One join per expected table finds all of a row's findings at once: none hides another."""
    n = _ids(migrated)
    text, stylist_text = n["text"], n["stylist_text"]
    rec = reconcile_with(
        migrated,
        f"UPDATE public.chat_messages SET sender_id = '{n['other_customer']}', content = content || '!', "
        f"is_read = NOT is_read, created_at = created_at + interval '1 hour' WHERE id = '{text}'",
        f"UPDATE public.chat_messages SET chat_id = '{n['b']}', content = 'x' WHERE id = '{stylist_text}'",
        f"DELETE FROM public.media WHERE chat_message_id = '{n['image']}'",
        f"DELETE FROM public.chat_messages WHERE id = '{n['image']}'",
        f"UPDATE public.chats SET booking_id = '{n['spare_booking']}', created_at = created_at - interval '1 day' "
        f"WHERE id = '{n['empty']}'",
        f"UPDATE public.chats SET created_at = created_at - interval '1 day' WHERE id = '{n['b']}'",
    )
    two = sorted([text, stylist_text])
    assert {k: v for k, v in rec.findings.items() if v} == {
        "missing_messages": [n["image"]],
        "message_sender_mismatches": [[text, n["customer"], n["other_customer"]]],
        "message_chat_mismatches": [[stylist_text, n["a"], n["b"]]],
        "message_content_mismatches": two,
        "message_read_mismatches": [text],
        "message_timestamp_mismatches": [text],
        "missing_media": [n["image"]],
        "chat_booking_mismatches": [[n["empty"], migrated.chats[2].booking_id, n["spare_booking"]]],
        "chat_timestamp_mismatches": sorted([n["empty"], n["b"]]),
    }
    assert list(rec.findings) == list(checks.QUERIES)  # every finding, in one order


def test_rows_of_the_app_beside_the_migration_are_no_finding(migrated: Migrated) -> None:
    n = _ids(migrated)
    rec = reconcile_with(
        migrated,
        f"INSERT INTO public.chats (booking_id) VALUES ('{n['spare_booking']}')",
        f"INSERT INTO public.chat_messages (chat_id, sender_id, content) VALUES ('{n['a']}', '{n['customer']}', 'app')",
        f"INSERT INTO public.media (owner_id, file_path, media_type) VALUES ('{n['customer']}', 'a.png', 'avatar')",
    )
    assert rec.ok and {k: v for k, v in rec.findings.items() if v} == {}
    assert (rec.total_pg_chats, rec.total_pg_messages, rec.total_pg_chat_media) == (4, 5, 1)


def test_the_participants_schema_checks_the_pair(postgres: Any) -> None:
    from chatmigrate.postgres.db import create_schema

    with pgdb.throwaway("pgtest_checks_pairs", schema=False) as db:
        create_schema(db.url, "participants")
        s = pgrows.seed(db, bookings=0)
        c = chat(None, customer=s.customer, stylist=s.stylist)
        db.execute("INSERT INTO public.chats (id, customer_id, stylist_id, created_at) VALUES (%s, %s, %s, %s)",
                   (c.id, s.customer, s.stylist, c.created_at))
        m = Migrated(db, s, [c], [], [])
        assert {k: v for k, v in reconcile_with(m, schema="participants").findings.items() if v} == {}
        rec = reconcile_with(m, "UPDATE public.chats SET stylist_id = %s", params=(s.other_stylist,),
                             schema="participants")
        assert {k: v for k, v in rec.findings.items() if v} == {
            "chat_booking_mismatches": [[c.id, f"{s.customer}/{s.stylist}", f"{s.customer}/{s.other_stylist}"]]}
