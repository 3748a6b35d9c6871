"""Writing one synthetic legacy data set: the dump, the phase files, the seed, the truth.

Owns: ``generate`` and the passes over the world (``model.World``) that turn it into
files, row by row: ``legacy.sql`` (every table, alphabetical), ``temp/`` (Phase 1 and 4
outputs, written alongside the booking table), ``seed/`` (target rows for Phase 1-4),
and ``truth.json`` (counts by intended fate, tallied while the rows are written).

Does not own: the dump format (``sqlfile``), the people/chat/booking decisions and fate
names (``model``), the message stream (``messages``), texts (``texts``). Nothing here
imports the CLI.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..dump.tokens import escape
from ..phase6.records import BookingResult
from ..planfiles import write_bookings_created, write_user_mapping
from ..progress import NO_PROGRESS, Progress
from ..safewrite import atomic_bytes, atomic_text, write_text
from . import model as m
from .images import LEGACY_BUCKET_DIR, write_legacy_images
from .messages import Tally, message_rows
from .sqlfile import LAYOUTS, DumpWriter
from .texts import NORWEGIAN, TRICKY, TextPool

CREATED_AT = "2025-09-18T12:00:00.000Z"  # fixed, so a seed always gives the same bytes
_COUNTS_EVERY = 16384


@dataclass(frozen=True)
class SynthSummary:
    """Where one generated data set is, and its main counts (the rest is in truth.json)."""

    out_dir: Path
    dump: Path
    temp_dir: Path
    seed_dir: Path
    truth: Path
    messages: int
    chats: int
    bookings: int
    profiles: int
    processed_chats: int
    processed_messages: int
    dump_bytes: int
    legacy_images: Path | None = None  # the image messages' objects, laid out like the legacy bucket (DIR/KEY)


def read_truth(path: str | Path) -> dict[str, Any]:
    """Load a ``truth.json`` (a file, or the directory ``generate`` wrote)."""
    p = Path(path)
    if p.is_dir():
        p = p / "truth.json"
    truth: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    return truth


def _q(s: str) -> bytes:
    return b"'" + escape(s.encode("utf-8")) + b"'"


def _id(s: str) -> bytes:
    return b"'%s'" % s.encode()  # uuids need no escaping


def _money(cents: int) -> bytes:
    return b"%d.%02d" % divmod(cents, 100)


def generate(
    out_dir: Path,
    *,
    messages: int = 1000,
    seed: int = 1,
    layout: str = "mysql8",
    links: str = "chat",
    progress: Progress = NO_PROGRESS,
) -> SynthSummary:
    """Write a legacy dump plus phase files, seed rows and ``truth.json`` into ``out_dir``."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    out_dir = Path(out_dir)
    world = m.World(seed, messages, links)  # checks links and messages
    temp, seed_dir = out_dir / "temp", out_dir / "seed"
    temp.mkdir(parents=True, exist_ok=True)
    seed_dir.mkdir(parents=True, exist_ok=True)
    pool = TextPool(random.Random(f"chatmigrate-synth/{seed}/texts"))
    gen = _Generator(world, pool, out_dir, progress)
    with atomic_bytes(out_dir / "legacy.sql") as f:
        writer = DumpWriter(f, layout)
        gen.write_dump(writer)
        writer.close()
    gen.write_people_files()
    truth = gen.truth(writer.rows, layout)
    legacy = write_legacy_images(gen.tally.image_urls, out_dir / LEGACY_BUCKET_DIR, seed=seed)
    truth["legacy_images"] = {"folder": LEGACY_BUCKET_DIR, "written": legacy.written, "missing": legacy.missing,
                              "too_large": legacy.too_large, "not_an_image": legacy.not_an_image}
    write_text(out_dir / "truth.json", json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
    return SynthSummary(
        out_dir, out_dir / "legacy.sql", temp, seed_dir, out_dir / "truth.json", messages,
        writer.rows["chat"], writer.rows["booking"], truth["profiles"],
        truth["chats_by_fate"][m.PROCESSED], truth["messages_by_fate"][m.PROCESSED],
        (out_dir / "legacy.sql").stat().st_size, out_dir / LEGACY_BUCKET_DIR,
    )


class _Generator:
    def __init__(self, world: m.World, pool: TextPool, out_dir: Path, progress: Progress) -> None:
        self.w, self.pool, self.out, self.progress = world, pool, out_dir, progress
        self.rng = random.Random(f"chatmigrate-synth/{world.seed}/decoys")
        self.addresses = [m.uuid4(self.rng.getrandbits(128)) for _ in range(min(2000, 10 + world.buyers.n // 20))]
        self.chat_fates = dict.fromkeys(m.CHAT_FATES, 0)
        self.tally = Tally()
        self.stats: dict[str, int] = {}
        self.first_chats: list[str] = []
        self.chat_refs = dict.fromkeys(
            ("null_booking_ids", "empty_booking_ids", "dangling_booking_ids", "uppercase_booking_ids"), 0)

    # ------------------------------------------------------------------ dump

    def write_dump(self, writer: DumpWriter) -> None:
        writer.table("address", self._addresses())
        writer.table("booking", self._bookings())
        writer.table("buyer", self._people(self.w.buyers, buyer=True))
        writer.table("chat", self._chats())
        writer.table("chat_notes", self._chat_notes())
        writer.table("message", message_rows(self.w, self.pool, self.tally, self.progress))
        pchats = [(m.uuid4(self.rng.getrandbits(128)), i) for i in range(3)]
        writer.table("personal_message", self._personal_messages(pchats))
        writer.table("personalchat", (
            b"(%s,%s,%s,NULL,'%s')" % (_q(pid), _q(self.w.buyers.id(i + 1)), _q(self.w.stylists.id(1)),
                                        m.sql_time(m.T_START + 86400 * 40 * i, 0))
            for pid, i in pchats
        ))
        writer.table("stylist", self._people(self.w.stylists, buyer=False))

    def _addresses(self) -> Iterator[bytes]:
        streets = ["Storgata 1", "Bjørnstjerne Bjørnsons gate 12", "O'Learys vei 3", "Kongens gate 5B", "Tøyengata 9"]
        for i, aid in enumerate(self.addresses):
            lon, lat = 10.6 + self.rng.random() * 0.4, 59.85 + self.rng.random() * 0.15
            point = struct.pack("<IBIdd", 4326, 1, 1, lon, lat)  # MySQL's internal geometry: SRID + WKB
            yield b"(%s,%s,'%04d','Oslo',_binary '%s',%s,'%s')" % (
                _q(aid), _q(streets[i % len(streets)]), 150 + i % 900, escape(point),
                _q(self.w.buyers.id(1 + i % (self.w.buyers.n - 1))), m.sql_time(m.T_START + 3600 * i, 0),
            )

    def _people(self, people: m.People, *, buyer: bool) -> Iterator[bytes]:
        for i in range(people.n):
            first, last = people.names(i)
            pid = people.id(i)
            created = m.sql_time(people.created(i), (i * 7919) % 1000000)
            phone = b"'+47 9%07d'" % ((i * 104729 + 12345) % 10**7) if i % 5 else b"NULL"
            if buyer:
                extra = b"'$2b$10$%s',%s" % (pid.replace("-", "").encode() * 2,
                                              b"NULL" if i % 3 else _q(f"https://cdn.example.no/p/{pid}.jpg"))
            else:
                extra = b"%s,%d" % (_q(self.pool.texts[i % 4096]) if i % 2 else b"NULL", i % 4 != 0)
            yield b"(%s,%s,%s,%s,%s,%s,'%s','%s')" % (
                _q(pid), _q(first), _q(last), _q(people.email(i)), phone, extra, created, created)

    def _bookings(self) -> Iterator[bytes]:
        """The booking table; Phase 4's outputs and bookings.csv are written alongside."""
        w, buyers, stylists = self.w, self.w.buyers, self.w.stylists
        temp, seed_dir = self.out / "temp", self.out / "seed"
        n_ok = n_failed = n_absent = recoverable = recoverable_active = 0
        refs = self.chat_refs
        self.progress.start("synth: bookings", None, "rows")
        created: list[BookingResult] = []
        with atomic_text(temp / ".extracted.part") as extracted_part, \
                atomic_text(seed_dir / "bookings.csv", newline="") as fcsv:
            out = csv.writer(fcsv, lineterminator="\n")
            out.writerow(["id", "customer_id", "stylist_id", "start_time", "end_time", "status", "total_price",
                          "total_duration_minutes", "created_at", "updated_at"])
            for chat in w.chats():
                self.chat_fates[chat.fate] += 1
                ref = chat.booking_ref
                if not ref:
                    refs["null_booking_ids" if ref is None else "empty_booking_ids"] += 1
                else:
                    refs["uppercase_booking_ids"] += ref != ref.lower()
                    refs["dangling_booking_ids"] += all(b.id != ref.lower() for b in chat.bookings)
                if any(b.chat_id is not None and b.outcome == "ok" for b in chat.bookings):
                    recoverable += 1
                    recoverable_active += chat.active
                for b in chat.bookings:
                    status = b.status
                    yield b"(%s,%s,%s,%s,'%s',%d,'%s',%s,%s,%s,%s,%s,%d,%d,%s,NULL,'%s','%s')" % (
                        _id(b.id), _id(buyers.id(b.buyer)), _id(stylists.id(b.stylist)),
                        _q(self.addresses[b.price % len(self.addresses)]) if b.price % 3 == 0 else b"NULL",
                        m.sql_time(b.start)[:19], b.duration, status.encode(), _money(b.price), _money(b.fee),
                        b"'" + self.pool.escaped[b.price % 4096] + b"'" if b.duration == 90 else b"NULL",
                        b"'Kunden avlyste'" if status == "cancelled" else b"NULL",
                        b"'pi_%s'" % b.id[:24].replace("-", "").encode() if status != "pending" else b"NULL",
                        status == "completed", status == "completed" and b.price % 2 == 0,
                        _id(b.chat_id) if b.chat_id is not None else b"NULL",
                        m.sql_time(b.created, b.price % 1000000), m.sql_time(b.created + 600, 0),
                    )
                    if b.outcome == "absent":
                        n_absent += 1
                        continue
                    ok = b.outcome == "ok"
                    n_ok += ok
                    n_failed += not ok
                    sep = ",\n    " if n_ok + n_failed > 1 else "\n    "
                    created.append(BookingResult(b.id, ok, None if ok else b.error))
                    start, end = m.iso_time(b.start), m.iso_time(b.start + 60 * b.duration)
                    total = (b.price + b.fee) / 100
                    row = [b.id, buyers.new_id(b.buyer), stylists.new_id(b.stylist), start, end,
                           m.LEGACY_STATUS[status], total, b.duration]
                    extracted_part.write(
                        f'{sep}{{"id": "{b.id}", "customer_id": "{row[1]}", "stylist_id": "{row[2]}", '
                        f'"start_time": "{start}", "end_time": "{end}", "status": "{row[5]}", '
                        f'"total_price": {total!r}, "total_duration_minutes": {b.duration}}}'
                    )
                    if ok:
                        row[6] = f"{total:.2f}"
                        out.writerow([*row, m.iso_time(b.created), m.iso_time(b.created + 600)])
                if chat.index % _COUNTS_EVERY == 0:
                    self.progress.update(n_ok + n_failed + n_absent)
        self.progress.finish()
        self.stats.update(bookings_migrated=n_ok, bookings_failed=n_failed, bookings_not_extracted=n_absent,
                          recoverable_chats=recoverable, recoverable_active_chats=recoverable_active)
        write_bookings_created(temp, {"created_at": CREATED_AT, "total_processed": n_ok + n_failed,
                                      "successful_creations": n_ok, "failed_creations": n_failed}, created)
        self._assemble(temp / "bookings-extracted.json", temp / ".extracted.part", "bookings", {
            "extracted_at": CREATED_AT, "total_bookings": n_ok + n_failed, "skipped_unmapped": n_absent})

    @staticmethod
    def _assemble(path: Path, part: Path, key: str, metadata: dict[str, Any]) -> None:
        with atomic_text(path) as f, open(part, encoding="utf-8") as src:
            f.write('{\n  "metadata": ' + json.dumps(metadata) + f',\n  "{key}": [')
            shutil.copyfileobj(src, f, 1 << 20)
            f.write("\n  ]\n}\n")
        part.unlink()

    def _chats(self) -> Iterator[bytes]:
        buyers, stylists = self.w.buyers, self.w.stylists
        for chat in self.w.chats():
            if len(self.first_chats) < 5:
                self.first_chats.append(chat.id)
            ref = b"NULL" if chat.booking_ref is None else _q(chat.booking_ref)
            yield b"('%s','%s','%s',%s,%d,%d,%d,'%s','%s')" % (
                chat.id.encode(), buyers.id(chat.buyer).encode(), stylists.id(chat.stylist).encode(), ref,
                chat.index % 3 == 0, chat.index % 4 == 0, chat.active,
                m.sql_time(chat.created, chat.created_us), m.sql_time(chat.updated, chat.created_us),
            )

    def _chat_notes(self) -> Iterator[bytes]:
        notes = ["Kunden ønsker «stille» time", "VIP ;)", "a),(b 'quoted' \\ backslash", "Notat\nover to linjer"]
        for i, cid in enumerate(self.first_chats[:4]):
            yield b"(%d,'%s',%s,'%s')" % (i + 1, cid.encode(), _q(notes[i]), m.sql_time(m.T_START + 86400 * i, 0))

    def _personal_messages(self, pchats: list[tuple[str, int]]) -> Iterator[bytes]:
        texts = [*NORWEGIAN[:4], *TRICKY[:4], "Hei\x00"]
        for i, text in enumerate(texts):
            is_from = ("buyer", "stylist", "")[i % 3] if i < 8 else "buyer"
            yield b"(%s,%s,%s,'%s','%s')" % (_q(m.uuid4(self.rng.getrandbits(128))), _q(pchats[i % 3][0]),
                                              _q(text), is_from.encode(), m.sql_time(m.T_START + 7200 * i, 0))

    # ------------------------------------------------------------------ phase 1 and truth

    def write_people_files(self) -> None:
        buyers, stylists = self.w.buyers, self.w.stylists
        def mapped() -> Iterator[tuple[m.People, int, str]]:
            yield from ((buyers, i, "customer") for i in range(buyers.n))
            yield from ((stylists, i, "stylist") for i in range(stylists.n) if self.w.mapped_stylist(i))

        total = sum(1 for _ in mapped())
        write_user_mapping(self.out / "temp", {"created_at": CREATED_AT, "total_mappings": total},
                           ((p.id(i), p.new_id(i)) for p, i, _ in mapped()))
        with atomic_text(self.out / "seed" / "profiles.csv", newline="") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(["id", "role", "full_name", "email", "created_at", "updated_at"])
            for p, i, role in mapped():
                t = m.iso_time(p.created(i))
                out.writerow([p.new_id(i), role, " ".join(p.names(i)), p.email(i), t, t])
        self.stats["profiles"] = total

    def truth(self, tables: dict[str, int], layout: str) -> dict[str, Any]:
        s, w, t = self.stats, self.w, self.tally
        return {
            "generator": {"seed": w.seed, "messages": w.messages, "layout": layout, "links": w.links},
            "rules": "strict Phase 6 rules, first match wins; chat.booking_id and message.chat_id "
                     "are matched case-insensitively",
            "tables": tables,
            "chats_by_fate": self.chat_fates,
            "messages_by_fate": t.fates,
            "image_messages": t.image_messages,
            "image_messages_all": t.image_messages_all,
            "sender_distribution": {"customer": t.customer, "stylist": t.stylist},
            "messages_with_nul": t.with_nul,
            "recoverable_chats": s["recoverable_chats"],
            "recoverable_active_chats": s["recoverable_active_chats"],
            "bookings": {"migrated": s["bookings_migrated"], "failed": s["bookings_failed"],
                         "not_extracted": s["bookings_not_extracted"]},
            "profiles": s["profiles"],
            "specials": {**self.chat_refs, "uppercase_message_chat_ids": t.specials["upper"],
                         "messages_before_chat": t.specials["before_chat"],
                         "empty_is_from": t.specials["empty_from"], "zero_created_at": t.specials["zero_date"],
                         "nul_texts": t.specials["nul"], "long_texts": t.specials["long"],
                         "orphan_messages": w.orphans},
            "dual_account": {"email": w.buyers.email(0), "buyer_id": w.buyers.id(0),
                             "stylist_id": w.stylists.id(0), "mapped": w.buyers.id(0)},
        }
