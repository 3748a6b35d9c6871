"""Whatever a dump holds is shown as text: no rich markup, no terminal escape sequences.

Values from the dump reach the terminal in step 1's skip reasons ("Unknown sender type:
X", "Invalid created_at: X"), in error excerpts ("near «...»"), and through file names in
progress labels and "wrote ..." lines. Each hostile value -- rich markup (``[/]`` crashed
``run`` with a MarkupError; ``[link=...]`` became a link) and raw escape sequences (set
the window title, clear the screen, bell) -- must come out literally, its control
characters as visible escapes (``\\x1b``), with the exit code the value would get anyway.
Run with and without ``FORCE_COLOR`` (rich then writes styles and links as to a terminal).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from clirun import chatmigrate, one_error_line
from conftest import build_dump

HOSTILE = {
    "markup-close": "[/]",
    "markup-link": "[link=http://x]a[/link]",
    "markup-style": "[bold red]boo",
    "window-title": "\x1b]0;title\x07",
    "clear-screen": "\x1b[2J",
    "carriage-return": "ok\rFAKE",
    "bidi-override": "abc\u202edef",
}
SHOWN = {  # how each must appear on the terminal
    "markup-close": "[/]",
    "markup-link": "[link=http://x]a[/link]",
    "markup-style": "[bold red]boo",
    "window-title": "\\x1b]0;title\\x07",
    "clear-screen": "\\x1b[2J",
    "carriage-return": "ok\\rFAKE",
    "bidi-override": "abc\\u202edef",
}
RAW_CONTROLS = ("\x1b]", "\x1b[2J", "\x07", "\r", "\u202e")

BOOKING, CHAT = "0b000000-0000-4000-8000-000000000001", "0c000000-0000-4000-8000-000000000001"
BUYER, STYLIST = "0a000000-0000-4000-8000-000000000001", "05000000-0000-4000-8000-000000000001"
T = "2024-01-01 10:00:00.000000"
SCHEMA = (
    "CREATE TABLE `booking` (`id` varchar(36) NOT NULL, `buyer_id` varchar(36) DEFAULT NULL, "
    "`stylist_id` varchar(36) DEFAULT NULL, `status` varchar(32) NOT NULL, `chat_id` varchar(255) DEFAULT NULL, "
    "`created_at` datetime(6) NOT NULL, PRIMARY KEY (`id`));",
    "CREATE TABLE `chat` (`id` varchar(36) NOT NULL, `buyer_id` varchar(36) DEFAULT NULL, "
    "`stylist_id` varchar(36) DEFAULT NULL, `buyer_has_unread` tinyint(4) NOT NULL DEFAULT 0, "
    "`stylist_has_unread` tinyint(4) NOT NULL DEFAULT 0, `created_at` datetime(6) NOT NULL, "
    "`updated_at` datetime(6) DEFAULT NULL, `booking_id` varchar(255) DEFAULT NULL, "
    "`is_active` tinyint(4) NOT NULL DEFAULT 1, PRIMARY KEY (`id`));",
    "CREATE TABLE `message` (`id` varchar(36) NOT NULL, `message` text NOT NULL, "
    "`is_image` tinyint(4) NOT NULL DEFAULT 0, `is_from` enum('buyer','stylist') NOT NULL, "
    "`chat_id` varchar(36) DEFAULT NULL, `is_unread` tinyint(4) NOT NULL DEFAULT 1, "
    "`created_at` datetime(6) NOT NULL, PRIMARY KEY (`id`));",
)


def world(tmp: Path, messages: list[str], *, dump_name: str = "legacy.sql") -> tuple[Path, Path]:
    """A dump with one migrated booking and chat and the given message tuples; Phase 1/4 files."""
    dump = tmp / dump_name
    dump.write_bytes(build_dump(
        *SCHEMA,
        f"INSERT INTO `booking` VALUES ('{BOOKING}','{BUYER}','{STYLIST}','done',NULL,'{T}');",
        f"INSERT INTO `chat` VALUES ('{CHAT}','{BUYER}','{STYLIST}',0,0,'{T}','{T}','{BOOKING}',1);",
        "INSERT INTO `message` VALUES " + ",".join(messages) + ";",
    ))
    temp = tmp / "temp"
    temp.mkdir(exist_ok=True)
    (temp / "user-id-mapping.json").write_text(json.dumps(
        {"metadata": {}, "mapping": {BUYER: str(uuid.uuid4()), STYLIST: str(uuid.uuid4())}}))
    (temp / "bookings-created.json").write_text(json.dumps(
        {"metadata": {}, "results": [{"id": BOOKING, "success": True}]}))
    return dump, temp


def message(n: int, *, is_from: str = "buyer", created_at: str = T, text: str = "hei") -> str:
    return f"('0d000000-0000-4000-8000-{n:012d}','{text}',0,'{is_from}','{CHAT}',0,'{created_at}')"


def assert_no_raw_controls(*texts: str) -> None:
    for text in texts:
        found = [c for c in RAW_CONTROLS if c in text]
        assert not found, f"raw control characters {found!r} reached the terminal: {text!r}"


@pytest.mark.parametrize("force_color", [False, True], ids=["pipe", "FORCE_COLOR"])
def test_hostile_sender_types_and_times_come_out_literally(tmp_path: Path, force_color: bool) -> None:
    rows = [message(0)]
    rows += [message(i + 1, is_from=v) for i, v in enumerate(HOSTILE.values())]
    rows += [message(i + 100, created_at=v) for i, v in enumerate(HOSTILE.values())]
    dump, temp = world(tmp_path, rows)
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color"} if force_color else {"NO_COLOR": "1"}
    proc = chatmigrate("extract", "--dump", str(dump), "--temp-dir", str(temp), cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "MarkupError" not in proc.stderr and "Traceback" not in proc.stderr
    assert_no_raw_controls(proc.stdout, proc.stderr)
    out = proc.stdout
    if force_color:  # styles are fine; only markup from the data must not become style
        import re
        out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    for case, shown in SHOWN.items():
        assert f"Unknown sender type: {shown}" in out, case
        assert f"Invalid created_at: {shown}" in out, case


def test_a_hostile_excerpt_in_a_dump_error_is_shown_escaped(tmp_path: Path) -> None:
    evil = "[/][link=http://x]a[/link]\x1b]0;title\x07\x1b[2J"
    dump, temp = world(tmp_path, [message(0), f"('{evil}','x',0)"])
    proc = chatmigrate("extract", "--dump", str(dump), "--temp-dir", str(temp), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc.stdout, proc.stderr)
    assert_no_raw_controls(proc.stdout, proc.stderr)
    assert "[/][link=http://x]a[/link]\\x1b]0;title\\x07\\x1b[2J" in line


def test_a_hostile_file_name_is_shown_escaped(tmp_path: Path) -> None:
    name = "legacy[red]x[link=x]\x1b]0;t\x07.sql"
    dump, temp = world(tmp_path, [message(0)], dump_name=name)
    proc = chatmigrate("extract", "--dump", str(dump), "--temp-dir", str(temp), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_no_raw_controls(proc.stdout, proc.stderr)
    assert "legacy[red]x[link=x]\\x1b]0;t\\x07.sql" in proc.stderr  # the progress log line
    missing = chatmigrate("extract", "--dump", str(tmp_path / "no[/]pe\x1b[2J.sql"), "--temp-dir", str(temp),
                          cwd=tmp_path)
    assert missing.returncode == 2
    assert "no[/]pe\\x1b[2J.sql" in one_error_line(missing.stdout, missing.stderr)
    assert_no_raw_controls(missing.stdout, missing.stderr)
