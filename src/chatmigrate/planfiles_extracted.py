"""Step 1's files: its extraction and skips, written as the messages stream and read back as records; the chat links.

Owns: writing step 1's extraction (``planfiles.CHATS_EXTRACTED``) and ``skipped-chats.json``
together (:class:`ExtractedWriter`; the text of one message line, :func:`message_line`),
reading them back (:func:`read_extracted`: the head checked, chats and images spooled,
the messages as a stream; the metadata alone; the skips' summary; the messages per month,
by one regex pass over those lines), and writing ``chat-links.json`` (how every legacy
chat was linked and where its messages went).

Does not own: the files' names and the helpers the ``planfiles*`` modules share
(``planfiles``), what goes into the files (``phase6``, ``steps.extract``), any database work.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from json.encoder import encode_basestring as js
from pathlib import Path
from typing import Any

from . import jsonstream as s
from .errors import PhaseFileError
from .phase6 import kinds as k
from .phase6 import records as r
from .phase6.compact import Spool
from .phase6.docs import ExtractMetadata
from .phase6.links import ChatLink
from .phase6.records import NulWarning
from .planfiles import ADVICE_STEP1, CHAT_LINKS, CHATS_EXTRACTED, SKIPPED_CHATS, now_iso
from .safewrite import atomic_text


def message_line(m: r.TargetMessage) -> str:
    """A processedMessages line, by attribute name; the same text json.dumps gives."""
    return (
        f'{{"id": {js(m.id)}, "chat_id": {js(m.chat_id)}, "sender_id": {js(m.sender_id)}, '
        f'"content": {js(m.content)}, "is_read": {"true" if m.is_read else "false"}, '
        f'"created_at": {js(m.created_at)}, "has_image": {"true" if m.has_image else "false"}, '
        f'"sender_role": {js(m.sender_role)}}}'
    )


def message_lines(ms: Iterable[r.TargetMessage]) -> list[str]:
    """:func:`message_line` of each message (the same text, by attribute name, without a call
    per message)."""
    return [
        f'{{"id": {js(m.id)}, "chat_id": {js(m.chat_id)}, "sender_id": {js(m.sender_id)}, '
        f'"content": {js(m.content)}, "is_read": {"true" if m.is_read else "false"}, '
        f'"created_at": {js(m.created_at)}, "has_image": {"true" if m.has_image else "false"}, '
        f'"sender_role": {_CUSTOMER if m.sender_role == "customer" else js(m.sender_role)}}}'
        for m in ms
    ]


_CUSTOMER = js("customer")


def skipped_message_line(x: r.Skip) -> str:
    return (f'{{"message": {{"id": {js(x.id)}, "chat_id": {js(x.parent_id) if x.parent_id else "null"}}}, '
            f'"reason": {js(x.reason)}}}')


def _chat_item(c: r.TargetChat) -> dict[str, Any]:
    return {"id": c.id, "booking_id": c.booking_id, "created_at": c.created_at, "updated_at": c.updated_at,
            "customer_id": c.customer_id, "stylist_id": c.stylist_id}


def _image_item(md: r.PlannedMedia) -> dict[str, Any]:
    return {
        "message": {"id": md.message_id, "message": md.source_url},
        "chat_id": md.chat_id,
        "media": {"id": md.id, "owner_id": md.owner_id, "file_path": md.file_path,
                  "bucket": r.MEDIA_BUCKET, "media_type": r.MEDIA_TYPE},
    }


class ExtractedWriter:
    """Step 1's extraction (``CHATS_EXTRACTED``) and ``skipped-chats.json``, written together as messages stream.

    ``with ExtractedWriter(temp_dir, started) as w: w.chats(...); w.message(m)...; w.finish(...)``;
    both files appear only when the block ends without an error.
    """

    def __init__(self, temp_dir: Path, started: str) -> None:
        self.extracted_path, self.skipped_path = temp_dir / CHATS_EXTRACTED, temp_dir / SKIPPED_CHATS
        self.started = started
        self._stack = ExitStack()

    def __enter__(self) -> ExtractedWriter:
        with ExitStack() as stack:
            self._out = s.StreamedDoc(stack.enter_context(atomic_text(self.extracted_path)))
            self._skip = s.StreamedDoc(stack.enter_context(atomic_text(self.skipped_path)))
            self._stack = stack.pop_all()
        self._out.value("extracted_at", self.started)
        self._skip.value("skipped_at", self.started)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)

    def chats(self, processed: Iterable[r.TargetChat], skips: Iterable[r.Skip]) -> None:
        """The chat arrays; then the message arrays are open for :meth:`message`."""
        self._out.begin_array("processedChats")
        for c in processed:
            self._out.item(_chat_item(c))
        self._out.end_array()
        self._skip.begin_array("skipped_chats")
        for x in skips:
            self._skip.item({"chat": {"id": x.id, "booking_id": x.parent_id}, "reason": x.reason})
        self._skip.end_array()
        self._out.begin_array("processedMessages")
        self._skip.begin_array("skipped_messages")

    def message(self, m: r.TargetMessage) -> None:
        self._out.raw_item(message_line(m))

    def skipped_message(self, x: r.Skip) -> None:
        self._skip.raw_item(skipped_message_line(x))

    def messages(self, ms: Iterable[r.TargetMessage]) -> None:
        """:meth:`message` for each, in one write."""
        self._out.raw_batch(message_lines(ms))

    def skipped_messages(self, xs: Iterable[r.Skip]) -> None:
        """:meth:`skipped_message` for each, in one write."""
        self._skip.raw_batch([skipped_message_line(x) for x in xs])

    def finish(self, images: Sequence[r.PlannedMedia], warnings: Sequence[NulWarning],
               metadata: ExtractMetadata) -> None:
        self._out.end_array()
        self._skip.end_array()
        self._out.value_items("imageMessages", (_image_item(md) for md in images))
        self._out.value_items("warnings", ({"message_id": w.message_id, "warning": f"removed {w.removed} NUL "
                                            "character(s): PostgreSQL text cannot store U+0000"} for w in warnings))
        self._out.value("metadata", metadata)
        self._out.close()
        self._skip.value("summary", {"skipped_chats": metadata["skipped_chats"],
                                     "skipped_messages": metadata["skipped_messages"],
                                     "reasons": metadata["skip_reasons"]})
        self._skip.close()


def read_records(path: Path, key: str, cls: type[s.T], defaults: dict[str, Any] | None = None) -> Iterator[s.T]:
    """The elements of array ``key`` as ``cls`` records, each field taken by its name."""
    def missing(field: str) -> PhaseFileError:
        return PhaseFileError(path, f'an element of "{key}" has no "{field}"', ADVICE_STEP1)

    return s.iter_records(path, key, cls, defaults or {}, missing)


@dataclass(frozen=True, slots=True)
class Extracted:
    """Step 1's output, read back: the head in memory, the messages as a stream."""

    path: Path
    metadata: ExtractMetadata
    chats: Sequence[r.TargetChat]  # spooled (phase6.compact): iterate, len
    media: Sequence[r.PlannedMedia]

    def messages(self, cls: type[r.TargetMessage] = r.TargetMessage) -> Iterator[r.TargetMessage]:
        return read_records(self.path, "processedMessages", cls, {"sender_role": ""})


def read_extracted_metadata(temp_dir: Path) -> ExtractMetadata | None:
    """Step 1's metadata, or None when there is no step 1 output."""
    path = temp_dir / CHATS_EXTRACTED
    if not path.is_file():
        return None
    meta: ExtractMetadata | None = s.read_head(
        path, ("processedChats", "processedMessages", "imageMessages", "warnings")).get("metadata")
    return meta


def read_extracted(temp_dir: Path) -> Extracted:
    path = temp_dir / CHATS_EXTRACTED
    if not path.is_file():
        raise PhaseFileError(path, "step 1's output is missing", ADVICE_STEP1)
    try:
        head = s.read_head(path, ("processedChats", "processedMessages", "imageMessages"))
    except (OSError, ValueError) as exc:
        raise PhaseFileError(path, f"step 1's output cannot be read ({exc})", ADVICE_STEP1) from None
    if "metadata" not in head:
        raise PhaseFileError(path, 'it has no "metadata"', ADVICE_STEP1)
    # read and checked now, held in temporary files (spools) until the steps iterate them
    chats = Spool(r.TargetChat._make, read_records(path, "processedChats", r.TargetChat,
                                                   {"customer_id": None, "stylist_id": None, "booking_id": None}))
    media: Spool[r.PlannedMedia] = Spool(r.PlannedMedia._make)
    try:
        for img in s.iter_value_items(path, "imageMessages"):
            md = img.get("media") or {}
            msg = img["message"]
            media.append(r.PlannedMedia(md.get("id") or r.media_id(msg["id"]), msg["id"], img["chat_id"],
                                        md.get("owner_id", ""), md.get("file_path", ""), msg.get("message", "")))
    except (OSError, ValueError) as exc:
        raise PhaseFileError(path, f"step 1's output cannot be read ({exc})", ADVICE_STEP1) from None
    return Extracted(path, head["metadata"], chats, media)


def write_chat_links(temp_dir: Path, decisions: Iterable[ChatLink], per_part: Mapping[Any, int],
                     link: k.LinkMode) -> None:
    """chat-links.json: for every legacy chat, how it was linked and where its messages went.
    ``per_part``: (legacy chat, target chat) -> messages, or the chat's id alone when both are one."""

    def messages(legacy_id: str, chat_id: str) -> int:
        n = per_part.get((legacy_id, chat_id))
        return (per_part.get(chat_id, 0) if chat_id == legacy_id else 0) if n is None else n

    with atomic_text(temp_dir / CHAT_LINKS) as fh:
        doc = s.StreamedDoc(fh)
        doc.value("link_mode", link)
        doc.begin_array("chats")
        rules_used: dict[str, int] = {}
        legacy_chats = 0
        for d in decisions:
            legacy_chats += 1
            rules_used[d.rule or "not linked"] = rules_used.get(d.rule or "not linked", 0) + 1
            doc.item({
                "legacy_chat_id": d.legacy_id,
                "rule": d.rule,
                "targets": [{"chat_id": c, "booking_id": b, "messages": messages(d.legacy_id, c)}
                            for c, b in d.targets],
                **({"reason": d.reason} if d.reason else {}),
            })
        doc.end_array()
        doc.value("metadata", {"created_at": now_iso(), "legacy_chats": legacy_chats, "by_rule": rules_used})
        doc.close()


def read_skipped_summary(temp_dir: Path) -> dict[str, Any] | None:
    """skipped-chats.json's ``summary`` (counts by reason), without reading its arrays; None if absent."""
    path = temp_dir / SKIPPED_CHATS
    if not path.is_file():
        return None
    try:
        summary = s.read_head(path, ("skipped_chats", "skipped_messages")).get("summary")
    except (OSError, ValueError) as exc:
        raise PhaseFileError(path, f"it cannot be read ({exc})", "re-run `chatmigrate extract`") from None
    return summary if isinstance(summary, dict) else None


# A processedMessages line as message_line writes it: created_at follows is_read. Content is
# JSON-escaped, so every '"' inside it has a backslash before it: ', "is_read": ' cannot occur in it.
_MONTH = re.compile(rb', "is_read": (?:true|false), "created_at": "(\d{4}-\d{2})')


def messages_by_month(temp_dir: Path) -> dict[str, int] | None:
    """Step 1's messages to migrate, counted by month of ``created_at`` (``YYYY-MM``), from
    step 1's extraction: one regex pass over 4 MB blocks of whole lines (no JSON parsing
    of our own lines; a file in another layout is read element by element); None if absent."""
    path = temp_dir / CHATS_EXTRACTED
    if not path.is_file():
        return None
    months: Counter[bytes] = Counter()
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(b'  "processedMessages": ['):
                if line.rstrip().endswith((b"[]", b"[],")):
                    return {}
                break
        else:
            return _months_slowly(path)
        rest, done = b"", False
        while not done:
            block = fh.read(1 << 22)
            data = rest + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            part, rest = data[:cut], data[cut:]
            stop = (b"\n" + part).find(b"\n  ]")  # the array's end
            if stop >= 0 or not block:
                part, done = part[:stop] if stop >= 0 else part, True
            found = _MONTH.findall(part)
            if len(found) != part.count(b"\n"):  # not our layout: read it as JSON
                return _months_slowly(path)
            months.update(found)
    return {k.decode(): n for k, n in sorted(months.items())}


def _months_slowly(path: Path) -> dict[str, int]:
    months = Counter(str(x.get("created_at", ""))[:7] for x in s.iter_array(path, "processedMessages"))
    return dict(sorted(months.items()))
