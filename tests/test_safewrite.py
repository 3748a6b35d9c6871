"""Output files appear only complete, owner-only, and are never written through a planted link.

Every file chatmigrate writes (the plan's files, synth's world) goes through
``chatmigrate.safewrite``: a temporary file created with O_EXCL and mode 0600 in the same
folder, fsync, rename. These tests plant what an attacker or a killed run would leave.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chatmigrate import planfiles as pf
from chatmigrate.safewrite import atomic_text, remove_leftovers, write_text


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_symlink_planted_at_the_final_name_is_replaced_not_followed(tmp_path: Path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "out" / "chats-created.json"
    target.parent.mkdir()
    target.symlink_to(victim)

    write_text(target, "new content")

    assert victim.read_text() == "precious"
    assert not target.is_symlink()
    assert target.read_text() == "new content"
    assert mode(target) == 0o600


@pytest.mark.parametrize("leftover", [".chats-created.json.{pid}.tmp", ".chats-created.json.abc123.tmp"])
def test_a_symlink_planted_at_a_predictable_temp_name_is_never_written_through(tmp_path: Path, leftover: str):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "chats-created.json"
    planted = tmp_path / leftover.format(pid=os.getpid())
    planted.symlink_to(victim)

    write_text(target, "new content")

    assert victim.read_text() == "precious"
    assert target.read_text() == "new content"
    assert not planted.is_symlink() and not planted.exists()  # removed as a leftover, the link itself


def test_a_pre_created_world_writable_file_ends_up_owner_only(tmp_path: Path):
    target = tmp_path / "skipped-chats.json"
    target.write_text("old")
    os.chmod(target, 0o666)

    write_text(target, "new")

    assert mode(target) == 0o600
    assert target.read_text() == "new"


def test_the_temp_file_is_owner_only_from_its_creation(tmp_path: Path):
    target = tmp_path / "chats-extracted.json"
    with atomic_text(target) as fh:
        fh.write("x")
        fh.flush()
        (tmp,) = [p for p in tmp_path.iterdir() if p.name.startswith(".chats-extracted.json.")]
        assert mode(tmp) == 0o600
        assert not target.exists()  # nothing under the final name until the write is complete
    assert target.read_text() == "x"


def test_an_error_midway_leaves_the_old_file_and_no_temp(tmp_path: Path):
    target = tmp_path / "chats-extracted.json"
    target.write_text("old and complete")
    with pytest.raises(RuntimeError), atomic_text(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old and complete"
    assert [p.name for p in tmp_path.iterdir()] == ["chats-extracted.json"]


KILLED_WRITER = """
import sys, time
from pathlib import Path
from chatmigrate.safewrite import atomic_text
with atomic_text(Path(sys.argv[1])) as fh:
    fh.write("half of a new file")
    fh.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


def test_a_write_killed_midway_leaves_the_old_file_and_the_next_write_removes_its_leftover(tmp_path: Path):
    target = tmp_path / "chats-created.json"
    target.write_text("old and complete")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert target.read_text() == "old and complete"
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".chats-created.json.")]
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".tmp")

    write_text(target, "new")

    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chats-created.json"]


def test_leftovers_of_other_names_are_kept(tmp_path: Path):
    other = tmp_path / ".chats-created.json.x.tmp"
    other.write_text("")
    unrelated = tmp_path / ".skipped-chats.json.x.tmp"
    unrelated.write_text("")
    assert remove_leftovers(tmp_path / "skipped-chats.json") == [unrelated]
    assert other.exists()


def test_the_plan_files_writer_is_owner_only(tmp_path: Path):
    pf.write_json(tmp_path / pf.CREATION_STATS, {"a": 1})
    assert mode(tmp_path / pf.CREATION_STATS) == 0o600


def test_synth_writes_every_file_owner_only(tmp_path: Path):
    from chatmigrate.synth import generate

    world = generate(tmp_path / "w", messages=200, seed=3)
    files = [p for p in (tmp_path / "w").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"legacy.sql", "truth.json", "user-id-mapping.json", "bookings-created.json",
                                       "bookings-extracted.json", "profiles.csv", "bookings.csv"}
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert not [p for p in files if p.name.endswith((".part", ".tmp"))]
    assert world.dump.stat().st_size > 0
