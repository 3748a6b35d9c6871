#!/usr/bin/env python3
"""Set-up and entry points for a fresh clone: only python3 is needed.

    python3 tasks.py demo [ARGS...]   # create .venv, install chatmigrate, run the demo
    python3 tasks.py test [ARGS...]   # create .venv, install chatmigrate + test deps, run pytest
    python3 tasks.py lint             # ruff (src, tests, bench) and mypy --strict (src)
    python3 tasks.py fuzz [SECONDS]   # the dump readers' differential fuzz target (atheris), 60 s

The virtual environment lives in .venv and is (re)installed whenever pyproject.toml,
setup.py or the C extensions' sources change (the editable install compiles
chatmigrate.dump._native and chatmigrate.phase6._compact in place; without a C compiler it
warns, and the pure-Python reader and plain dicts run). Everything else is ordinary:
`.venv/bin/chatmigrate --help`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_env(extras: str) -> None:
    stamp = VENV / f".installed-{extras}"
    # setup.py and the C source too: the editable install builds the extension in place
    # (src/chatmigrate/dump/_native*.so), so a changed C file reinstalls, i.e. rebuilds it
    build_inputs = ("pyproject.toml", "setup.py", "src/chatmigrate/dump/_native.c", "src/chatmigrate/phase6/_compact.c")
    digest = hashlib.sha256(b"".join((ROOT / f).read_bytes() for f in build_inputs)).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print(f"· creating {VENV.relative_to(ROOT)}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"· installing chatmigrate[{extras}] (first run only)", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[{extras}]"], check=True)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "lint", "fuzz"}:
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    if task == "test":
        ensure_env("test,demo")
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    if task == "lint":
        # with the test and demo packages installed: mypy then sees the same imports as the code meets at run time
        ensure_env("test,demo,lint")
        ruff = subprocess.call([str(BIN / "ruff"), "check", "src", "tests", "bench", "tasks.py", "setup.py"], cwd=ROOT)
        mypy = subprocess.call([str(BIN / "mypy")], cwd=ROOT)
        return ruff or mypy
    if task == "fuzz":
        ensure_env("test,demo,fuzz")
        seconds = rest[0] if rest else "60"
        return subprocess.call([str(BIN / "python"), "bench/fuzz_reader.py", "--seconds", seconds, *rest[1:]], cwd=ROOT)
    ensure_env("demo")
    return subprocess.call([str(BIN / "chatmigrate"), "demo", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
