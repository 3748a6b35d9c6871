"""A small legacy world, declared row by row, made real in MariaDB and PostgreSQL.

A test declares people, bookings, chats and messages with :class:`World`'s builder
methods, then calls :meth:`World.build`, which

- creates a throw-away MariaDB database with the legacy tables ``buyer``, ``stylist``,
  ``booking``, ``chat`` (9 columns in the known dump's order, with the 3-column
  ``UNIQUE KEY UQ_BUYER_STYLIST_BOOKING`` and ``KEY (stylist_id)``), ``message`` and the
  decoy ``personal_message``, inserts the rows (session ``sql_mode=''``, so the ``''``
  enum value and zero dates can be written), dumps it with the real ``mariadb-dump``
  into ``tmp_path/legacy.sql`` and drops it again;
- writes Phase 1's ``temp/user-id-mapping.json`` (mapped people only) and Phase 4's
  ``temp/bookings-created.json`` (``success`` = the booking's ``migrated``);
- creates a throw-away PostgreSQL target (``pgdb``) and seeds auth.users, profiles and
  the bookings that are in the target, with parameterised INSERTs.

The declared objects keep what the migration should make of them (canonical ids, the
sender's new profile id, the expected content and media path), so tests compare the
target with the source value by value. :meth:`World.close` drops the target.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pgdb

T0 = datetime(2024, 3, 1, 9, 0, 0, 250000)  # legacy DATETIME(6) values are UTC wall time
_UNSET: Any = object()

LEGACY_SCHEMA = (
    """CREATE TABLE `buyer` (
  `id` varchar(36) NOT NULL, `email` varchar(255) NOT NULL, `name` varchar(255) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL DEFAULT current_timestamp(6), PRIMARY KEY (`id`))""",
    """CREATE TABLE `stylist` (
  `id` varchar(36) NOT NULL, `email` varchar(255) NOT NULL, `name` varchar(255) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL DEFAULT current_timestamp(6), PRIMARY KEY (`id`))""",
    """CREATE TABLE `booking` (
  `id` varchar(36) NOT NULL, `buyer_id` varchar(36) DEFAULT NULL, `stylist_id` varchar(36) DEFAULT NULL,
  `date_time` timestamp NULL DEFAULT NULL, `status` varchar(32) NOT NULL, `price` decimal(10,2) DEFAULT NULL,
  `comment` text DEFAULT NULL, `chat_id` varchar(255) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL DEFAULT current_timestamp(6), `updated_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`), KEY `IDX_booking_buyer` (`buyer_id`))""",
    """CREATE TABLE `chat` (
  `id` varchar(36) NOT NULL, `buyer_id` varchar(36) DEFAULT NULL, `stylist_id` varchar(36) DEFAULT NULL,
  `buyer_has_unread` tinyint(4) NOT NULL DEFAULT 0, `stylist_has_unread` tinyint(4) NOT NULL DEFAULT 0,
  `created_at` datetime(6) NOT NULL DEFAULT current_timestamp(6), `updated_at` datetime(6) DEFAULT NULL,
  `booking_id` varchar(255) DEFAULT NULL, `is_active` tinyint(4) NOT NULL DEFAULT 1,
  PRIMARY KEY (`id`),
  UNIQUE KEY `UQ_BUYER_STYLIST_BOOKING` (`buyer_id`,`stylist_id`,`booking_id`),
  KEY `FK_chat_stylist` (`stylist_id`),
  CONSTRAINT `FK_chat_buyer` FOREIGN KEY (`buyer_id`) REFERENCES `buyer` (`id`),
  CONSTRAINT `FK_chat_stylist` FOREIGN KEY (`stylist_id`) REFERENCES `stylist` (`id`))""",
    """CREATE TABLE `message` (
  `id` varchar(36) NOT NULL, `message` text NOT NULL, `is_image` tinyint(4) NOT NULL DEFAULT 0,
  `is_from` enum('buyer','stylist') NOT NULL, `chat_id` varchar(36) DEFAULT NULL,
  `is_unread` tinyint(4) NOT NULL DEFAULT 1, `created_at` datetime(6) NOT NULL DEFAULT current_timestamp(6),
  PRIMARY KEY (`id`), KEY `IDX_message_chat` (`chat_id`))""",
    """CREATE TABLE `personal_message` (
  `id` varchar(36) NOT NULL, `message` text NOT NULL, `is_from` enum('buyer','stylist') NOT NULL,
  `chat_id` varchar(36) DEFAULT NULL, `is_unread` tinyint(4) NOT NULL DEFAULT 1,
  `created_at` datetime(6) NOT NULL DEFAULT current_timestamp(6), PRIMARY KEY (`id`))""",
)
ALL_TABLES = ("booking", "buyer", "chat", "message", "personal_message", "stylist")
S3_HOSTS = {
    "regional": "https://nabostylisten.s3.eu-north-1.amazonaws.com",
    "global": "https://nabostylisten.s3.amazonaws.com",
}


def _uid() -> str:
    return str(uuid.uuid4())


def _case(value: str, case: str) -> str:
    return {"lower": value.lower(), "upper": value.upper()}[case]


def utc(value: datetime) -> datetime:
    """A legacy wall-time value as the aware UTC datetime PostgreSQL returns."""
    return value.replace(tzinfo=UTC)


@dataclass(eq=False)
class Person:
    legacy_id: str  # the buyer or stylist row id
    new_id: str  # the profile id of Phase 1
    kind: str  # "buyer" | "stylist"
    mapped: bool  # listed in user-id-mapping.json
    in_target: bool  # has auth.users and profiles rows

    @property
    def role(self) -> str:
        return "customer" if self.kind == "buyer" else "stylist"


@dataclass(eq=False)
class Booking:
    id: str
    buyer: Person
    stylist: Person
    migrated: bool  # success: true in bookings-created.json
    in_target: bool  # a row in the target's bookings table
    status: str
    day: int
    chat_id: str | None = None  # booking.chat_id, the link from the booking side


@dataclass(eq=False)
class Chat:
    id: str  # canonical (lowercase)
    dump_id: str  # as written to MariaDB
    booking: Booking | None
    dump_booking_id: str | None  # as written to chat.booking_id
    buyer: Person
    stylist: Person
    active: bool
    created_at: datetime
    updated_at: datetime | None
    messages: list[Message] = field(default_factory=list)


@dataclass(eq=False)
class Message:
    id: str  # canonical (lowercase)
    chat: Chat | None
    dump_chat_id: str | None  # as written to message.chat_id
    is_from: str
    text: str  # as written to message.message
    image: bool
    unread: bool
    created_at: datetime | str
    image_name: str | None = None

    @property
    def content(self) -> str:
        """What chat_messages.content must hold."""
        return "" if self.image else self.text.replace("\x00", "")

    @property
    def sender(self) -> Person | None:
        if self.chat is None or self.chat.booking is None:
            return None
        return {"buyer": self.chat.booking.buyer, "stylist": self.chat.booking.stylist}.get(self.is_from)

    @property
    def file_path(self) -> str:
        assert self.chat is not None and self.image_name
        return f"{self.chat.id}/{self.id}/{self.image_name}"


class World:
    """The builder; see the module docstring."""

    def __init__(self, mariadb: Any, tmp_path: Path, label: str = "world") -> None:
        self.mariadb = mariadb
        self.label = label
        self.dump_path = tmp_path / "legacy.sql"
        self.temp_dir = tmp_path / "temp"
        self.people: list[Person] = []
        self.bookings: list[Booking] = []
        self.chats: list[Chat] = []
        self.messages: list[Message] = []
        self.pg: pgdb.PgDatabase | None = None

    # ------------------------------------------------------------------ declaring

    def person(self, kind: str = "buyer", *, mapped: bool = True, in_target: bool = True) -> Person:
        p = Person(_uid(), _uid(), kind, mapped, in_target)
        self.people.append(p)
        return p

    def buyer(self, **kw: Any) -> Person:
        return self.person("buyer", **kw)

    def stylist(self, **kw: Any) -> Person:
        return self.person("stylist", **kw)

    def booking(self, *, migrated: bool = True, in_target: bool | None = None, buyer: Person | None = None,
                stylist: Person | None = None, status: str = "completed") -> Booking:
        b = Booking(_uid(), buyer or self.buyer(), stylist or self.stylist(), migrated,
                    migrated if in_target is None else in_target, status, len(self.bookings))
        self.bookings.append(b)
        return b

    def chat(self, booking: Booking | None = None, *, booking_id: str | None = _UNSET, active: bool = True,
             id_case: str = "lower", booking_id_case: str = "lower", created_at: datetime | None = None,
             updated_at: datetime | None = _UNSET, buyer: Person | None = None,
             stylist: Person | None = None) -> Chat:
        """A legacy chat; without ``booking`` its booking_id is NULL unless ``booking_id`` is given.

        ``buyer`` / ``stylist`` are the chat row's own columns (default: the booking's people).
        """
        cid = _uid()
        if booking_id is _UNSET:
            booking_id = booking.id if booking else None
        created = created_at or T0 + timedelta(hours=len(self.chats))
        c = Chat(
            cid, _case(cid, id_case), booking, _case(booking_id, booking_id_case) if booking_id else booking_id,
            buyer or (booking.buyer if booking else self.buyer()),
            stylist or (booking.stylist if booking else self.stylist()),
            active, created, created + timedelta(minutes=30) if updated_at is _UNSET else updated_at,
        )
        if booking and booking.chat_id is None:
            booking.chat_id = cid
        self.chats.append(c)
        return c

    def message(self, chat: Chat | None = None, *, is_from: str = "buyer", text: str | None = None,
                image: bool = False, unread: bool = True, created_at: datetime | str | None = None,
                chat_id: str | None = None, chat_id_case: str = "lower", image_host: str = "regional") -> Message:
        """A legacy message in ``chat`` (or pointing at ``chat_id``, e.g. a chat that does not exist)."""
        mid = _uid()
        dump_chat_id = chat_id if chat_id is not None else _case(chat.dump_id, chat_id_case) if chat else None
        name = None
        if image and text is None:
            name = f"{_uid()}.jpeg"  # the image uuid is not the message id
            text = f"{S3_HOSTS[image_host]}/Chat-Images//{chat.dump_id if chat else dump_chat_id}/{name}"
        n = len(chat.messages) if chat else 0
        base = chat.created_at if chat else T0
        m = Message(mid, chat, dump_chat_id, is_from, text if text is not None else f"melding {len(self.messages)}",
                    image, unread, created_at or base + timedelta(minutes=n + 1, microseconds=n), name)
        if chat:
            chat.messages.append(m)
        self.messages.append(m)
        return m

    # ------------------------------------------------------------------ expectations

    def migrated_chats(self) -> list[Chat]:
        """Chats step 1 processes: active, booking in the dump and migrated."""
        return [c for c in self.chats if c.active and c.booking is not None and c.booking.migrated
                and c.dump_booking_id is not None and c.dump_booking_id.lower() == c.booking.id]

    def migrated_messages(self) -> list[Message]:
        chats = set(map(id, self.migrated_chats()))
        return [m for m in self.messages if m.chat is not None and id(m.chat) in chats
                and m.is_from in ("buyer", "stylist") and isinstance(m.created_at, datetime)
                and m.sender is not None and m.sender.mapped]

    # ------------------------------------------------------------------ making it real

    def build(self, *, dump_tables: tuple[str, ...] | None = None, mapping: bool = True,
              bookings_created: bool = True, target: bool = True) -> World:
        self._legacy(dump_tables)
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        if mapping:
            self._write_json("user-id-mapping.json", {
                "metadata": {"created_at": "2025-09-01T00:00:00.000Z",
                             "total_mappings": sum(p.mapped for p in self.people)},
                "mapping": {p.legacy_id: p.new_id for p in self.people if p.mapped},
            })
        if bookings_created:
            self._write_json("bookings-created.json", {
                "metadata": {"created_at": "2025-09-02T00:00:00.000Z", "total_processed": len(self.bookings),
                             "successful_creations": sum(b.migrated for b in self.bookings),
                             "failed_creations": sum(not b.migrated for b in self.bookings)},
                "results": [{"id": b.id, "success": True} if b.migrated else
                            {"id": b.id, "success": False, "error": "Customer or stylist not mapped"}
                            for b in self.bookings],
            })
        if target:
            self.pg = pgdb.create(self.label)
            self._seed_target()
        return self

    @property
    def url(self) -> str:
        assert self.pg is not None, "build() the world first"
        return self.pg.url

    def close(self) -> None:
        if self.pg is not None:
            pgdb.drop(self.pg)
            self.pg = None

    def _write_json(self, name: str, doc: dict[str, Any]) -> None:
        (self.temp_dir / name).write_text(json.dumps(doc, indent=2), encoding="utf-8")

    def _legacy(self, dump_tables: tuple[str, ...] | None) -> None:
        name = self.mariadb.create_database(self.label)
        try:
            with self.mariadb.connect(name) as conn, conn.cursor() as cur:
                cur.execute("SET SESSION sql_mode = ''")
                for ddl in LEGACY_SCHEMA:
                    cur.execute(ddl)
                for kind in ("buyer", "stylist"):
                    cur.executemany(
                        f"INSERT INTO `{kind}` (id, email, name, created_at) VALUES (%s, %s, %s, %s)",
                        [(p.legacy_id, f"{p.legacy_id[:8]}@example.no", f"{kind} {p.legacy_id[:4]}", T0)
                         for p in self.people if p.kind == kind])
                cur.executemany(
                    "INSERT INTO booking (id, buyer_id, stylist_id, date_time, status, price, comment, chat_id,"
                    " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(b.id, b.buyer.legacy_id, b.stylist.legacy_id, T0 + timedelta(days=b.day, hours=5), b.status,
                      "650.00", "Ring på; dørklokka er ødelagt", b.chat_id, T0, T0) for b in self.bookings])
                cur.executemany(
                    "INSERT INTO chat (id, buyer_id, stylist_id, buyer_has_unread, stylist_has_unread, created_at,"
                    " updated_at, booking_id, is_active) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(c.dump_id, c.buyer.legacy_id, c.stylist.legacy_id, 1, 0, c.created_at, c.updated_at,
                      c.dump_booking_id, int(c.active)) for c in self.chats])
                rows = [(m.id, m.text, int(m.image), m.is_from, m.dump_chat_id, int(m.unread), m.created_at)
                        for m in self.messages]
                for i in range(0, len(rows), 2000):
                    cur.executemany(
                        "INSERT INTO message (id, message, is_image, is_from, chat_id, is_unread, created_at)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s)", rows[i:i + 2000])
                cur.executemany(  # decoy: same chat ids, must never be read as messages
                    "INSERT INTO personal_message (id, message, is_from, chat_id, is_unread, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    [(_uid(), "privat; ikke migrer", "buyer", c.dump_id, 0, c.created_at) for c in self.chats])
            cmd = self.mariadb.dump_command(name) + list(dump_tables or ())
            proc = subprocess.run(cmd, capture_output=True, timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(f"mariadb-dump failed: {proc.stderr.decode(errors='replace')}")
            self.dump_path.write_bytes(proc.stdout)
        finally:
            with self.mariadb.connect() as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            if name in self.mariadb.created:
                self.mariadb.created.remove(name)

    def _seed_target(self) -> None:
        assert self.pg is not None
        people = [p for p in self.people if p.in_target]
        bookings = [b for b in self.bookings if b.in_target]
        with self.pg.connect(autocommit=False) as conn, conn.cursor() as cur:
            cur.executemany("INSERT INTO auth.users (id, email) VALUES (%s, %s)",
                            [(p.new_id, f"{p.new_id}@example.no") for p in people])
            cur.executemany(
                "INSERT INTO public.profiles (id, role, full_name, email) VALUES (%s, %s, %s, %s)",
                [(p.new_id, p.role, f"{p.kind} {p.new_id[:4]}", f"{p.new_id}@example.no") for p in people])
            cur.executemany(
                "INSERT INTO public.bookings (id, customer_id, stylist_id, start_time, end_time, status,"
                " total_price, total_duration_minutes, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(b.id, b.buyer.new_id, b.stylist.new_id, utc(T0 + timedelta(days=b.day, hours=5)),
                  utc(T0 + timedelta(days=b.day, hours=6)), b.status, "650.00", 60, utc(T0), utc(T0))
                 for b in bookings])
            conn.commit()


@contextmanager
def extracted_world(mariadb: Any, tmp_path: Path, label: str, *, chats: int) -> Iterator[World]:
    """``chats`` migrating chats (a customer's text, a stylist's text and a stylist's image
    each), dumped by the real mariadb-dump and through step 1: ready for create."""
    from chatmigrate.steps.extract import extract

    w = World(mariadb, tmp_path, label)
    try:
        for _ in range(chats):
            chat = w.chat(w.booking())
            w.message(chat)
            w.message(chat, is_from="stylist")
            w.message(chat, is_from="stylist", image=True)
        w.build()
        extract(str(w.dump_path), w.temp_dir)
        yield w
    finally:
        w.close()
