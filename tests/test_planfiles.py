"""planfiles: one typed writer and one typed reader per plan file, values matched by name.

A record line is written from the record's attributes by name and read back into the
record type by its field names, so a record type whose fields are declared in another
order round-trips to the same values; the lines are exactly what ``json.dumps`` gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest

from chatmigrate import planfiles as pf
from chatmigrate.phase6 import records as r
from chatmigrate.phase6.links import ChatLink

TRICKY = ['plain', 'quote " and \\ backslash', "new\nline\ttab\r", "emoji 💇‍♀️ æøå", "\u2028\u2029 sep",
          "\x01\x1f control", "", "</script>", "'single'"]


def messages() -> list[r.TargetMessage]:
    out = []
    for i, text in enumerate(TRICKY):
        out.append(r.TargetMessage(
            id=f"00000000-0000-4000-8000-{i:012d}", chat_id="c-1", sender_id=f"s-{i}",
            sender_role="customer" if i % 2 else "stylist", content=text, is_read=bool(i % 3),
            created_at=f"2024-03-0{1 + i % 9}T09:00:00.250000Z", has_image=i == 4))
    return out


CHATS = [
    r.TargetChat("c-1", "b-1", "2024-03-01T09:00:00.000000Z", "2024-03-02T09:00:00.000000Z", "p-1", "p-2"),
    r.TargetChat("c-2", None, "2024-03-01T09:00:00.000000Z", "2024-03-01T09:00:00.000000Z", None, "p-3"),
]


def metadata(n: int) -> pf.ExtractMetadata:
    return {
        "total_mysql_chats": 2, "total_mysql_messages": n + 1, "total_mysql_bookings": 1, "processed_chats": 2,
        "processed_messages": n, "skipped_chats": 1, "skipped_messages": 1, "active_chats": 2,
        "image_messages": 1, "sender_distribution": {"customer": 4, "stylist": 5},
        "skip_reasons": {"chats": {}, "messages": {r.MESSAGE_CHAT_NOT_FOUND: 1}}, "warnings": 1, "alerts": [],
        "migrated_bookings_in_phase4": 1, "source_timezone": "UTC", "link_mode": "strict",
        "legacy_chats_linked": 2, "dump": "/x.sql",
    }


def write_step1(temp: Path, msgs: list) -> None:  # type: ignore[type-arg]
    media = [r.PlannedMedia("m-1", m.id, "c-1", "p-1", "c-1/x/a.jpg", "https://s3/a.jpg") for m in msgs if m.has_image]
    with pf.ExtractedWriter(temp, "2024-01-01T00:00:00.000Z") as w:
        w.chats(CHATS, [r.Skip("chat", "c-9", None, r.CHAT_NOT_ACTIVE)])
        for m in msgs:
            w.message(m)
        w.skipped_message(r.Skip("message", "x-1", None, r.MESSAGE_CHAT_NOT_FOUND))
        w.finish(media, [pf.NulWarning(msgs[0].id, 2)], metadata(len(msgs)))


def test_step1_round_trip(tmp_path: Path):
    msgs = messages()
    write_step1(tmp_path, msgs)
    ext = pf.read_extracted(tmp_path)
    assert list(ext.messages()) == msgs
    assert ext.chats == CHATS
    assert ext.metadata == metadata(len(msgs))
    assert ext.media == [r.PlannedMedia("m-1", msgs[4].id, "c-1", "p-1", "c-1/x/a.jpg", "https://s3/a.jpg")]
    doc = json.loads((tmp_path / pf.CHATS_EXTRACTED).read_text())
    assert doc["warnings"] == [{"message_id": msgs[0].id,
                                "warning": "removed 2 NUL character(s): PostgreSQL text cannot store U+0000"}]
    skipped = json.loads((tmp_path / pf.SKIPPED_CHATS).read_text())
    assert skipped["skipped_messages"] == [{"message": {"id": "x-1", "chat_id": None},
                                            "reason": r.MESSAGE_CHAT_NOT_FOUND}]
    assert skipped["summary"] == {"skipped_chats": 1, "skipped_messages": 1, "reasons": metadata(9)["skip_reasons"]}


# TargetMessage's fields declared in the reverse order: same names, other positions.
Permuted = NamedTuple("Permuted", [(f, r.TargetMessage.__annotations__[f]) for f in reversed(r.TargetMessage._fields)])


def test_a_record_type_with_permuted_fields_cannot_mix_values(tmp_path: Path):
    assert Permuted._fields != r.TargetMessage._fields
    originals = messages()
    permuted = [Permuted(**m._asdict()) for m in originals]
    write_step1(tmp_path, permuted)  # the writer takes attributes by name

    back = list(pf.read_extracted(tmp_path).messages(Permuted))  # type: ignore[arg-type]
    assert [b._asdict() for b in back] == [m._asdict() for m in originals]
    assert list(pf.read_extracted(tmp_path).messages()) == originals  # and the real type reads the same file


def test_a_message_line_is_json_dumps_of_its_fields_by_name():
    for m in messages():
        line = pf.message_line(m)
        keys = ("id", "chat_id", "sender_id", "content", "is_read", "created_at", "has_image", "sender_role")
        expected = json.dumps({k: getattr(m, k) for k in keys}, ensure_ascii=False, separators=(", ", ": "))
        assert line == expected
        assert set(json.loads(line)) == set(r.TargetMessage._fields)  # every field written, no other


def test_a_message_line_without_a_required_field_is_refused(tmp_path: Path):
    write_step1(tmp_path, messages())
    path = tmp_path / pf.CHATS_EXTRACTED
    text = path.read_text()
    path.write_text(text.replace('"chat_id": "c-1", ', "", 1))
    with pytest.raises(pf.PhaseFileError, match='has no "chat_id"'):
        list(pf.read_extracted(tmp_path).messages())


def test_a_message_line_without_sender_role_reads_with_the_default(tmp_path: Path):
    write_step1(tmp_path, messages()[:1])
    path = tmp_path / pf.CHATS_EXTRACTED
    path.write_text(path.read_text().replace(', "sender_role": "stylist"', ""))
    (m,) = pf.read_extracted(tmp_path).messages()
    assert m.sender_role == "" and m.content == "plain"


def test_the_manifest_round_trips_by_kind(tmp_path: Path):
    rows = {
        pf.k.Outcome.INSERT: pf.CreatedRows([pf.CreatedChat("c-1", "b-1", None, None)],
                                            [pf.CreatedMessage("m-1", "c-1", "s-1", True)],
                                            [pf.CreatedMedia("x-1", "m-1")]),
        pf.k.Outcome.PRESENT: pf.CreatedRows([pf.CreatedChat("c-2", None, "p-1", "p-2")],
                                             [pf.CreatedMessage("m-2", "c-2", "s-2", False)], []),
    }
    pf.write_created(tmp_path, rows, {"duration_ms": 5}, run_id=7, dump_sha256="ab" * 32)
    doc = json.loads((tmp_path / pf.CHATS_CREATED).read_text())
    assert doc["created_chats"] == [{"id": "c-1", "booking_id": "b-1"}]
    assert doc["already_present_chats"] == [{"id": "c-2", "booking_id": None, "customer_id": "p-1",
                                             "stylist_id": "p-2"}]
    assert doc["created_messages"] == [{"id": "m-1", "chat_id": "c-1", "sender_id": "s-1", "has_image": True}]
    assert doc["created_media"] == [{"id": "x-1", "message_id": "m-1", "media_type": "chat_image"}]
    assert pf.read_created_ids(tmp_path) == {"chat": ["c-1", "c-2"], "message": ["m-1", "m-2"], "media": ["x-1"]}
    assert pf.read_created_run(tmp_path) == (7, "ab" * 32)  # the ledger run the rows belong to


def test_failures_are_listed_with_their_parent(tmp_path: Path):
    path = pf.write_failures(tmp_path, {
        "chat": [r.Failure("chat", "c-1", "b-1", "Booking not found")],
        "message": [r.Failure("message", "m-1", "c-1", "Chat was not created")], "media": []},
        {"failed_chats": 1, "failed_messages": 1, "failed_media": 0})
    doc = json.loads(path.read_text())
    assert doc["failed_chats"] == [{"chat": {"id": "c-1", "booking_id": "b-1"}, "error": "Booking not found"}]
    assert doc["failed_messages"] == [{"message": {"id": "m-1", "chat_id": "c-1"}, "error": "Chat was not created"}]
    assert doc["failed_media"] == []


def test_chat_links_count_messages_per_target(tmp_path: Path):
    decisions = [ChatLink("l-1", "booking.chat_id", (("c-1", "b-1"), ("c-2", "b-2"))),
                 ChatLink("l-2", None, (), r.NO_BOOKING)]
    pf.write_chat_links(tmp_path, decisions, {("l-1", "c-1"): 3}, "recover")
    doc = json.loads((tmp_path / pf.CHAT_LINKS).read_text())
    assert doc["link_mode"] == "recover"
    assert doc["chats"] == [
        {"legacy_chat_id": "l-1", "rule": "booking.chat_id", "targets": [
            {"chat_id": "c-1", "booking_id": "b-1", "messages": 3}, {"chat_id": "c-2", "booking_id": "b-2", "messages": 0}]},
        {"legacy_chat_id": "l-2", "rule": None, "targets": [], "reason": r.NO_BOOKING},
    ]
    assert doc["metadata"]["by_rule"] == {"booking.chat_id": 1, "not linked": 1}


def test_step1_s_file_is_named_in_planfiles_only():
    root = Path(__file__).resolve().parent.parent / "src" / "chatmigrate"
    spelled = [p for p in root.rglob("*.py") if pf.CHATS_EXTRACTED in p.read_text(encoding="utf-8")]
    assert spelled == [root / "planfiles.py"]


def test_the_small_documents_read_back_as_written(tmp_path: Path):
    stats: pf.MigrationStats = {"phase": 6, "started_at": "t", "success": True, "steps": {}}
    pf.write_migration_stats(tmp_path, stats)
    assert pf.read_migration_stats(tmp_path) == stats
    impact: pf.Impact = {"planned_at": "t", "modes": {}}
    assert pf.write_impact(tmp_path, impact) == tmp_path / pf.IMPACT
    assert pf.read_impact(tmp_path) == impact
    (tmp_path / pf.VALIDATION_RESULTS).write_text("[1]")
    with pytest.raises(pf.PhaseFileError, match="is not a JSON object"):
        pf.read_validation_results(tmp_path)


def test_the_phase_1_and_4_files_round_trip(tmp_path: Path):
    pf.write_user_mapping(tmp_path, {"total_mappings": 2}, [("B-1", "P-1"), ("s-1", "p-2")])
    pf.write_bookings_created(tmp_path, {"total_processed": 2}, [
        r.BookingResult("K-1", True), r.BookingResult("k-2", False, 'Stylist "x" ø not found')])
    inputs = pf.read_phase_inputs(tmp_path)
    assert inputs == pf.PhaseInputs({"b-1": "p-1", "s-1": "p-2"}, frozenset({"k-1"}), 2)
    doc = json.loads((tmp_path / pf.BOOKINGS_CREATED).read_text())
    assert doc["results"][1] == {"id": "k-2", "success": False, "error": 'Stylist "x" ø not found'}


# ---------------------------------------------------------------------------- bookings-created.json, streamed

_GOOD = ['{"id": "B-1 ", "success": true}', '{"id": "b-2", "success": false}', '{"id": 7, "success": true}',
         '{"id": "", "success": true}', '["not", "a dict"]', '{"id": "b-3", "success": true, "x": {"y": [1]}}']


def _bookings_texts() -> list[str]:
    meta = '  "metadata": {"total_processed": 6}'
    trailing = "\n   ,".join(_GOOD)
    return [
        "{\n" + meta + ',\n  "results": [\n    ' + ",\n    ".join(_GOOD) + "\n  ]\n}\n",  # Phase 4's layout
        '{\n  "results": [\n    ' + trailing + "\n  ],\n" + meta + "\n}\n",  # StreamedDoc's, results first
        json.dumps({"metadata": {}, "results": [json.loads(x) for x in _GOOD]}),  # one line
        json.dumps({"results": [json.loads(x) for x in _GOOD]}, indent=2),  # multi-line elements
        "{\n" + meta + ',\n  "results": [\n    ' + ",\n    ".join(_GOOD) + ",\n  ]\n}\n",  # a trailing comma
        "{\n" + meta + ',\n  "results": [\n    ,' + ",\n    ".join(_GOOD) + "\n  ]\n}\n",  # a leading comma
        "{\n" + meta + ',\n  "results": [\n    ' + "\n    ".join(_GOOD) + "\n  ]\n}\n",  # no commas
        "{\n" + meta + ',\n  "results": [\n    ' + ",\n    ".join(_GOOD) + "\n  ]\n",  # cut off
        "{\n" + meta + ',\n  "results": [\n    ' + ",\n    ".join(_GOOD),  # cut off in the array
        '{\n  "results": [\n    {"id": "a", "success": true}\n  ],\n  "results": [\n  ]\n}\n',  # twice
        '{\n  "results": [\n    {"id": NaN, "success": true}\n  ]\n}\n',  # json takes NaN, orjson does not
        '{\n  "results": [\n    {"id": "\\ud800", "success": true}\n  ]\n}\n',  # a lone surrogate
        '{\n  "results": [\n  ]\n}\n', '{\n  "results": {}\n}\n', "[]", "",
    ]


def _as_before(temp_dir: Path) -> tuple[frozenset[str], int]:
    """read_phase_inputs' bookings half as it was: the file read whole."""
    path = temp_dir / pf.BOOKINGS_CREATED
    results = pf.read_json(path, "the Phase 4 booking results file", pf.ADVICE_PHASE4).get("results")
    if not isinstance(results, list):
        raise pf.PhaseFileError(path, 'it has no "results" array', pf.ADVICE_PHASE4)
    migrated = frozenset(str(x["id"]).strip().lower() for x in results
                         if isinstance(x, dict) and x.get("success") is True and x.get("id"))
    if not migrated:
        raise pf.PhaseFileError(path, "it lists no booking with success: true", pf.ADVICE_PHASE4)
    return migrated, len(results)


@pytest.mark.parametrize("text", _bookings_texts())
def test_bookings_created_read_a_line_at_a_time_gives_what_reading_it_whole_gave(tmp_path: Path, text: str):
    (tmp_path / pf.USER_MAPPING).write_text('{"mapping": {}}')
    (tmp_path / pf.BOOKINGS_CREATED).write_text(text)
    try:
        expected: object = _as_before(tmp_path)
    except pf.PhaseFileError as exc:
        expected = str(exc)
    try:
        inputs = pf.read_phase_inputs(tmp_path)
        got: object = (inputs.migrated, inputs.bookings_created_total)
    except pf.PhaseFileError as exc:
        got = str(exc)
    assert got == expected


@pytest.mark.parametrize("i", [0, 1])
def test_phase4s_layouts_are_read_a_line_at_a_time(tmp_path: Path, i: int):
    path = tmp_path / pf.BOOKINGS_CREATED
    path.write_text(_bookings_texts()[i])
    assert pf._migrated_streamed(path) == (frozenset({"b-1", "7", "b-3"}), 6)
