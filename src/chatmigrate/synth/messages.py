"""The message table: a stream of ready-made tuples and the tally of their fates.

Owns: producing every ``message`` row one at a time (nothing is kept per message, so
memory stays flat however many there are), interleaving the messages of a few chats
at a time as a dump in primary-key order would, choosing texts (plain, image URL in
both S3 host styles, NUL, long), and placing the rare cases at spread-out positions:
``is_from ''``, zero ``created_at``, upper-case ``chat_id``, dated before the chat,
and messages whose chat does not exist. Tallies the intended fate of each message.

Does not own: the chats (``model``), the texts (``texts``), the SQL file (``sqlfile``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..progress import NO_PROGRESS, Progress
from . import model as m
from .texts import TextPool, image_url

WINDOW = 8  # chats whose messages interleave
_COUNTS_EVERY = 16384
SPECIALS = ("empty_from", "zero_date", "before_chat", "upper", "nul", "long")


@dataclass
class Tally:
    """What the message stream wrote, by intended fate (filled in as it runs)."""

    fates: dict[str, int] = field(default_factory=dict)
    specials: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPECIALS, 0))
    image_messages: int = 0  # processed ones
    image_messages_all: int = 0
    with_nul: int = 0  # processed ones
    customer: int = 0
    stylist: int = 0
    image_urls: list[str] = field(default_factory=list)  # the processed image messages' URLs (synth.images)


def message_rows(w: m.World, pool: TextPool, tally: Tally, progress: Progress = NO_PROGRESS) -> Iterator[bytes]:
    """The message table, one tuple at a time; ``tally`` is complete when it is exhausted."""
    rng = random.Random(f"chatmigrate-synth/{w.seed}/messages")
    bits, rand = rng.getrandbits, rng.random
    escaped, nul_texts, long_texts = pool.escaped, pool.nul_escaped, pool.long_escaped
    uuid4, sql_time = m.uuid4, m.sql_time
    total = w.messages
    specials = ["empty_from", "zero_date", "before_chat", "nul", "long", "empty_from", "zero_date", "before_chat",
                "nul", "before_chat", "long", "nul"]
    specials += ["upper"] * max(3, total // 20000)
    specials.reverse()  # popped from the end
    special_gap = max(1, total // (len(specials) + 2))
    next_special = special_gap // 2
    orphans_left = w.orphans
    orphan_gap = max(1, total // (w.orphans + 1))
    next_orphan = orphan_gap
    processed = images = images_all = buyer_msgs = with_nul = not_processed = unknown = zero = orphans = 0
    placed = tally.specials
    emitted = 0
    chats = w.chats()
    slots: list[list[Any]] = []  # [chat id bytes, messages left, last time, processed?, chat created]
    more = True
    progress.start("synth: messages", total, "rows")
    while True:
        while more and len(slots) < WINDOW:
            chat = next(chats, None)
            if chat is None:
                more = False
            elif chat.count:
                t0 = chat.created + bits(12)
                slots.append([chat.id.encode(), chat.count, t0, chat.fate == m.PROCESSED, chat.created])
        if orphans_left and (emitted >= next_orphan or not slots):
            next_orphan += orphan_gap
            orphans_left -= 1
            orphans += 1
            emitted += 1
            yield b"('%s','%s',0,'buyer','%s',1,'%s')" % (
                uuid4(bits(128)).encode(), escaped[bits(12)], uuid4(bits(128)).encode(),
                sql_time(m.T_START + bits(27), bits(19)))
            continue
        if not slots:
            break
        k = bits(3)
        if k >= len(slots):
            k %= len(slots)
        slot = slots[k]
        cid = slot[0]
        r = rand()
        nul = is_image = 0
        if r < 0.03:
            text, is_image = image_url(cid.decode(), uuid4(bits(128)), bits(1)).encode(), 1
        elif r < 0.0302:
            text, nul = nul_texts[bits(8) % len(nul_texts)], 1
        elif r < 0.0303:
            text = long_texts[bits(2) % len(long_texts)]
        else:
            text = escaped[bits(12)]
        b = bits(32)
        is_from = b"buyer" if (b & 255) < 141 else b"stylist"
        t = slot[2] = slot[2] + ((b >> 12) & 0x3FFF) * (1 + ((b >> 26) & 7))
        created = sql_time(t, bits(20) % 1000000)
        chat_ok = slot[3]
        bad = 0  # 1: unknown sender, 2: zero date
        if emitted >= next_special and specials and (chat_ok or w.links == "booking"):
            next_special += special_gap
            kind = specials.pop()
            placed[kind] += 1
            if kind == "empty_from":
                is_from, bad = b"", 1
            elif kind == "zero_date":
                created, bad = m.ZERO_DATETIME.encode(), 2
            elif kind == "before_chat":
                created = sql_time(slot[4] - 60 - bits(17), 0)
            elif kind == "nul":
                text, nul, is_image = nul_texts[placed[kind] % len(nul_texts)], 1, 0
            elif kind == "long":
                text, nul, is_image = long_texts[placed[kind] % len(long_texts)], 0, 0
            else:
                cid = cid.upper()
        if not chat_ok:
            not_processed += 1
        elif bad == 1:
            unknown += 1
        elif bad == 2:
            zero += 1
        else:
            processed += 1
            images += is_image
            if is_image:
                tally.image_urls.append(text.decode())
            buyer_msgs += is_from == b"buyer"
            with_nul += nul
        images_all += is_image
        emitted += 1
        if not emitted % _COUNTS_EVERY:
            progress.update(emitted)
        yield b"('%s','%s',%d,'%s','%s',%d,'%s')" % (
            uuid4(bits(128)).encode(), text, is_image, is_from, cid, b & 0xF00 == 0, created)
        slot[1] -= 1
        if not slot[1]:
            slots[k] = slots[-1]
            slots.pop()
    progress.update(emitted)
    progress.finish()
    tally.fates.update({m.PROCESSED: processed, m.MSG_CHAT_NOT_PROCESSED: not_processed, m.MSG_NO_CHAT: orphans})
    if unknown:
        tally.fates[m.MSG_UNKNOWN_SENDER] = unknown
    tally.fates[m.MSG_ZERO_DATE] = zero
    tally.image_messages, tally.image_messages_all, tally.with_nul = images, images_all, with_nul
    tally.customer, tally.stylist = buyer_msgs, processed - buyer_msgs
