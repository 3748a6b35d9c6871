"""A rollback keeps the run's record: its phase files move to ``rolled-back/<UTC stamp>-run-<id>/``.

The rows go; the files the run wrote (report, stats, validation results, manifests) move,
byte for byte, into a new owner-only folder with a ``rollback.json`` beside them. The
folder is made with ``mkdir`` before anything is deleted: a planted link or an existing
folder is refused and nothing is deleted. The Phase 1 / Phase 4 inputs stay, so a later
extract and create in the same temp dir work.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from chatmigrate import planfiles as f
from chatmigrate.errors import PhaseFileError
from chatmigrate.steps.create import create
from chatmigrate.steps.extract import extract
from chatmigrate.steps.rollback import rollback
from clirun import chatmigrate
from world import World, extracted_world

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]
ALL = {"chats": 2, "chat_messages": 6, "media": 2}
STAMP = "2026-01-02T03:04:05.678Z"


@pytest.fixture
def world(mariadb: Any, tmp_path: Path) -> Any:
    with extracted_world(mariadb, tmp_path, "rbrecords", chats=2) as w:
        yield w


def outputs(w: World) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in w.temp_dir.iterdir() if p.name in f.PHASE_OUTPUTS}


def test_the_files_move_with_their_bytes_and_a_record_beside_them(world: World) -> None:
    create(world.temp_dir, world.url)
    before = outputs(world)
    inputs = {name: (world.temp_dir / name).read_bytes() for name in (f.USER_MAPPING, f.BOOKINGS_CREATED)}
    counts, files = rollback(world.temp_dir, world.url)
    assert files.folder is not None and files.folder.parent == world.temp_dir / f.ROLLED_BACK
    assert files.folder.name.endswith(f"-run-{counts.run_id}") and len(files.folder.name) == len("20260102T030405Z-run-1")
    assert stat.S_IMODE(files.folder.stat().st_mode) == stat.S_IMODE(files.folder.parent.stat().st_mode) == 0o700
    assert sorted(files.moved) == sorted(before) and f.CHATS_CREATED in before and f.CREATION_STATS in before
    assert {p.name: p.read_bytes() for p in files.folder.iterdir() if p.name != f.ROLLBACK_RECORD} == before
    assert not any((world.temp_dir / name).exists() for name in before)
    assert {name: (world.temp_dir / name).read_bytes() for name in inputs} == inputs
    record = json.loads((files.folder / f.ROLLBACK_RECORD).read_text(encoding="utf-8"))
    assert stat.S_IMODE((files.folder / f.ROLLBACK_RECORD).stat().st_mode) == 0o600
    assert {k: v for k, v in record.items() if k != "rolled_back_at"} == {
        "run_id": counts.run_id, "everything": False, "deleted": {"chats": 2, "messages": 6, "media": 2},
        "kept": {"chats": 0, "messages": 0}, "indexes_dropped": counts.indexes_dropped,
        "indexes_kept": counts.indexes_kept, "files_moved": files.moved}
    assert record["rolled_back_at"].endswith("Z") and files.folder.name.startswith(
        record["rolled_back_at"][:10].replace("-", ""))


def test_a_later_extract_and_create_in_the_same_temp_dir_work(world: World) -> None:
    create(world.temp_dir, world.url)
    first, files = rollback(world.temp_dir, world.url)
    assert world.pg is not None and world.pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}
    extract(str(world.dump_path), world.temp_dir)
    create(world.temp_dir, world.url)
    assert world.pg.counts() == ALL
    second, again = rollback(world.temp_dir, world.url)
    assert second.run_id != first.run_id and again.folder != files.folder
    assert sorted(p.name for p in (world.temp_dir / f.ROLLED_BACK).iterdir()) == sorted(
        p.name for p in (files.folder, again.folder) if p is not None)


@pytest.mark.parametrize("what", ["a link to another folder", "a dangling link", "a file", "a folder"])
@pytest.mark.parametrize("where", ["rolled-back", "the run's folder"])
def test_a_planted_path_is_refused_and_nothing_is_deleted(world: World, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, what: str,
                                                         where: str) -> None:
    create(world.temp_dir, world.url)
    before = outputs(world)
    monkeypatch.setattr(f.s, "now_iso", lambda: STAMP)
    at = world.temp_dir / f.ROLLED_BACK
    if where != "rolled-back":
        at.mkdir(mode=0o700)
        at = at / "20260102T030405Z-run-1"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    {"a link to another folder": lambda: at.symlink_to(elsewhere, target_is_directory=True),
     "a dangling link": lambda: at.symlink_to(tmp_path / "nowhere"),
     "a file": lambda: at.write_text("planted"),
     "a folder": lambda: at.mkdir()}[what]()
    if where == "rolled-back" and what == "a folder":
        # an existing rolled-back/ folder is the normal case (an earlier rollback): used as it is
        _, files = rollback(world.temp_dir, world.url)
        assert files.folder == at / "20260102T030405Z-run-1" and sorted(files.moved) == sorted(before)
        return
    with pytest.raises(PhaseFileError) as exc:
        rollback(world.temp_dir, world.url)
    assert "nothing was deleted" in str(exc.value) and f.ROLLED_BACK in str(exc.value)
    assert world.pg is not None and world.pg.counts() == ALL
    assert outputs(world) == before and list(elsewhere.iterdir()) == []
    assert world.pg.query("SELECT status FROM chatmigrate.runs") == [("committed",)]


def test_the_cli_names_the_folder(world: World, tmp_path: Path) -> None:
    create(world.temp_dir, world.url)
    proc = chatmigrate("rollback", "--temp-dir", str(world.temp_dir), "--database-url", world.url, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (world.temp_dir / f.ROLLED_BACK).iterdir()
    assert f"{f.ROLLBACK_RECORD} into {folder} (kept as the record of the migration)" in proc.stdout.replace("\n", "")
    assert f.CHATS_CREATED in proc.stdout and os.path.isfile(folder / f.CHATS_CREATED)
