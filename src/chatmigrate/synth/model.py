"""The synthetic legacy world: people, chats, bookings and their intended fates.

Owns: everything the generator decides by construction. People (buyers, stylists, the
one person with both accounts) are drawn once and kept in compact byte arrays. Chats
and their bookings are drawn in blocks of ``BLOCK`` chats from a random stream seeded
by (seed, links, block number), so every pass over the chats (booking table, chat
table, message table) replays exactly the same chats without keeping them in memory.
Also owns the fate of each chat (the reason strings below) and fast uuid/time text.

Does not own: SQL or file formats (``sqlfile``, ``__init__``), message texts (``texts``).
Nothing here reads a dump or applies the migration's rules to one: fates are the
intended outcome of the strict Phase 6 rules, known because the generator chose them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from .texts import FIRST_NAMES, LAST_NAMES, email_for

PROCESSED = "processed"
CHAT_INACTIVE = "Chat is not active"
CHAT_NO_BOOKING = "No booking found for this chat"
CHAT_NOT_MIGRATED = "Booking was not migrated to PostgreSQL"
CHAT_FATES = (PROCESSED, CHAT_INACTIVE, CHAT_NO_BOOKING, CHAT_NOT_MIGRATED)
MSG_CHAT_NOT_PROCESSED = "Chat was not processed"
MSG_NO_CHAT = "Could not find chat for this message"
MSG_UNKNOWN_SENDER = "Unknown sender type: "
MSG_ZERO_DATE = "Invalid created_at: 0000-00-00 00:00:00.000000"
ZERO_DATETIME = "0000-00-00 00:00:00.000000"

BLOCK = 512
T_START = 1546300800  # 2019-01-01 00:00:00 UTC
T_END = 1746057600  # 2025-05-01: messages run on for at most ~3 months after their chat
LEGACY_STATUS = {  # legacy booking.status -> new booking_status
    "pending": "pending",
    "accepted": "confirmed",
    "completed": "completed",
    "cancelled": "cancelled",
    "rejected": "cancelled",
}
_STATUSES = ("completed",) * 6 + ("accepted", "accepted", "pending", "cancelled", "rejected")
_DURATIONS = (30, 45, 60, 90, 120, 180)
_CENTS = (0, 0, 50, 99)
_FEES = (0, 0, 0, 9900, 14900)
# links="booking": how many bookings name one chat (10% none, 60% one, up to seven)
_BOOKINGS_PER_CHAT = [0] * 10 + [1] * 60 + [2] * 12 + [3] * 8 + [4] * 4 + [5] * 3 + [6] * 2 + [7]
BOOKING_ERRORS = (
    'duplicate key value violates unique constraint "bookings_pkey"',
    'insert or update on table "bookings" violates foreign key constraint "bookings_service_id_fkey"',
    'new row for relation "bookings" violates check constraint "bookings_time_check"',
    "No services found for stylist",
)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_DAY_CACHE: dict[int, bytes] = {}


def uuid4(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))``, about three times faster."""
    v = (bits & ~(0xF000 << 64) & ~(0xC000 << 48)) | (4 << 76) | (0x8000 << 48)
    h = f"{v:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _clock(t: int) -> tuple[bytes, int, int, int]:
    """(``YYYY-MM-DD``, hour, minute, second) of ``t`` seconds since the epoch (UTC)."""
    d, s = divmod(t, 86400)
    day = _DAY_CACHE.get(d)
    if day is None:
        day = _DAY_CACHE[d] = dt.date.fromordinal(_EPOCH_ORDINAL + d).isoformat().encode()
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return day, h, m, s


def sql_time(t: int, us: int = 0) -> bytes:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` for ``t`` seconds since the epoch (UTC wall time)."""
    day, h, m, s = _clock(t)
    return b"%s %02d:%02d:%02d.%06d" % (day, h, m, s, us)


def iso_time(t: int, us: int = 0) -> str:
    """ISO 8601 with ``+00:00`` (as ``datetime.isoformat``), as the seed CSVs and phase files write it."""
    day, h, m, s = _clock(t)
    frac = f".{us:06d}" if us else ""
    return f"{day.decode()}T{h:02d}:{m:02d}:{s:02d}{frac}+00:00"


_M128 = (1 << 128) - 1


def _mix(x: int) -> int:
    """A bijection on 128-bit integers that scrambles well (odd multipliers, xor-shifts)."""
    x = (x * 0x9E3779B97F4A7C15F39CC0605CEDC835) & _M128
    x ^= x >> 67
    x = (x * 0xD6E8FEB86659FD93C2B2AE3D27D4EB4F) & _M128
    x ^= x >> 61
    x = (x * 0xA0761D6478BD642FE7037ED1A0B428DB) & _M128
    return x ^ (x >> 64)


class People:
    """Buyers or stylists: legacy id, new profile id (Phase 1), created time, name.

    Nothing is stored per person: person ``i`` is derived from ``i`` and two random
    128-bit keys through a bijection, so ids never collide and memory does not grow.
    """

    def __init__(self, rng: random.Random, n: int, tag: str) -> None:
        self.n, self.tag = n, tag
        self._key, self._new_key = rng.getrandbits(128), rng.getrandbits(128)
        self.twin: People | None = None  # person 0 of this table is person 0 of ``twin``

    def id(self, i: int) -> str:
        return uuid4(_mix((self._key + i) & _M128))

    def new_id(self, i: int) -> str:
        return uuid4(_mix((self._new_key + i) & _M128))

    def created(self, i: int) -> int:
        return T_START - 86400 * 200 + _mix(self._new_key ^ (i << 1)) % (T_END - T_START + 86400 * 200)

    def names(self, i: int) -> tuple[str, str]:
        if i == 0 and self.twin is not None:
            return self.twin.names(0)
        h = _mix(self._key ^ (i << 1) ^ 1)
        return FIRST_NAMES[h % len(FIRST_NAMES)], LAST_NAMES[(h >> 32) % len(LAST_NAMES)]

    def email(self, i: int) -> str:
        first, last = self.names(i)
        return email_for(first, last, "" if i == 0 else f".{self.tag}{i}")


@dataclass(slots=True)
class Booking:
    id: str
    buyer: int
    stylist: int
    chat_id: str | None  # booking.chat_id as written (NULL, the chat id, sometimes upper-case)
    start: int  # date_time, seconds
    duration: int  # minutes
    status: str  # legacy status
    price: int  # øre (cents)
    fee: int
    created: int
    outcome: str  # "ok" (success: true), "failed" (success: false), "absent" (never extracted)
    error: str | None = None


@dataclass(slots=True)
class Chat:
    index: int
    id: str
    buyer: int
    stylist: int
    created: int
    created_us: int
    updated: int
    active: bool
    booking_ref: str | None  # chat.booking_id as written
    fate: str
    count: int  # messages in this chat
    bookings: list[Booking] = field(default_factory=list)  # its own and chat-less extras


@dataclass
class World:
    """The people and the chat stream of one (seed, messages, links)."""

    seed: int
    messages: int
    links: str

    def __post_init__(self) -> None:
        if self.links not in ("chat", "booking"):
            raise ValueError(f"links must be 'chat' or 'booking', not {self.links!r}")
        if self.messages < 0:
            raise ValueError("messages must be >= 0")
        rng = random.Random(f"chatmigrate-synth/{self.seed}/people")
        est_chats = self.messages // 8 + 30
        self.buyers = People(rng, max(8, est_chats // 4), "b")
        self.stylists = People(rng, max(5, est_chats // 30), "s")
        # Person 0 has both accounts (same name and e-mail); only the buyer one is mapped.
        self.stylists.twin = self.buyers
        self.orphans = max(3, self.messages // 10000) if self.messages >= 100 else 0
        self.min_chats = 30

    def mapped_stylist(self, i: int) -> bool:
        return i != 0

    # ------------------------------------------------------------------ chats

    def chats(self) -> Iterator[Chat]:
        """Every chat in dump order, with its bookings; the message counts sum to
        ``messages - orphans`` exactly. Replays identically on every call."""
        remaining = self.messages - self.orphans
        produced = 0
        block = 0
        while remaining > 0 or produced < self.min_chats:
            for chat in self._block(block):
                chat.count = min(chat.count, remaining)
                remaining -= chat.count
                produced += 1
                yield chat
                if remaining == 0 and produced >= self.min_chats:
                    return
            block += 1

    def _block(self, b: int) -> list[Chat]:
        rng = random.Random(f"chatmigrate-synth/{self.seed}/{self.links}/chats/{b}")
        r, bits = rng.random, rng.getrandbits
        nb, ns = self.buyers.n - 1, self.stylists.n - 1
        out: list[Chat] = []
        buyer = stylist = 0
        for j in range(BLOCK):
            index = b * BLOCK + j
            cid = uuid4(bits(128))
            if j == 0 or r() >= 0.12:  # else: the same pair chats again
                buyer, stylist = 1 + int(r() * nb), 1 + int(r() * ns)
            created = T_START + 2 * 86400 + int(r() * (T_END - T_START - 2 * 86400))
            chat = Chat(
                index, cid, buyer, stylist, created, int(r() * 1000000), created + int(r() * 86400 * 90),
                r() >= 0.05, None, "", min(60, int(rng.expovariate(1 / 8.6))),
            )
            if index == 0:  # the two-account person's stylist account: unmapped
                chat.stylist, chat.active = 0, True
            special = index in (1, 2) and self.links == "chat"
            if special:  # the only two chats with booking_id '' (distinct buyers: UNIQUE KEY)
                chat.buyer = index
            x = r()
            if self.links == "booking":
                for _ in range(_BOOKINGS_PER_CHAT[int(r() * 100)]):
                    link = cid.upper() if r() < 0.02 else cid
                    chat.bookings.append(self._booking(rng, chat, link))
                chat.fate = CHAT_NO_BOOKING
            elif special:
                chat.booking_ref = ""
                chat.fate = CHAT_NO_BOOKING
            elif index % 150 == 4:  # a few name no booking at all
                chat.booking_ref = uuid4(bits(128))
                chat.fate = CHAT_NO_BOOKING
            elif x < 0.08 and index != 0:
                chat.fate = CHAT_NO_BOOKING  # booking_id NULL
            else:
                booking = self._booking(rng, chat, cid)
                chat.bookings.append(booking)
                # about 1% name their booking in upper case (MySQL compares case-insensitively)
                chat.booking_ref = booking.id.upper() if index % 97 == 3 else booking.id
                chat.fate = PROCESSED if booking.outcome == "ok" else CHAT_NOT_MIGRATED
            if not chat.active:
                chat.fate = CHAT_INACTIVE
            if r() < 0.15:  # a booking that never had a chat
                chat.bookings.append(self._booking(rng, chat, None))
            out.append(chat)
        return out

    def _booking(self, rng: random.Random, chat: Chat, chat_id: str | None) -> Booking:
        r = rng.random
        start = chat.created + 3600 + int(r() * 86400 * 30)
        b = Booking(
            uuid4(rng.getrandbits(128)), chat.buyer, chat.stylist, chat_id, start - start % 900,
            _DURATIONS[int(r() * 6)], _STATUSES[int(r() * len(_STATUSES))],
            (300 + int(r() * 2700)) * 100 + _CENTS[int(r() * 4)], _FEES[int(r() * 5)],
            chat.created - int(r() * 7200), "ok",
        )
        if not self.mapped_stylist(chat.stylist):
            b.outcome = "absent"  # Phase 4 never extracted it: its stylist is unmapped
        elif r() < 0.05:
            b.outcome, b.error = "failed", BOOKING_ERRORS[int(r() * len(BOOKING_ERRORS))]
        return b
