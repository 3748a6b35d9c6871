"""Running ``python -m chatmigrate`` as a user does, and what its output must never show.

- :func:`chatmigrate`: a subprocess with ``DATABASE_URL`` / ``MYSQL_DUMP_PATH`` removed from
  the environment (unless given); :func:`start` the same without waiting.
- :func:`one_error_line`: the error is one line, the last on stderr, and no traceback;
  only progress log lines ("… step") may precede it.
- :func:`assert_no_leak`: a secret appears in neither stdout, stderr, nor any file under
  the given folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _env(env: dict[str, str] | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MYSQL_DUMP_PATH")}
    return {**base, "COLUMNS": "200", **(env or {})}


def chatmigrate(*args: str, cwd: Path, env: dict[str, str] | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatmigrate", *args], cwd=cwd, env=_env(env),
                          capture_output=True, text=True, timeout=timeout)


def start(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "chatmigrate", *args], cwd=cwd, env=_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def one_error_line(stdout: str, stderr: str) -> str:
    assert "Traceback" not in stderr + stdout, stderr
    lines = stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    *before, last = lines
    assert last.startswith("error: ") and all(x.startswith("… ") for x in before), stderr
    return last


def assert_no_leak(secret: str, outputs: dict[str, str], *folders: Path) -> None:
    leaked = [name for name, text in outputs.items() if secret in text]
    for folder in folders:
        leaked += [str(p) for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert not leaked, f"{secret!r} appears in {leaked}"
