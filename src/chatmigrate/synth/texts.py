"""Words for the synthetic legacy data: chat texts, names, image URLs.

Owns: the fragments users type (Norwegian and English, emoji, ``;)`` winks, ``),(``,
quotes, backslashes, ``%``/``_``, newlines, tabs, control characters), the pool of
ready-escaped message bodies built from them, the few long (~5 KB) and NUL-carrying
texts, person names and e-mail addresses, and the S3 URLs of image messages.

Does not own: which message gets which text (``model``), the SQL file layout
(``sqlfile``). Nothing here knows about fates or the migration rules.
"""

from __future__ import annotations

import random

from ..dump.tokens import escape

NORWEGIAN = [
    "Hei! Har du ledig tid på fredag?",
    "Tusen takk for sist 😊",
    "Kan vi flytte timen til kl. 14:00?",
    "Jeg er på vei, ca. 5 min forsinket",
    "Så fint! Gleder meg 💇‍♀️",
    "Hvor mye koster balayage med klipp?",
    "Ha en fin dag ;)",
    "Adressen er Storgata 1, 0155 Oslo",
    "Vi sees i morgen!",
    "Beklager, jeg må dessverre avlyse 😢",
    "Er det greit at jeg tar med datteren min?",
    "Ringeklokka virker ikke, bare bank på ;)",
    "Prisen er 850,- inkl. mva; betaling med Vipps.",
    "Blir det «vanlig» klipp eller noe nytt?",
    "Æ, ø og å – ÆØÅ æøå",
    "Jeg har 100% naturlig hår, ingen farge",
    "Koden til porten er 1234#",
    "Håper det går bra med deg ❤️",
    "Kan du sende et bilde av det du ønsker?",
    "Perfekt, da sier vi torsdag kl. 10 😉",
    "Det blir \"sommerfugl\"-lugg!",
    "Vil du ha vask før klipp? (tar 15 min ekstra)",
    "Hvor lenge tar permanent?",
    "Skal vi si kl. 18:30 :)",
    "Takk for en super jobb!! 👏👏",
    "Jeg bor i 3. etasje, dør til venstre",
    "Fikk ikke betalt – feil i appen?",
    "God jul og godt nyttår! 🎄",
]
ENGLISH = [
    "Hi! Are you available on Saturday?",
    "Thanks so much ;)",
    "See you at 10 then",
    "Can you do 'beach waves'?",
    "I'm running late, sorry!!",
    "What's the price for a bob cut?",
    "It's the blue door, 2nd floor",
    "Great, thank you 🙏",
    "Could we do it at my place instead?",
    "Sounds good ;) see you",
    "Do you bring your own products?",
    "I'd like \"natural\" highlights",
    "Perfect! 👍🏽",
    "Is 50% deposit ok?",
]
TRICKY = [
    "a),(b",
    "'),('x','y');",
    "');DROP TABLE message;--",
    "it''s doubled",
    "Bare \\ en backslash",
    "C:\\Users\\kari\\bilder\\hår.jpg",
    "\\n is not a newline",
    "slutt med backslash \\",
    "\\'",
    "file_name_with_underscores and 10% off",
    "LIKE 'a\\%b\\_c'",
    "NULL",
    "null",
    "'NULL'",
    "Linje 1\nLinje 2\nLinje 3",
    "kolonne\tkolonne\ttab",
    "windows\r\nlinjeskift",
    "ctrl-z \x1a here",
    "bell\x07 and backspace\x08",
    ";",
    ";)",
    ";) ;) ;)",
    "), (",
    "\"",
    "'",
    "``backticks``",
    "/* not a comment */",
    "-- not a comment either",
    "emoji zwj 👨‍👩‍👧‍👦 and flags 🇳🇴",
    "combining e\u0301 and nbsp\u00a0here",
    "   leading and trailing spaces   ",
    "",
]
EMOJI = ["😊", "😂", "❤️", "💇‍♀️", "💅", "✂️", "👍", "🙏", "😉", "🥰", "🎉", "💁🏼‍♀️"]
SEPARATORS = [" ", " ", " ", "\n", "\n\n", "\t", "\r\n", " ;) "]
NUL_TEXTS = ["Hei\x00", "\x00", "bilde\x00vedlagt", "test\x00\x00test 😊", "NUL på slutten\x00"]
LONG_PARAGRAPH = (
    "Hei igjen! Jeg tenkte å forklare litt mer om hva jeg ønsker, siden det ble litt kort sist. "
    "Jeg har hatt langt hår i mange år, men nå vil jeg prøve noe helt nytt; kanskje en \"bob\" "
    "som går ned til kjaken, med litt lugg ;) Jeg er usikker på farge – 50% av meg vil ha "
    "kobber, resten vil beholde det naturlige. Hva tror du? 😊 Dear stylist, it's also fine to "
    "answer in English if that's easier for you: I'd love some 'soft layers'. C:\\bilder\\inspo.\n"
)

FIRST_NAMES = [
    "Kari", "Ola", "Ingrid", "Nora", "Emma", "Sofie", "Jakob", "Lars", "Maja", "Øystein",
    "Åse", "Bjørn", "Sigrid", "Håkon", "Thea", "Mathilde", "Aksel", "Frida", "Jonas",
    "Ståle", "Live", "Tiril", "Sander", "Amalie", "Mohammed", "Zainab", "Oliwia", "Chloé",
]
LAST_NAMES = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Dahl", "Jørgensen", "Halvorsen", "Lund", "Sørensen", "Strøm", "Ødegård", "Aasen",
    "O'Brien", "Ali", "Nowak", "Nguyen",
]
_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", "'": ""})

S3_HOSTS = (
    ("https://nabostylisten.s3.eu-north-1.amazonaws.com/Chat-Images//", ".jpeg"),
    ("https://nabostylisten.s3.amazonaws.com/Chat-Images//", ".png"),
)


def email_for(first: str, last: str, tag: str) -> str:
    return f"{first}.{last}{tag}@example.no".lower().translate(_TRANSLIT)


def image_url(chat_id: str, image_uuid: str, style: int) -> str:
    host, ext = S3_HOSTS[style & 1]
    ext = {"0": ".webp", "1": ".gif"}.get(image_uuid[-1], ext)  # 1 in 16 each, by the uuid: no extra random draw
    return f"{host}{chat_id}/{image_uuid}{ext}"


class TextPool:
    """Ready-escaped message bodies: ``escaped[i]`` is what goes between the quotes."""

    SIZE = 4096  # a power of two: pick with rng.getrandbits(12)

    def __init__(self, rng: random.Random) -> None:
        fragments = NORWEGIAN * 3 + ENGLISH * 2 + TRICKY
        self.texts: list[str] = []
        for _ in range(self.SIZE):
            parts = [rng.choice(fragments) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
            text = "".join(p + rng.choice(SEPARATORS) for p in parts[:-1]) + parts[-1]
            if rng.random() < 0.15:
                text += " " + rng.choice(EMOJI)
            self.texts.append(text)
        # make sure every tricky fragment occurs on its own at least once
        for i, t in enumerate(TRICKY):
            self.texts[i * 7] = t
        self.escaped = [escape(t.encode("utf-8")) for t in self.texts]
        self.long_texts = [
            (LONG_PARAGRAPH * n + rng.choice(EMOJI)) for n in (9, 11, 12)
        ]
        self.long_escaped = [escape(t.encode("utf-8")) for t in self.long_texts]
        self.nul_escaped = [escape(t.encode("utf-8")) for t in NUL_TEXTS]
