"""A tiny target for tests of ``chatmigrate.postgres``: people and bookings, and records to load.

:func:`seed` puts two customers, two stylists and four bookings (customer 1 with stylist 1)
into a throw-away database made by ``pgdb`` (parameterised INSERTs), and returns their
ids. :func:`chat`, :func:`message` and :func:`media` build the records step 2 loads and
step 3 expects (``chatmigrate.phase6.records``), with fresh ids unless told otherwise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from chatmigrate.phase6 import records as r

T0 = "2024-03-01T09:00:00.250000Z"


def uid() -> str:
    return str(uuid.uuid4())


@dataclass
class Seeded:
    customer: str
    stylist: str
    other_customer: str
    other_stylist: str
    bookings: list[str]  # customer with stylist, in order


def seed(db: Any, bookings: int = 4) -> Seeded:
    s = Seeded(uid(), uid(), uid(), uid(), [uid() for _ in range(bookings)])
    people = [(s.customer, "customer"), (s.stylist, "stylist"), (s.other_customer, "customer"),
              (s.other_stylist, "stylist")]
    with db.connect() as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO auth.users (id, email) VALUES (%s, %s)", [(p, f"{p}@example.no") for p, _ in people])
        cur.executemany("INSERT INTO public.profiles (id, role, email) VALUES (%s, %s, %s)",
                        [(p, role, f"{p}@example.no") for p, role in people])
        cur.executemany(
            "INSERT INTO public.bookings (id, customer_id, stylist_id, start_time, end_time, status, total_price,"
            " total_duration_minutes) VALUES (%s, %s, %s, now(), now() + interval '1 hour', 'completed', 650, 60)",
            [(b, s.customer, s.stylist) for b in s.bookings])
    return s


def chat(booking_id: str | None, *, id: str | None = None, customer: str | None = None,
         stylist: str | None = None, created_at: str = T0) -> r.TargetChat:
    return r.TargetChat(id or uid(), booking_id, created_at, created_at, customer, stylist)


def message(chat_: r.TargetChat, sender: str, *, id: str | None = None, content: str = "hei",
            is_read: bool = False, created_at: str = T0, has_image: bool = False,
            role: str = "customer") -> r.TargetMessage:
    return r.TargetMessage(id or uid(), chat_.id, sender, role, content, is_read, created_at, has_image)


def media(msg: r.TargetMessage, *, id: str | None = None, owner: str | None = None) -> r.PlannedMedia:
    name = f"{uid()}.jpeg"
    return r.PlannedMedia(id or uid(), msg.id, msg.chat_id, owner or msg.sender_id, f"{msg.chat_id}/{msg.id}/{name}",
                          f"https://example.invalid/{name}")
