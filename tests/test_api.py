"""The public API: what ``chatmigrate.__all__`` names resolves, and the README's Python
block runs as written (its dump, temp dir and URL replaced by a synthetic world's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import chatmigrate
from chatmigrate.postgres.db import seed_from_csv
from chatmigrate.synth import generate
from pgdb import throwaway
from synthfiles import fresh_temp_dir

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", chatmigrate.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(chatmigrate, name) is not None


def test_all_lists_exactly_the_lazy_exports() -> None:
    assert set(chatmigrate.__all__) == {"__version__", *chatmigrate._EXPORTS}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        chatmigrate.nope  # noqa: B018


def readme_python() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1, "the README has one Python block, the library session"
    return blocks[0]


@pytest.mark.postgres
def test_the_readme_python_block_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = generate(tmp_path / "world", messages=600, seed=5)
    code = readme_python()
    with throwaway("api_readme") as db:
        seed_from_csv(db.url, world.seed_dir)
        temp = fresh_temp_dir(world, tmp_path)
        code, n = re.subn(r'^dump, temp = .*$', f"dump, temp = {str(world.dump)!r}, Path({str(temp)!r})", code,
                          flags=re.M)
        assert n == 1
        code, n = re.subn(r"^url = .*$", f"url = {db.url!r}", code, flags=re.M)
        assert n == 1
        exec(compile(code, str(README), "exec"), {})  # the README's own block
        assert db.counts() == {"chats": 0, "chat_messages": 0, "media": 0}  # rolled back at its end
    lines = capsys.readouterr().out.splitlines()
    assert "'message':" in lines[0] and lines[1].startswith("True True ")
    migrated = int(lines[1].split()[2])
    assert migrated > 0 and lines[2].split()[0] == str(migrated)
