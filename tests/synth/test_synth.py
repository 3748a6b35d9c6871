"""The synthetic legacy data sets (``chatmigrate.synth``).

Checks that a data set is deterministic, that its dump reads back through the real
reader with exactly the counts ``truth.json`` promises, that both layouts carry the same
rows, that the phase files and seed rows agree with each other, that the truth agrees
with the strict Phase 6 rules applied independently to the dump and phase files, and
(with MariaDB) that the dump loads into a real server with the same rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import subprocess
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chatmigrate.dump import DumpReader, read_rows, scan_dump
from chatmigrate.synth import (
    CHAT_FATES,
    CHAT_INACTIVE,
    CHAT_NO_BOOKING,
    CHAT_NOT_MIGRATED,
    MSG_CHAT_NOT_PROCESSED,
    MSG_NO_CHAT,
    MSG_UNKNOWN_SENDER,
    MSG_ZERO_DATE,
    PROCESSED,
    generate,
    read_truth,
)
from chatmigrate.synth.model import iso_time, uuid4

N = 2000
TABLES = ["address", "booking", "buyer", "chat", "chat_notes", "message", "personal_message", "personalchat", "stylist"]
CHAT_COLUMNS = ["id", "buyer_id", "stylist_id", "booking_id", "buyer_has_unread", "stylist_has_unread", "is_active",
                "created_at", "updated_at"]


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Data sets shared by the module: name -> directory."""
    out = {}
    for name, kwargs in {
        "mysql8": {"layout": "mysql8"},
        "mariadb": {"layout": "mariadb"},
        "single": {"layout": "single"},
        "booking": {"links": "booking"},
    }.items():
        out[name] = tmp_path_factory.mktemp(name)
        generate(out[name], messages=N, seed=5, **kwargs)
    return out


def _values(dump: Path, tables: Any = None) -> list[tuple[str, dict[str, Any]]]:
    return [(r.table, r.values) for r in read_rows(dump, tables)]


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, messages=500, seed=3)
    generate(b, messages=500, seed=3)
    generate(c, messages=500, seed=4)
    assert _files(a) == _files(b)
    images = {n for n in _files(a) if n.startswith("legacy-bucket/")}  # the image messages' objects (synth.images)
    assert images
    assert set(_files(a)) - images == {"legacy.sql", "truth.json", "temp/user-id-mapping.json",
                                       "temp/bookings-created.json", "temp/bookings-extracted.json",
                                       "seed/profiles.csv", "seed/bookings.csv"}
    for name, content in _files(c).items():
        if name != "truth.json" and not name.startswith("legacy-bucket/"):
            assert content != _files(a)[name], name
    assert not images & set(_files(c))  # another seed, other image keys


def test_layout_changes_only_the_dump(sets: dict[str, Path]) -> None:
    a, b = _files(sets["mysql8"]), _files(sets["mariadb"])
    assert a["legacy.sql"] != b["legacy.sql"]
    for name in a:
        if name not in ("legacy.sql", "truth.json"):
            assert a[name] == b[name], name
    ta, tb = read_truth(sets["mysql8"]), read_truth(sets["mariadb"])
    ta["generator"].pop("layout"), tb["generator"].pop("layout")
    assert ta == tb


def test_helpers_match_the_standard_library() -> None:
    rng = random.Random(9)
    for _ in range(2000):
        bits = rng.getrandbits(128)
        assert uuid4(bits) == str(uuid.UUID(int=bits, version=4))
        t, us = rng.randrange(0, 2**31), rng.choice((0, rng.randrange(10**6)))
        assert iso_time(t, us) == dt.datetime.fromtimestamp(t, dt.UTC).replace(microsecond=us).isoformat()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="layout"):
        generate(tmp_path, messages=10, layout="postgres")
    with pytest.raises(ValueError, match="links"):
        generate(tmp_path, messages=10, links="both")


# --------------------------------------------------------------------------- the dump


@pytest.mark.parametrize("name", ["mysql8", "mariadb", "booking"])
def test_dump_reads_back_with_the_promised_counts(sets: dict[str, Path], name: str) -> None:
    reader = scan_dump(sets[name] / "legacy.sql")
    truth = read_truth(sets[name])
    assert reader.completed
    assert list(reader.tables) == TABLES  # alphabetical, as mysqldump writes them
    assert {t: info.rows for t, info in reader.tables.items()} == truth["tables"]
    assert truth["tables"]["message"] == N
    assert [c.name for c in reader.tables["chat"].columns] == CHAT_COLUMNS
    assert [c.name for c in reader.tables["message"].columns] == [
        "id", "message", "is_image", "is_from", "chat_id", "is_unread", "created_at"]
    assert len(reader.tables["booking"].columns) == 18
    assert sum(truth["chats_by_fate"].values()) == truth["tables"]["chat"]
    assert sum(truth["messages_by_fate"].values()) == N


def test_every_layout_carries_the_same_rows(sets: dict[str, Path]) -> None:
    a, b = _values(sets["mysql8"] / "legacy.sql"), _values(sets["mariadb"] / "legacy.sql")
    assert len(a) == sum(read_truth(sets["mysql8"])["tables"].values())
    assert a == b
    assert _values(sets["single"] / "legacy.sql") == a


def test_single_layout_has_one_insert_per_row(sets: dict[str, Path]) -> None:
    data = (sets["single"] / "legacy.sql").read_bytes()
    truth = read_truth(sets["single"])
    assert data.count(b"\nINSERT INTO `message` VALUES (") == truth["tables"]["message"]


def test_layout_shapes(sets: dict[str, Path]) -> None:
    my = (sets["mysql8"] / "legacy.sql").read_bytes()
    ma = (sets["mariadb"] / "legacy.sql").read_bytes()
    for data in (my, ma):
        assert b"SET NAMES utf8mb4 */;" in data
        assert b"SET TIME_ZONE='+00:00' */;" in data
        assert data.endswith(b"-- Dump completed on 2025-09-18 12:00:00\n")
        assert b"UNIQUE KEY `UQ_BUYER_STYLIST_BOOKING` (`buyer_id`,`stylist_id`,`booking_id`)" in data
    assert ma.startswith(b"/*M!999999\\- enable the sandbox mode */")
    # MySQL 8: the whole statement on one line; MariaDB: one tuple per line
    line = next(ln for ln in my.split(b"\n") if ln.startswith(b"INSERT INTO `message`"))
    assert line.startswith(b"INSERT INTO `message` VALUES (") and line.endswith(b");")
    assert ma.count(b"INSERT INTO `message` VALUES\n(") >= 1
    after = ma.split(b"INSERT INTO `chat` VALUES\n", 1)[1].split(b"\n")
    assert all(ln.startswith(b"(") and ln.endswith(b"),") for ln in after[:10])


def test_the_file_is_not_utf8_but_reads(sets: dict[str, Path]) -> None:
    data = (sets["mysql8"] / "legacy.sql").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"_binary '" in data
    points = [v["location"] for t, v in _values(sets["mysql8"] / "legacy.sql", ["address"])]
    assert points and all(isinstance(p, bytes) and len(p) == 25 for p in points)


def test_large_tables_are_split_into_statements_of_about_1_mb(tmp_path: Path) -> None:
    generate(tmp_path, messages=20000, seed=2)  # ~5 MB: more than one read chunk of the reader
    dump = tmp_path / "legacy.sql"
    data = dump.read_bytes()
    inserts = [ln for ln in data.split(b"\n") if ln.startswith(b"INSERT INTO `message`")]
    assert len(inserts) >= 3
    assert all(len(ln) < 1_100_000 for ln in inserts)
    truth = read_truth(tmp_path)
    assert {t: i.rows for t, i in scan_dump(dump).tables.items()} == truth["tables"]
    wanted = ["booking", "chat", "message"]
    rows = [(r.table, r.values) for r in DumpReader(dump, wanted)]
    assert Counter(t for t, _ in rows) == {t: truth["tables"][t] for t in wanted}
    # realistic data across many buffer boundaries reads the same
    assert [(r.table, r.values) for r in DumpReader(dump, wanted, chunk_size=40_000)] == rows


def test_texts_have_the_hard_cases(sets: dict[str, Path]) -> None:
    msgs = [v for _, v in _values(sets["mysql8"] / "legacy.sql", ["message"])]
    texts = [m["message"] for m in msgs]
    assert any("\x00" in t for t in texts)
    assert any(len(t) > 4500 for t in texts)
    for needle in (";)", "),(", "'", '"', "\\", "\n", "\t", "%", "_", "æøå", "😊"):
        assert any(needle in t for t in texts), needle
    images = [m for m in msgs if m["is_image"] == 1]
    assert len(images) > N * 0.015
    assert any(".s3.eu-north-1.amazonaws.com/Chat-Images//" in m["message"] for m in images)
    assert any("://nabostylisten.s3.amazonaws.com/Chat-Images//" in m["message"] for m in images)
    for m in images:
        assert m["message"].split("/Chat-Images//", 1)[1].split("/")[0] == m["chat_id"].lower()
    assert Counter(m["is_from"] for m in msgs)[""] == 2
    assert sum(m["created_at"] == "0000-00-00 00:00:00.000000" for m in msgs) == 2
    assert any(m["chat_id"] != m["chat_id"].lower() for m in msgs)
    years = {m["created_at"][:4] for m in msgs} - {"0000"}
    assert min(years) >= "2019" and max(years) <= "2025"


# --------------------------------------------------------------------------- phase files and seed


def _load(d: Path) -> dict[str, Any]:
    return {
        "mapping": json.loads((d / "temp/user-id-mapping.json").read_text()),
        "created": json.loads((d / "temp/bookings-created.json").read_text()),
        "extracted": json.loads((d / "temp/bookings-extracted.json").read_text()),
        "profiles": list(csv.DictReader((d / "seed/profiles.csv").open(encoding="utf-8"))),
        "bookings": list(csv.DictReader((d / "seed/bookings.csv").open(encoding="utf-8"))),
    }


@pytest.mark.parametrize("name", ["mysql8", "booking"])
def test_phase_files_are_consistent(sets: dict[str, Path], name: str) -> None:
    d = sets[name]
    f = _load(d)
    mapping = f["mapping"]["mapping"]
    assert f["mapping"]["metadata"]["total_mappings"] == len(mapping)
    rows = _values(d / "legacy.sql", ["booking", "buyer", "stylist"])
    legacy = {v["id"]: v for t, v in rows if t == "booking"}
    people = {v["id"] for t, v in rows if t in ("buyer", "stylist")}
    assert set(mapping) <= people and len(people) - len(mapping) == 1  # the two-account person, mapped once

    results = f["created"]["results"]
    meta = f["created"]["metadata"]
    ok = [r for r in results if r["success"]]
    failed = [r for r in results if not r["success"]]
    assert (meta["total_processed"], meta["successful_creations"], meta["failed_creations"]) == (
        len(results), len(ok), len(failed))
    assert 0.01 < len(failed) / len(results) < 0.10
    assert all(r["error"] for r in failed)
    assert all(r["id"] == r["id"].lower() and r["id"] in legacy for r in results)
    for r in ok:
        b = legacy[r["id"]]
        assert b["buyer_id"] in mapping and b["stylist_id"] in mapping

    extracted = {b["id"]: b for b in f["extracted"]["bookings"]}
    assert set(extracted) == {r["id"] for r in results}
    for bid, b in extracted.items():
        assert (b["customer_id"], b["stylist_id"]) == (mapping[legacy[bid]["buyer_id"]],
                                                       mapping[legacy[bid]["stylist_id"]])

    profiles = f["profiles"]
    assert sorted(p["id"] for p in profiles) == sorted(mapping.values())
    assert len({p["email"] for p in profiles}) == len(profiles)
    assert {p["role"] for p in profiles} == {"customer", "stylist"}
    seed = f["bookings"]
    assert sorted(b["id"] for b in seed) == sorted(r["id"] for r in ok)
    ids = set(mapping.values())
    for b in seed:
        assert b["customer_id"] in ids and b["stylist_id"] in ids
        assert b["status"] in ("pending", "confirmed", "cancelled", "completed")
        assert b["start_time"].endswith("+00:00") and b["created_at"].endswith("+00:00")
        assert dt.datetime.fromisoformat(b["end_time"]) > dt.datetime.fromisoformat(b["start_time"])
        assert b == {**b, **{k: str(v) for k, v in extracted[b["id"]].items() if k != "total_price"}}
        assert float(b["total_price"]) == extracted[b["id"]]["total_price"]


def test_two_account_person(sets: dict[str, Path]) -> None:
    d = sets["mysql8"]
    truth = read_truth(d)["dual_account"]
    rows = _values(d / "legacy.sql", ["booking", "buyer", "stylist"])
    mapping = _load(d)["mapping"]["mapping"]
    emails = [v["email"] for t, v in rows if t in ("buyer", "stylist")]
    assert emails.count(truth["email"]) == 2
    assert (truth["buyer_id"] in mapping) + (truth["stylist_id"] in mapping) == 1
    ok = {r["id"] for r in _load(d)["created"]["results"] if r["success"]}
    for t, v in rows:
        if t == "booking" and v["id"] in ok:
            assert truth["buyer_id"] not in (v["buyer_id"], v["stylist_id"])
            assert truth["stylist_id"] not in (v["buyer_id"], v["stylist_id"])


# --------------------------------------------------------------------------- truth vs the rules


def _strict_rules(d: Path) -> dict[str, Any]:
    """The strict Phase 6 rules, applied to the dump and the phase files from scratch."""
    rows = _values(d / "legacy.sql", ["booking", "chat", "message"])
    mapping = json.loads((d / "temp/user-id-mapping.json").read_text())["mapping"]
    migrated = {r["id"] for r in json.loads((d / "temp/bookings-created.json").read_text())["results"] if r["success"]}
    bookings = {v["id"].lower(): v for t, v in rows if t == "booking"}
    chats: dict[str, tuple[str, dict[str, Any] | None]] = {}
    chat_fates: Counter[str] = Counter()
    linked: dict[str, int] = Counter()
    for t, v in rows:
        if t == "booking" and v["chat_id"] and v["id"] in migrated:
            linked[v["chat_id"].lower()] += 1
    for t, v in rows:
        if t != "chat":
            continue
        ref = (v["booking_id"] or "").lower()
        if v["is_active"] != 1:
            fate = CHAT_INACTIVE
        elif not ref or ref not in bookings:
            fate = CHAT_NO_BOOKING
        elif ref not in migrated:
            fate = CHAT_NOT_MIGRATED
        else:
            fate = PROCESSED
        chat_fates[fate] += 1
        chats[v["id"].lower()] = (fate, bookings.get(ref))
    msg_fates: Counter[str] = Counter()
    senders: Counter[str] = Counter()
    images = nul = 0
    for t, v in rows:
        if t != "message":
            continue
        chat = chats.get(v["chat_id"].lower())
        if chat is None:
            fate = MSG_NO_CHAT
        elif chat[0] != PROCESSED:
            fate = MSG_CHAT_NOT_PROCESSED
        elif v["is_from"] not in ("buyer", "stylist"):
            fate = MSG_UNKNOWN_SENDER + v["is_from"]
        elif v["created_at"].startswith("0000-00-00"):
            fate = f"Invalid created_at: {v['created_at']}"
        else:
            fate = PROCESSED
            booking = chat[1]
            assert booking is not None
            sender = mapping[booking["buyer_id" if v["is_from"] == "buyer" else "stylist_id"]]
            assert sender
            senders["customer" if v["is_from"] == "buyer" else "stylist"] += 1
            images += v["is_image"] == 1
            nul += "\x00" in v["message"]
        msg_fates[fate] += 1
    return {
        "chats_by_fate": {k: chat_fates[k] for k in CHAT_FATES},
        "messages_by_fate": dict(msg_fates),
        "sender_distribution": dict(senders),
        "image_messages": images,
        "messages_with_nul": nul,
        "recoverable_chats": sum(1 for c in chats if linked[c]),
    }


@pytest.mark.parametrize("name", ["mysql8", "booking"])
def test_truth_agrees_with_the_strict_rules(sets: dict[str, Path], name: str) -> None:
    truth = read_truth(sets[name])
    derived = _strict_rules(sets[name])
    assert {k: v for k, v in truth["messages_by_fate"].items() if v} == derived.pop("messages_by_fate")
    for key, value in derived.items():
        if key == "sender_distribution":
            value = {"customer": value.get("customer", 0), "stylist": value.get("stylist", 0)}
        assert truth[key] == value, key


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("links", ["chat", "booking"])
def test_truth_holds_for_other_seeds(tmp_path: Path, seed: int, links: str) -> None:
    generate(tmp_path, messages=700, seed=seed, links=links)
    truth = read_truth(tmp_path)
    reader = scan_dump(tmp_path / "legacy.sql")
    assert {t: info.rows for t, info in reader.tables.items()} == truth["tables"]
    derived = _strict_rules(tmp_path)
    assert {k: v for k, v in truth["messages_by_fate"].items() if v} == derived["messages_by_fate"]
    assert truth["chats_by_fate"] == derived["chats_by_fate"]
    assert truth["recoverable_chats"] == derived["recoverable_chats"]


def test_links_chat_has_every_fate(sets: dict[str, Path]) -> None:
    truth = read_truth(sets["mysql8"])
    chats = truth["chats_by_fate"]
    assert all(chats[k] > 0 for k in CHAT_FATES)
    total = sum(chats.values())
    assert 0.02 < chats[CHAT_INACTIVE] / total < 0.10
    assert chats[PROCESSED] / total > 0.6
    assert 6 <= N / total <= 10  # about eight messages per chat
    msgs = truth["messages_by_fate"]
    for reason in (PROCESSED, MSG_CHAT_NOT_PROCESSED, MSG_NO_CHAT, MSG_UNKNOWN_SENDER, MSG_ZERO_DATE):
        assert msgs[reason] > 0, reason
    assert truth["sender_distribution"]["customer"] > 0 and truth["sender_distribution"]["stylist"] > 0
    assert truth["messages_with_nul"] > 0 and truth["image_messages"] > 0
    specials = truth["specials"]
    assert specials["messages_before_chat"] > 0 and specials["uppercase_message_chat_ids"] > 0
    assert specials["empty_booking_ids"] == 2
    assert specials["dangling_booking_ids"] >= 1 and specials["uppercase_booking_ids"] >= 1
    assert 0.04 < specials["null_booking_ids"] / total < 0.12


def test_links_booking_is_like_the_known_dump(sets: dict[str, Path]) -> None:
    d = sets["booking"]
    truth = read_truth(d)
    rows = _values(d / "legacy.sql", ["booking", "chat"])
    chats = [v for t, v in rows if t == "chat"]
    assert all(c["booking_id"] is None for c in chats)
    assert truth["specials"]["null_booking_ids"] == len(chats)
    per_chat = Counter(v["chat_id"].lower() for t, v in rows if t == "booking" and v["chat_id"])
    assert max(per_chat.values()) <= 7 and max(per_chat.values()) >= 3
    inactive = sum(c["is_active"] != 1 for c in chats)
    assert truth["chats_by_fate"] == {PROCESSED: 0, CHAT_INACTIVE: inactive,
                                      CHAT_NO_BOOKING: len(chats) - inactive, CHAT_NOT_MIGRATED: 0}
    assert truth["messages_by_fate"][PROCESSED] == 0
    assert 0.5 * len(chats) < truth["recoverable_chats"] < len(chats)


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[str, Any]] = []

    class Recorder:
        def start(self, label: str, total: int | None, unit: str = "rows") -> None:
            calls.append(("start", (label, total)))

        def update(self, done: int) -> None:
            calls.append(("update", done))

        def finish(self) -> None:
            calls.append(("finish", None))

    generate(tmp_path, messages=300, progress=Recorder())
    starts = [c[1] for c in calls if c[0] == "start"]
    assert ("synth: messages", 300) in starts
    assert [c[0] for c in calls].count("finish") == len(starts)
    assert ("update", 300) in calls


# --------------------------------------------------------------------------- a real server


@pytest.mark.mariadb
@pytest.mark.parametrize("name", ["mysql8", "mariadb"])
def test_mariadb_loads_the_dump_with_the_same_rows(sets: dict[str, Path], name: str, mariadb: Any) -> None:
    import mariadb as helper  # tests/mariadb.py

    d = sets[name]
    db = mariadb.create_database("synth")
    try:
        with open(d / "legacy.sql", "rb") as f:
            proc = subprocess.run(
                ["mariadb", "--no-defaults", f"--host={helper.HOST}", f"--port={helper.PORT}", f"--user={helper.USER}",
                 "--default-character-set=utf8mb4", db],
                stdin=f, capture_output=True, timeout=300,
            )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        truth = read_truth(d)
        with mariadb.connect(db) as conn, conn.cursor() as cur:
            for table, count in truth["tables"].items():
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
                assert cur.fetchone()[0] == count, table
            cur.execute("SELECT id, message, is_from, chat_id, CAST(created_at AS CHAR) FROM message ORDER BY id")
            server = sorted(cur.fetchall())
            cur.execute("SELECT id, location FROM address")
            points = dict(cur.fetchall())
        mine = sorted(
            (v["id"], v["message"], v["is_from"], v["chat_id"], v["created_at"])
            for _, v in _values(d / "legacy.sql", ["message"])
        )
        assert len(server) == len(mine) == N
        assert server == mine
        assert points == {v["id"]: v["location"] for _, v in _values(d / "legacy.sql", ["address"])}
    finally:
        with mariadb.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
