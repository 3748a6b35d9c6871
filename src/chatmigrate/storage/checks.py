"""What may be uploaded to the chat-media bucket: content type by magic bytes, extension, size.

Owns: sniffing an image's type from its first bytes (JPEG, PNG, WebP, GIF -- the bucket's
allowed types), the extensions each type may carry, and the size limit (5 MB =
5 × 1024 × 1024 bytes by default). Pure: no I/O.

Does not own: reading or writing objects (``source``, ``target``), outcomes (``copy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ImageType = Literal["image/jpeg", "image/png", "image/webp", "image/gif"]
ALLOWED: tuple[ImageType, ...] = ("image/jpeg", "image/png", "image/webp", "image/gif")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
SNIFF_BYTES = 16  # enough for every signature below

EXTENSIONS: dict[str, ImageType] = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jfif": "image/jpeg",
    ".png": "image/png", ".webp": "image/webp", ".gif": "image/gif",
}


def sniff(head: bytes) -> ImageType | None:
    """The image type the first bytes announce, or None when they are none of the allowed four."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > name.rfind("/") and dot >= 0 else ""


def type_problem(head: bytes, name: str) -> tuple[ImageType | None, str | None]:
    """(the content type, None) when ``head`` is an allowed image consistent with ``name``'s
    extension; else (the sniffed type or None, the reason, one phrase)."""
    found = sniff(head)
    ext = extension(name)
    if found is None:
        what = "it is empty" if not head else f"it starts with the bytes {head[:8].hex(' ')}"
        return None, f"not a JPEG, PNG, WebP or GIF image ({what})"
    claimed = EXTENSIONS.get(ext)
    if claimed is None:
        return found, (f"the content is {found} but the name has "
                       + (f"the extension {ext!r}" if ext else "no extension")
                       + ", which the app cannot serve as an image")
    if claimed != found:
        return found, f"the content is {found} but the extension {ext!r} says {claimed}"
    return found, None


@dataclass(frozen=True, slots=True)
class Limits:
    """The bucket's limits an upload must meet (Supabase enforces them too: checking
    first reports every violation per image instead of a 4xx in the middle)."""

    max_bytes: int = DEFAULT_MAX_BYTES

    def size_problem(self, size: int) -> str | None:
        if size > self.max_bytes:
            return f"{size:,} bytes is more than the bucket's limit of {self.max_bytes:,} bytes"
        return None
