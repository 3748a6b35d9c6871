"""``chatmigrate inspect``'s exit codes: a table asked for that the dump lacks, or an empty
file, is bad input (exit 2, one sentence naming what to fix); a dump with the tables is 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from clirun import chatmigrate, one_error_line
from conftest import build_dump

DUMP = build_dump(
    "CREATE TABLE `chat` (\n  `id` varchar(36) NOT NULL,\n  PRIMARY KEY (`id`)\n);",
    "INSERT INTO `chat` VALUES ('a'),('b');",
)


@pytest.mark.parametrize(("content", "args", "code", "says"), [
    (DUMP, ["-t", "chat"], 0, None),
    (DUMP, [], 0, None),
    (DUMP, ["-t", "chat", "-t", "nosuchtable"], 2, "has no table `nosuchtable`: check -t (the dump's tables: chat)"),
    (DUMP, ["--json", "-t", "nosuchtable"], 2, "has no table `nosuchtable`"),
    (b"", [], 2, "the file is empty"),
])
def test_inspect_exit_codes(tmp_path: Path, content: bytes, args: list[str], code: int, says: str | None) -> None:
    dump = tmp_path / "legacy.sql"
    dump.write_bytes(content)
    p = chatmigrate("inspect", str(dump), *args, cwd=tmp_path)
    assert p.returncode == code, (p.stdout, p.stderr)
    if says is not None:
        assert says in one_error_line(p.stdout, p.stderr)
