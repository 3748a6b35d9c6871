"""Step 2's database work (``chatmigrate.postgres.load.Loader``) on a real PostgreSQL.

One table row per outcome the classification can give a staged row: for chats (both
chat schemas), messages and media, each case plants exactly one row that meets that
rule beside rows that must go in, and the Loader must name that row, with that reason,
and insert everything else. Then the protocol: everything between ``begin`` and
``commit`` is one transaction (a failure before the commit leaves the target as it
was), two loads never run at once (the advisory lock), and values reach the target
exactly as staged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

import pgrows
from chatmigrate.phase6 import records as r
from chatmigrate.phase6.kinds import Outcome
from chatmigrate.postgres.db import create_schema
from chatmigrate.postgres.load import LoadCounts, Loader
from pgdb import PgDatabase, throwaway
from pgrows import Seeded, chat, media, message, uid

Batch = dict[str, list[Any]]  # "chats", "messages", "media" -> records; "also": failures a case causes beside its own


@dataclass
class Loaded:
    counts: LoadCounts
    failed: dict[str, list[tuple[str, str]]]  # kind -> [(id, reason)] in staging order
    present: dict[str, list[str]]  # kind -> ids found already present


def load(db: PgDatabase, batch: Batch, *, schema: str = "booking", commit: bool = True) -> Loaded:
    """One step-2 load of ``batch``, as ``steps.create`` drives the Loader."""
    kinds = ("chat", "message", "media")
    with db.connect() as conn:
        ld = Loader(conn, chat_schema=schema)
        ld.begin()
        ld.stage_chats(batch["chats"])
        ld.stage_messages(batch["messages"])
        ld.stage_media(batch["media"])
        ld.classify()
        failed = {k: [(f.id, f.error) for f in ld.failures(k)] for k in kinds}
        rows = ld.rows(Outcome.PRESENT)
        present = {"chat": [c.id for c in rows.chats], "message": [m.id for m in rows.messages],
                   "media": [md.id for md in rows.media]}
        ld.insert()
        if commit:
            ld.commit()
        else:
            ld.rollback()
    return Loaded(ld.counts, failed, present)


def good_batch(s: Seeded) -> Batch:
    """A chat on booking 0 with a text and an image message: always created."""
    c = chat(s.bookings[0])
    text, image = message(c, s.customer), message(c, s.stylist, content="", has_image=True, role="stylist")
    return {"chats": [c], "messages": [text, image], "media": [media(image)]}


def ids(db: PgDatabase, table: str) -> set[str]:
    assert table in ("chats", "chat_messages", "media")
    return {row[0] for row in db.query(f"SELECT id::text FROM public.{table}")}


# Each case plants one row into (target, batch) and returns (kind, the row's id, the outcome:
# "present" or the failure reason). The target may get rows "of an earlier run" or of the app.
Plant = Callable[[PgDatabase, Seeded, Batch], tuple[str, str, str]]


def chat_present(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = chat(s.bookings[1])
    db.execute("INSERT INTO public.chats (id, booking_id) VALUES (%s, %s)", (c.id, c.booking_id))
    b["chats"].append(c)
    return "chat", c.id, "present"


def chat_duplicate_id(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = b["chats"][0]
    b["chats"].append(chat(s.bookings[1], id=c.id))
    return "chat", c.id, "Duplicate chat id in the extracted file"


def chat_id_taken(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = chat(s.bookings[1])
    db.execute("INSERT INTO public.chats (id, booking_id) VALUES (%s, %s)", (c.id, s.bookings[2]))
    b["chats"].append(c)
    return "chat", c.id, "A chat with this id already exists for another booking"


def chat_booking_absent(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = chat(uid())
    b["chats"].append(c)
    return "chat", c.id, "Booking not found in the target bookings table"


def chat_booking_has_app_chat(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    db.execute("INSERT INTO public.chats (booking_id) VALUES (%s)", (s.bookings[1],))
    c = chat(s.bookings[1])
    b["chats"].append(c)
    return "chat", c.id, "Booking already has another chat (chats.booking_id is unique)"


def chat_second_on_one_booking(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = chat(s.bookings[0])  # after the good chat in file order
    b["chats"].append(c)
    return "chat", c.id, "Another chat in this migration links the same booking"


def chat_invalid_uuid(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = chat("not-a-uuid")
    b["chats"].append(c)
    return "chat", c.id, "Invalid or missing UUID in id or booking_id"


def message_present(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = chat(s.bookings[1])
    db.execute("INSERT INTO public.chats (id, booking_id) VALUES (%s, %s)", (c.id, c.booking_id))
    m = message(c, s.customer)
    db.execute("INSERT INTO public.chat_messages (id, chat_id, sender_id, content) VALUES (%s, %s, %s, 'hei')",
               (m.id, c.id, s.customer))
    b["chats"].append(c)
    b["messages"].append(m)
    return "message", m.id, "present"


def message_duplicate_id(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    m = b["messages"][0]
    b["messages"].append(m._replace(content="again"))
    return "message", m.id, "Duplicate message id in the extracted file"


def message_id_in_another_chat(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    app_chat = db.query("INSERT INTO public.chats (booking_id) VALUES (%s) RETURNING id::text", (s.bookings[1],))[0][0]
    m = message(b["chats"][0], s.customer)
    db.execute("INSERT INTO public.chat_messages (id, chat_id, sender_id, content) VALUES (%s, %s, %s, 'app')",
               (m.id, app_chat, s.customer))
    b["messages"].append(m)
    return "message", m.id, "A message with this id already exists in another chat"


def message_chat_not_created(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = chat(uid())  # fails: its booking is absent
    m = message(c, s.customer)
    b["chats"].append(c)
    b["messages"].append(m)
    b["also"] = [("chat", c.id, "Booking not found in the target bookings table")]
    return "message", m.id, "Chat was not created"


def message_sender_absent(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    m = message(b["chats"][0], uid())
    b["messages"].append(m)
    return "message", m.id, "Sender profile not found in the target profiles table"


def message_invalid_uuid(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    m = message(b["chats"][0], "nobody")
    b["messages"].append(m)
    return "message", m.id, "Invalid UUID in id, chat_id or sender_id"


def media_present(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    c = chat(s.bookings[1])
    m = message(c, s.customer, content="", has_image=True)
    md = media(m)
    db.execute("INSERT INTO public.chats (id, booking_id) VALUES (%s, %s)", (c.id, c.booking_id))
    db.execute("INSERT INTO public.chat_messages (id, chat_id, sender_id, content) VALUES (%s, %s, %s, '')",
               (m.id, c.id, s.customer))
    db.execute("INSERT INTO public.media (id, owner_id, file_path, media_type, chat_message_id)"
               " VALUES (%s, %s, %s, 'chat_image', %s)", (md.id, md.owner_id, md.file_path, m.id))
    b["chats"].append(c)
    b["messages"].append(m)
    b["media"].append(md)
    return "media", md.id, "present"


def media_message_not_created(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    m = message(b["chats"][0], uid(), content="", has_image=True)  # fails: unknown sender
    md = media(m, owner=s.customer)
    b["messages"].append(m)
    b["media"].append(md)
    b["also"] = [("message", m.id, "Sender profile not found in the target profiles table")]
    return "media", md.id, "Message was not created"


def media_invalid_uuid(db: PgDatabase, s: Seeded, b: Batch) -> tuple[str, str, str]:
    md = media(b["messages"][1])._replace(owner_id="")
    b["media"].append(md)
    return "media", md.id, "Invalid UUID in id, message_id or owner_id"


CASES: list[Plant] = [
    chat_present, chat_duplicate_id, chat_id_taken, chat_booking_absent, chat_booking_has_app_chat,
    chat_second_on_one_booking, chat_invalid_uuid,
    message_present, message_duplicate_id, message_id_in_another_chat, message_chat_not_created,
    message_sender_absent, message_invalid_uuid,
    media_present, media_message_not_created, media_invalid_uuid,
]
TABLE = {"chat": "chats", "message": "chat_messages", "media": "media"}


@pytest.mark.parametrize("plant", CASES, ids=[c.__name__ for c in CASES])
def test_each_outcome_names_exactly_the_planted_row(target: tuple[PgDatabase, Seeded], plant: Plant) -> None:
    db, s = target
    batch = good_batch(s)
    good = {"chat": {c.id for c in batch["chats"]}, "message": {m.id for m in batch["messages"]},
            "media": {m.id for m in batch["media"]}}
    kind, planted, outcome = plant(db, s, batch)
    before = ids(db, TABLE[kind])
    ld = load(db, batch)
    failed, present = ld.failed, ld.present
    if outcome == "present":
        assert present[kind] == [planted] and all(not v for v in failed.values())
    else:
        expected: dict[str, list[tuple[str, str]]] = {k: [] for k in failed}
        for k, id_, why in [(kind, planted, outcome), *batch.get("also", [])]:
            expected[k].append((id_, why))
        assert failed == expected
        if planted in good[kind]:  # a duplicate id: the first row went in, the second did not
            first = {"chat": ("SELECT booking_id::text FROM public.chats WHERE id = %s", s.bookings[0]),
                     "message": ("SELECT content FROM public.chat_messages WHERE id = %s", "hei")}[kind]
            assert db.query(first[0], (planted,)) == [(first[1],)]
        else:
            assert planted not in ids(db, TABLE[kind]) - before
    for k, table in TABLE.items():  # the good rows went in, whatever happened beside them
        assert good[k] <= ids(db, table), k
    c = ld.counts.of(kind)
    assert c.attempted == c.created + c.present + c.failed


PARTICIPANT_CASES = [  # (what the target holds, the staged chat, the outcome)
    ("nothing", "new pair", "insert"),
    ("this chat", "new pair", "present"),
    ("this chat id for another pair", "new pair", "A chat with this id already exists for other participants"),
    ("nothing", "unknown customer", "Participant profile not found in the target profiles table"),
    ("an app chat of the pair", "new pair", "The pair already has another chat (chats unique (customer_id, stylist_id))"),
    ("nothing", "the good chat's pair", "Another chat in this migration has the same customer and stylist"),
    ("nothing", "missing stylist", "Invalid or missing UUID in id or customer_id or stylist_id"),
]


@pytest.mark.parametrize("held, staged, outcome", PARTICIPANT_CASES, ids=[c[2][:40] for c in PARTICIPANT_CASES])
def test_each_outcome_in_the_participants_schema(postgres: Any, held: str, staged: str, outcome: str) -> None:
    with throwaway("pgtest_pairs", schema=False) as db:
        create_schema(db.url, "participants")
        s = pgrows.seed(db, bookings=0)
        good = chat(None, customer=s.customer, stylist=s.stylist)
        pair = {"new pair": (s.other_customer, s.other_stylist), "unknown customer": (uid(), s.other_stylist),
                "the good chat's pair": (s.customer, s.stylist), "missing stylist": (s.other_customer, None)}[staged]
        c = chat(None, customer=pair[0], stylist=pair[1])
        insert = "INSERT INTO public.chats (id, customer_id, stylist_id) VALUES (%s, %s, %s)"
        if held == "this chat":
            db.execute(insert, (c.id, *pair))
        elif held == "this chat id for another pair":
            db.execute(insert, (c.id, s.other_customer, s.stylist))
        elif held == "an app chat of the pair":
            db.execute(insert, (uid(), *pair))
        ld = load(db, {"chats": [good, c], "messages": [], "media": []}, schema="participants")
        failed, present = ld.failed["chat"], ld.present["chat"]
        assert failed == ([] if outcome in ("insert", "present") else [(c.id, outcome)])
        assert present == ([c.id] if outcome == "present" else [])
        assert (c.id in ids(db, "chats")) == (outcome in ("insert", "present") or held.startswith("this chat id"))
        assert good.id in ids(db, "chats")


def test_values_reach_the_target_exactly_as_staged(target: tuple[PgDatabase, Seeded]) -> None:
    db, s = target
    b = good_batch(s)
    hostile = "tab\there\nnewline\r\\N backslash-N \\ 😀 'quote' \"dq\" ; --"
    c = b["chats"][0]
    m = message(c, s.stylist, content=hostile, is_read=True, created_at="2024-03-01T09:00:00.000001Z")
    b["messages"].append(m)
    load(db, b)
    assert db.query("SELECT content, is_read, sender_id::text, created_at::text FROM public.chat_messages"
                    " WHERE id = %s", (m.id,)) == [(hostile, True, s.stylist, "2024-03-01 09:00:00.000001+00")]
    md = b["media"][0]
    assert db.query("SELECT owner_id::text, file_path, media_type::text, chat_message_id::text FROM public.media") \
        == [(md.owner_id, md.file_path, "chat_image", md.message_id)]


def test_a_media_row_is_created_at_its_messages_time(target: tuple[PgDatabase, Seeded]) -> None:
    db, s = target  # as the app writes it: with its message, not at the migration's time
    c = chat(s.bookings[0])
    image = message(c, s.stylist, content="", has_image=True, created_at="2021-06-30T17:45:12.123456Z")
    load(db, {"chats": [c], "messages": [image], "media": [media(image)]})
    # and for an image whose message is already present (a re-run that adds the media row)
    later = message(c, s.customer, content="", has_image=True, created_at="2022-01-02T03:04:05Z")
    load(db, {"chats": [c], "messages": [later], "media": []})
    load(db, {"chats": [c], "messages": [later], "media": [media(later)]})
    assert db.query("SELECT chat_message_id::text, created_at::text FROM public.media ORDER BY created_at") == [
        (image.id, "2021-06-30 17:45:12.123456+00"), (later.id, "2022-01-02 03:04:05+00")]


def test_a_load_rolled_back_before_commit_leaves_the_target_unchanged(target: tuple[PgDatabase, Seeded]) -> None:
    db, s = target
    before = db.snapshot()
    ld = load(db, good_batch(s), commit=False)
    assert ld.counts.chats.created == 1 and ld.counts.messages.created == 2  # it had inserted them
    assert db.snapshot() == before


def test_a_failure_inside_the_insert_leaves_the_target_unchanged(target: tuple[PgDatabase, Seeded]) -> None:
    db, s = target
    db.execute("CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN IF NEW.content = 'boom' THEN RAISE EXCEPTION 'refused by a trigger'; END IF; RETURN NEW; END $$")
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON public.chat_messages FOR EACH ROW EXECUTE FUNCTION public.refuse()")
    b = good_batch(s)
    b["messages"].append(message(b["chats"][0], s.customer, content="boom"))
    before = db.snapshot()
    with db.connect() as conn:
        ld = Loader(conn)
        ld.begin()
        ld.stage_chats(b["chats"])
        ld.stage_messages(b["messages"])
        ld.stage_media(b["media"])
        ld.classify()
        with pytest.raises(psycopg.errors.RaiseException, match="refused by a trigger"):
            ld.insert()  # the chat went in before the messages failed
        ld.rollback()
    assert db.snapshot() == before


def test_the_loader_refuses_a_connection_inside_a_transaction(target: tuple[PgDatabase, Seeded]) -> None:
    db, _ = target
    with db.connect(autocommit=False) as conn, pytest.raises(ValueError, match="autocommit"):
        Loader(conn).begin()


def test_a_second_load_waits_for_the_first(target: tuple[PgDatabase, Seeded]) -> None:
    db, _ = target
    with db.connect() as first, db.connect() as second:
        one = Loader(first)
        one.begin()
        second.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            Loader(second).begin()
        one.rollback()
        two = Loader(second)
        two.begin()  # free again
        two.rollback()


def test_counts_add_up_over_a_rerun(target: tuple[PgDatabase, Seeded]) -> None:
    db, s = target
    b = good_batch(s)
    first = load(db, b).counts
    again = load(db, b).counts
    assert (first.chats.created, first.messages.created, first.media.created) == (1, 2, 1)
    assert (again.chats.created, again.messages.created, again.media.created) == (0, 0, 0)
    assert (again.chats.present, again.messages.present, again.media.present) == (1, 2, 1)
    assert again.error_rate == 0.0 and not again.reasons
    assert isinstance(b["chats"][0], r.TargetChat)
