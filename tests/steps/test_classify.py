"""Step 1 over a whole dump: one pass in mysqldump's table order, two passes otherwise.

mysqldump writes tables alphabetically (booking, chat, ..., message), so bookings and
chats are known before the first message and the dump is read once. A dump in another
order (hand-assembled, or tables dumped one by one and concatenated) must give exactly
the same result, read twice.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chatmigrate.steps.classify import TableOrderChanged, classify_dump, load_phase_inputs
from chatmigrate.steps.extract import extract
from chatmigrate.synth import generate, read_truth
from synthfiles import fresh_temp_dir


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("world"), messages=600, seed=7)


def _block(dump: bytes, table: str) -> tuple[int, int]:
    """Byte range of one table's section (structure + data) in a mysqldump file."""
    start = dump.index(b"--\n-- Table structure for table `" + table.encode() + b"`")
    nxt = re.compile(rb"--\n-- Table structure for table `").search(dump, start + 10)
    end = nxt.start() if nxt else dump.index(b"-- Dump completed")
    return start, end


def _messages_first(src: Path, dst: Path) -> None:
    data = src.read_bytes()
    m0, m1 = _block(data, "message")
    b0, _ = _block(data, "address")
    message = data[m0:m1]
    rest = data[:m0] + data[m1:]
    dst.write_bytes(rest[:b0] + message + rest[b0:])


def _extract_to(world, dump: Path, out: Path) -> dict:
    out = fresh_temp_dir(world, out)
    res = extract(str(dump), out)
    doc = json.loads((out / "chats-extracted.json").read_text())
    return {"meta": res.metadata, "chats": doc["processedChats"], "messages": doc["processedMessages"]}


def test_a_reordered_dump_gives_the_same_extraction(world, tmp_path: Path):
    reordered = tmp_path / "reordered.sql"
    _messages_first(world.dump, reordered)
    assert reordered.read_bytes() != world.dump.read_bytes()
    assert sorted(reordered.read_bytes()) == sorted(world.dump.read_bytes())  # same bytes, moved

    normal = _extract_to(world, world.dump, tmp_path / "a")
    moved = _extract_to(world, reordered, tmp_path / "b")
    normal["meta"].pop("dump")
    moved["meta"].pop("dump")
    assert moved == normal
    truth = read_truth(world.truth)
    assert normal["meta"]["processed_messages"] == truth["messages_by_fate"]["processed"]


def test_single_pass_notices_chats_after_messages(world, tmp_path: Path):
    reordered = tmp_path / "reordered.sql"
    _messages_first(world.dump, reordered)
    cl = classify_dump(str(reordered), load_phase_inputs(world.temp_dir), single_pass=True)
    with pytest.raises(TableOrderChanged):
        for _ in cl.messages():
            pass


def test_single_pass_reads_the_dump_once_in_mysqldump_order(world, monkeypatch: pytest.MonkeyPatch):
    from chatmigrate.steps import classify

    opened: list[tuple[str, ...]] = []
    real = classify.DumpReader

    def spy(dump, tables, **kw):  # type: ignore[no-untyped-def]
        opened.append(tuple(tables))
        return real(dump, tables, **kw)

    monkeypatch.setattr(classify, "DumpReader", spy)
    cl = classify_dump(str(world.dump), load_phase_inputs(world.temp_dir))
    n = sum(1 for _ in cl.messages())
    assert opened == [("booking", "chat", "message")]
    assert n == read_truth(world.truth)["tables"]["message"]


def test_over_dump_decides_once_and_a_reordered_dump_leaves_no_half_written_file(world, tmp_path: Path):
    from chatmigrate.steps.classify import Step1Options, over_dump

    reordered = tmp_path / "reordered.sql"
    _messages_first(world.dump, reordered)
    inputs = load_phase_inputs(world.temp_dir)
    passes: list[bool] = []

    def count(cl) -> int:  # type: ignore[no-untyped-def]
        passes.append(cl.rest is not None)  # True: the single-pass reader
        return sum(1 for _ in cl.messages())

    n = over_dump(str(reordered), inputs, Step1Options(), count)
    assert passes == [True, False]  # the single pass stopped, then two passes
    assert n == read_truth(world.truth)["tables"]["message"]
    passes.clear()
    assert over_dump(str(world.dump), inputs, Step1Options(), count) == n and passes == [True]

    out = fresh_temp_dir(world, tmp_path / "c")
    extract(str(reordered), out)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
