"""Small image files for the synthetic world's image messages, laid out like the legacy bucket.

Owns: bytes of small JPEG, PNG, WebP and GIF files (PNG with real zlib-compressed pixel
rows and CRCs, a 1×1 lossless WebP and a 1×1 GIF89a; the JPEG is a JFIF header, a
comment and EOI -- correct markers and magic bytes, padded to a chosen size, not a
decodable picture), and :func:`write_legacy_images`: every image URL's object under
``DIR/KEY``, with a few missing, one too large and one that is not an image, on purpose
(the outcomes the copy must report). Deterministic for a seed.

Does not own: the URLs (``texts``), the copy (``storage``).
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..storage.checks import DEFAULT_MAX_BYTES
from ..storage.source import SourceRef, parse_legacy_url

LEGACY_BUCKET_DIR = "legacy-bucket"  # synth's folder: DIR/KEY of every image message
GIF_1X1 = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
WEBP_1X1 = bytes.fromhex("524946461a000000574542505650384c0d0000002f0000001007101111888888fe0700")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int = 4, height: int = 4, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + bytes(rng.getrandbits(8) for _ in range(width * 3)) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b""))


def jpeg(size: int = 600, seed: int = 0) -> bytes:
    """SOI, APP0 (JFIF), COM segments of seeded filler up to ``size`` bytes, EOI."""
    head = b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    rng = random.Random(seed)
    body = bytearray()
    room = max(0, size - len(head) - 2)
    while room > 4:
        n = min(room - 4, 65533)
        body += b"\xff\xfe" + struct.pack(">H", n + 2) + rng.randbytes(n)
        room -= n + 4
    return head + bytes(body) + b"\xff\xd9"


def webp() -> bytes:
    return WEBP_1X1


def gif() -> bytes:
    return GIF_1X1


def image_for(name: str, seed: int) -> bytes:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext == "png":
        return png(4 + seed % 5, 3 + seed % 4, seed)
    if ext == "webp":
        return webp()
    if ext == "gif":
        return gif()
    return jpeg(400 + seed % 900, seed)


@dataclass(slots=True)
class LegacyImages:
    written: int = 0
    missing: list[str] = field(default_factory=list)  # keys left out on purpose
    too_large: list[str] = field(default_factory=list)
    not_an_image: list[str] = field(default_factory=list)


def write_legacy_images(urls: Iterable[str], root: Path, *, seed: int = 1, missing: int = 3,
                        max_bytes: int = DEFAULT_MAX_BYTES) -> LegacyImages:
    """Write each URL's object to ``root/KEY`` (the legacy bucket's layout; a ``//`` in a key is
    a folder of its own name on disk as in S3's console)."""
    refs = sorted({ref.key: ref for u in urls if isinstance(ref := parse_legacy_url(u), SourceRef)}.values(),
                  key=lambda x: x.key)
    rng = random.Random(seed)
    out = LegacyImages()
    special = rng.sample(range(len(refs)), min(len(refs), missing + 2)) if refs else []
    for i, ref in enumerate(refs):
        path = root / ref.key.lstrip("/")
        if i in special[:missing]:
            out.missing.append(ref.key)
            continue
        data = image_for(ref.key, i)
        if len(special) > missing and i == special[missing]:
            data = _too_large(ref.key, max_bytes, i)
            out.too_large.append(ref.key)
        elif len(special) > missing + 1 and i == special[missing + 1]:
            data = b"<html><body>AccessDenied</body></html>\n"
            out.not_an_image.append(ref.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out.written += 1
    return out


def _too_large(name: str, max_bytes: int, seed: int) -> bytes:
    if name.lower().endswith(".png"):
        big = png(4, 4, seed)
        return big[:-12] + _chunk(b"tEXt", b"c\x00" + b"x" * (max_bytes + 1)) + big[-12:]
    if name.lower().endswith((".gif", ".webp")):
        return image_for(name, seed) + bytes(max_bytes + 1)  # the right magic bytes, too many of them
    return jpeg(max_bytes + 1024, seed)
