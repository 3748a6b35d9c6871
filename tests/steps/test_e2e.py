"""Phase 6 end to end on real databases: step 1 on a real mariadb-dump, validate, rollback.

Step 1 (``steps.extract.extract``) runs once on a world that holds one row per rule of
the plan (every chat and message skip reason, uppercase UUIDs, both sender roles, read
status, images on both S3 host styles, a NUL byte); the tests then read the two output
files as the plan describes them. Preflight errors get their own worlds.

Validate and rollback run on a migrated world (``steps.run.run``) in a fresh
PostgreSQL database per test, then tamper with the target as the app or an operator
would and check what the step reports or leaves behind.
"""

from __future__ import annotations

import json
import re
import stat
from types import SimpleNamespace
from typing import Any

import pytest

from chatmigrate import planfiles as f
from chatmigrate.errors import ChatmigrateError
from chatmigrate.phase6 import records as r
from chatmigrate.steps.extract import extract
from chatmigrate.steps.rollback import rollback
from chatmigrate.steps.run import run
from chatmigrate.steps.validate import validate
from world import World

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
HOSTILE = "Hei;) ),( 'sitat' \"dobbel\" \\ back\\slash\nny linje\ttab 💇‍♀️ æøå NULL \x00 slutt"


@pytest.fixture
def world(mariadb: Any, tmp_path: Any) -> Any:
    w = World(mariadb, tmp_path)
    yield w
    w.close()


# --------------------------------------------------------------------------- step 1, every rule


@pytest.fixture(scope="module")
def extracted(mariadb: Any, tmp_path_factory: Any) -> SimpleNamespace:
    """One world with a row for every rule, extracted once (read-only for the tests below)."""
    w = World(mariadb, tmp_path_factory.mktemp("reasons"), "reasons")
    ok = w.booking()
    linked = w.chat(ok, id_case="upper", booking_id_case="upper")  # uppercase in chat.id and chat.booking_id
    plain = w.chat(w.booking())
    unmapped = w.chat(w.booking(buyer=w.buyer(mapped=False)))
    inactive = w.chat(w.booking(), active=False)
    chats = {
        "inactive": inactive,
        "null-booking": w.chat(None),
        "unknown-booking": w.chat(None, booking_id="0b0b0b0b-dead-4bee-8000-000000000000"),
        "booking-not-migrated": w.chat(w.booking(migrated=False)),
    }
    messages = {
        "buyer-unread": w.message(linked, is_from="buyer", text=HOSTILE, unread=True),
        "stylist-read": w.message(linked, is_from="stylist", text="Ja, kl. 14 passer", unread=False),
        "image-regional": w.message(linked, is_from="stylist", image=True, image_host="regional"),
        "image-global": w.message(plain, is_from="buyer", image=True, image_host="global", unread=False),
        "uppercase-chat-id": w.message(plain, is_from="stylist", chat_id_case="upper"),
        "mapped-stylist-of-unmapped-buyer": w.message(unmapped, is_from="stylist"),
    }
    skipped_messages = {
        "orphan": w.message(None, chat_id="0c0c0c0c-dead-4bee-8000-000000000000"),
        "in-inactive-chat": w.message(inactive),
        "empty-enum": w.message(plain, is_from=""),
        "zero-date": w.message(plain, created_at="0000-00-00 00:00:00"),
        "unmapped-buyer": w.message(unmapped, is_from="buyer"),
    }
    w.build(target=False)
    result = extract(str(w.dump_path), w.temp_dir)
    out = json.loads((w.temp_dir / f.CHATS_EXTRACTED).read_text(encoding="utf-8"))
    skipped = json.loads((w.temp_dir / f.SKIPPED_CHATS).read_text(encoding="utf-8"))
    return SimpleNamespace(world=w, result=result, out=out, skipped=skipped, chats=chats, messages=messages,
                           skipped_messages=skipped_messages, processed_chats=[linked, plain, unmapped])


CHAT_CASES = [
    ("inactive", r.CHAT_NOT_ACTIVE),
    ("null-booking", r.NO_BOOKING),
    ("unknown-booking", r.NO_BOOKING),
    ("booking-not-migrated", r.BOOKING_NOT_MIGRATED),
]
MESSAGE_CASES = [
    ("orphan", "Could not find chat for this message"),
    ("in-inactive-chat", "Chat was not processed"),
    ("empty-enum", "Unknown sender type: "),
    ("zero-date", "Invalid created_at: 0000-00-00 00:00:00.000000"),
    ("unmapped-buyer", "Could not resolve sender"),
]


@pytest.mark.parametrize("label, reason", CHAT_CASES, ids=[c[0] for c in CHAT_CASES])
def test_chat_skip_reason(extracted: SimpleNamespace, label: str, reason: str) -> None:
    chat = extracted.chats[label]
    entries = [s for s in extracted.skipped["skipped_chats"] if s["chat"]["id"] == chat.id]
    expected_booking = chat.dump_booking_id.lower() if chat.dump_booking_id else None
    assert entries == [{"chat": {"id": chat.id, "booking_id": expected_booking}, "reason": reason}]
    assert chat.id not in {c["id"] for c in extracted.out["processedChats"]}


@pytest.mark.parametrize("label, reason", MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES])
def test_message_skip_reason(extracted: SimpleNamespace, label: str, reason: str) -> None:
    msg = extracted.skipped_messages[label]
    entries = [s for s in extracted.skipped["skipped_messages"] if s["message"]["id"] == msg.id]
    assert [e["reason"] for e in entries] == [reason]
    assert entries[0]["message"]["chat_id"] == msg.dump_chat_id.lower()
    assert msg.id not in {m["id"] for m in extracted.out["processedMessages"]}


def test_processed_chats_lowercase_and_linked_even_when_uppercase_in_the_dump(extracted: SimpleNamespace) -> None:
    # the plan's four fields, and (extra fields are allowed) the profiles the messages are sent by
    expected = {c.id: {"id": c.id, "booking_id": c.booking.id,
                       "created_at": c.created_at.isoformat() + "Z", "updated_at": c.updated_at.isoformat() + "Z",
                       "customer_id": c.booking.buyer.new_id if c.booking.buyer.mapped else None,
                       "stylist_id": c.booking.stylist.new_id if c.booking.stylist.mapped else None}
                for c in extracted.processed_chats}
    assert {c["id"]: c for c in extracted.out["processedChats"]} == expected


def test_processed_messages_value_by_value(extracted: SimpleNamespace) -> None:
    """Senders (buyer -> customer profile, stylist -> stylist profile), is_read = not is_unread, content."""
    w = extracted.world
    expected = {
        m.id: {"id": m.id, "chat_id": m.chat.id, "sender_id": m.sender.new_id, "sender_role": m.sender.role,
               "content": m.content, "is_read": not m.unread, "created_at": m.created_at.isoformat() + "Z",
               "has_image": m.image}
        for m in w.migrated_messages()
    }
    assert set(expected) == {m.id for m in extracted.messages.values()}
    assert {m["id"]: m for m in extracted.out["processedMessages"]} == expected
    assert all(ISO_Z.match(m["created_at"]) for m in extracted.out["processedMessages"])


@pytest.mark.parametrize("label", ["image-regional", "image-global"])
def test_image_message_planned_media(extracted: SimpleNamespace, label: str) -> None:
    msg = extracted.messages[label]
    (entry,) = [i for i in extracted.out["imageMessages"] if i["message"]["id"] == msg.id]
    assert entry["message"]["message"] == msg.text and entry["chat_id"] == msg.chat.id
    assert entry["media"]["file_path"] == f"{msg.chat.id}/{msg.id}/{msg.image_name}"
    assert entry["media"]["owner_id"] == msg.sender.new_id
    assert entry["media"]["media_type"] == "chat_image"
    (processed,) = [m for m in extracted.out["processedMessages"] if m["id"] == msg.id]
    assert processed["content"] == "" and processed["has_image"] is True


def test_nul_removed_and_listed_in_warnings(extracted: SimpleNamespace) -> None:
    msg = extracted.messages["buyer-unread"]
    (processed,) = [m for m in extracted.out["processedMessages"] if m["id"] == msg.id]
    assert processed["content"] == HOSTILE.replace("\x00", "") != HOSTILE
    assert [x["message_id"] for x in extracted.out["warnings"]] == [msg.id]


def test_metadata_counts_add_up(extracted: SimpleNamespace) -> None:
    w, meta = extracted.world, extracted.out["metadata"]
    assert meta == extracted.result.metadata
    assert meta["total_mysql_chats"] == len(w.chats) == meta["processed_chats"] + meta["skipped_chats"]
    assert meta["total_mysql_messages"] == len(w.messages) == meta["processed_messages"] + meta["skipped_messages"]
    assert meta["total_mysql_bookings"] == len(w.bookings)
    assert meta["processed_chats"] == len(extracted.out["processedChats"]) == 3
    assert meta["processed_messages"] == len(extracted.out["processedMessages"]) == len(extracted.messages)
    assert meta["skipped_chats"] == len(extracted.skipped["skipped_chats"]) == len(extracted.chats)
    assert meta["skipped_messages"] == len(extracted.skipped["skipped_messages"]) == len(extracted.skipped_messages)
    assert meta["active_chats"] == sum(c.active for c in w.chats)
    assert meta["image_messages"] == len(extracted.out["imageMessages"]) == 2
    roles = [m.sender.role for m in w.migrated_messages()]
    assert meta["sender_distribution"] == {"customer": roles.count("customer"), "stylist": roles.count("stylist")}


def test_skipped_file_has_the_plans_shape(extracted: SimpleNamespace) -> None:
    doc = extracted.skipped
    assert {"skipped_at", "skipped_chats", "skipped_messages"} <= set(doc)
    assert ISO_Z.match(doc["skipped_at"])
    assert all(set(s) == {"chat", "reason"} and set(s["chat"]) == {"id", "booking_id"} for s in doc["skipped_chats"])
    assert all(set(s) == {"message", "reason"} and set(s["message"]) == {"id", "chat_id"}
               for s in doc["skipped_messages"])


@pytest.mark.parametrize("name", [f.CHATS_EXTRACTED, f.SKIPPED_CHATS])
def test_output_files_are_owner_only(extracted: SimpleNamespace, name: str) -> None:
    assert stat.S_IMODE((extracted.world.temp_dir / name).stat().st_mode) == 0o600


@pytest.mark.parametrize("build, problem", [
    ({"mapping": False}, "user-id-mapping.json"),
    ({"bookings_created": False}, "bookings-created.json"),
    ({"dump_tables": ("booking", "buyer", "chat", "stylist")}, "`message`"),
], ids=["no-user-mapping", "no-bookings-created", "dump-without-message-table"])
def test_preflight_errors_exit_2_and_write_nothing(world: World, build: dict[str, Any], problem: str) -> None:
    world.message(world.chat(world.booking()))
    world.build(target=False, **build)
    before = sorted(p.name for p in world.temp_dir.iterdir())
    with pytest.raises(ChatmigrateError) as exc:
        extract(str(world.dump_path), world.temp_dir)
    assert exc.value.exit_code == 2
    assert problem in str(exc.value)
    assert sorted(p.name for p in world.temp_dir.iterdir()) == before


# --------------------------------------------------------------------------- validate


def migrated(w: World) -> SimpleNamespace:
    """A small world with skipped rows besides the migrated ones, run through steps 1-3."""
    a, b = w.chat(w.booking()), w.chat(w.booking(), id_case="upper")
    text = w.message(a, is_from="buyer", text="Hei! Har du tid fredag?")
    w.message(a, is_from="stylist", text=HOSTILE, unread=False)
    w.message(a, is_from="stylist", image=True)
    w.message(b, is_from="buyer", chat_id_case="upper")
    skipped_chat = w.chat(w.booking(migrated=False))
    skipped_msgs = [w.message(skipped_chat), w.message(b, is_from="")]
    w.build()
    res = run(str(w.dump_path), w.temp_dir, w.url)
    return SimpleNamespace(result=res, a=a, b=b, text=text, skipped_chat=skipped_chat, skipped_msgs=skipped_msgs)


def test_validate_clean_migration(world: World) -> None:
    m = migrated(world)
    assert m.result.success and m.result.validation.is_valid
    doc = json.loads((world.temp_dir / f.VALIDATION_RESULTS).read_text(encoding="utf-8"))
    assert doc["is_valid"] is True and doc["validation_errors"] == []
    for key in ("missing_chats", "missing_messages", "orphaned_chats", "orphaned_messages",
                "message_sender_mismatches", "message_content_mismatches", "missing_media"):
        assert doc[key] == [], key
    assert (doc["total_pg_chats"], doc["total_pg_messages"]) == (2, 4)
    assert doc["intentionally_skipped"]["chats"] == 1 and doc["intentionally_skipped"]["messages"] == 2
    statuses = {c["id"]: c["status"] for c in doc["sql_checks"]}
    assert {"orphaned_chats", "orphaned_messages", "unique_chat_booking", "final_summary"} <= set(statuses)
    assert {k: s for k, s in statuses.items() if s != "INFO"} == {k: "PASSED" for k, s in statuses.items()
                                                                  if s != "INFO"}


@pytest.mark.parametrize("tamper", ["delete", "content", "sender"])
def test_validate_finds_tampering(world: World, tamper: str) -> None:
    m = migrated(world)
    msg, pg = m.text, world.pg
    if tamper == "delete":
        pg.execute("DELETE FROM public.chat_messages WHERE id = %s", (msg.id,))
    elif tamper == "content":
        pg.execute("UPDATE public.chat_messages SET content = content || '!' WHERE id = %s", (msg.id,))
    else:
        pg.execute("UPDATE public.chat_messages SET sender_id = %s WHERE id = %s", (msg.chat.stylist.new_id, msg.id))
    res = validate(str(world.dump_path), world.temp_dir, world.url)
    doc = res.doc
    assert res.is_valid is False and doc["is_valid"] is False and doc["validation_errors"]
    listed = {
        "delete": doc["missing_messages"],
        "content": doc["message_content_mismatches"],
        "sender": [x["message_id"] for x in doc["message_sender_mismatches"]],
    }
    assert listed[tamper] == [msg.id]
    assert all(not v for k, v in listed.items() if k != tamper)
    if tamper == "sender":
        assert doc["message_sender_mismatches"] == [{"message_id": msg.id, "expected_sender": msg.sender.new_id,
                                                     "actual_sender": msg.chat.stylist.new_id}]
    skipped_ids = {m.skipped_chat.id} | {x.id for x in m.skipped_msgs}
    assert not skipped_ids & set(doc["missing_chats"] + doc["missing_messages"])


# --------------------------------------------------------------------------- rollback


def app_rows(w: World, m: SimpleNamespace, free: Any) -> dict[str, str]:
    """What the new app writes after the migration: a chat of its own and a message in a migrated chat."""
    pg = w.pg
    app_chat = pg.query("INSERT INTO public.chats (booking_id) VALUES (%s) RETURNING id::text", (free.id,))[0][0]
    app_msg = pg.query(
        "INSERT INTO public.chat_messages (chat_id, sender_id, content) VALUES (%s, %s, %s) RETURNING id::text",
        (m.a.id, m.a.booking.buyer.new_id, "skrevet i appen"))[0][0]
    avatar = pg.query("INSERT INTO public.media (owner_id, file_path, media_type) VALUES (%s, 'a.png', 'avatar')"
                      " RETURNING id::text", (free.buyer.new_id,))[0][0]
    return {"chat": app_chat, "message": app_msg, "avatar": avatar}


def test_rollback_deletes_exactly_the_manifest_rows(world: World) -> None:
    free = world.booking()  # migrated, no legacy chat: the app will open one
    m = migrated(world)
    app = app_rows(world, m, free)
    before = {p.name: p.read_bytes() for p in world.temp_dir.iterdir() if p.name in f.PHASE_OUTPUTS}
    counts, removed = rollback(world.temp_dir, world.url)
    pg = world.pg
    assert (counts.media, counts.messages, counts.chats) == (1, 4, 1)
    assert (counts.kept_chats, counts.kept_messages) == (1, 0)  # chat a keeps the app's message
    assert {r[0] for r in pg.query("SELECT id::text FROM public.chats")} == {app["chat"], m.a.id}
    assert [r[0] for r in pg.query("SELECT id::text FROM public.chat_messages")] == [app["message"]]
    assert [r[0] for r in pg.query("SELECT id::text FROM public.media")] == [app["avatar"]]
    assert set(removed.moved) == {f.CHATS_EXTRACTED, f.SKIPPED_CHATS, f.CHAT_LINKS, f.CHATS_CREATED,
                                  f.CREATION_STATS, f.VALIDATION_RESULTS, f.MIGRATION_STATS, f.REPORT}
    assert sorted(p.name for p in world.temp_dir.iterdir()) == ["bookings-created.json", "rolled-back",
                                                                "user-id-mapping.json"]
    assert removed.folder is not None and removed.folder.parent == world.temp_dir / f.ROLLED_BACK
    assert {p.name: p.read_bytes() for p in removed.folder.iterdir() if p.name != f.ROLLBACK_RECORD} == before


def test_rollback_all_wipes_every_chat(world: World) -> None:
    free = world.booking()
    m = migrated(world)
    app = app_rows(world, m, free)
    bookings = world.pg.count("bookings")
    counts, _ = rollback(world.temp_dir, world.url, everything=True)
    assert (counts.media, counts.messages, counts.chats) == (1, 5, 3)
    assert world.pg.counts() == {"chats": 0, "chat_messages": 0, "media": 1}
    assert [r[0] for r in world.pg.query("SELECT id::text FROM public.media")] == [app["avatar"]]
    assert world.pg.count("bookings") == bookings
