"""SIGTERM is handled like Ctrl-C: one line saying what was committed, no partial files.

A real ``chatmigrate extract`` of a synthetic dump runs in a subprocess; once its atomic
writer has a temporary file open in the temp dir, the test sends a real signal. The
process must end with 143 (SIGTERM) or 130 (SIGINT), print one line saying that
nothing was committed, show no traceback, and leave neither the temporary file nor a
half-written output behind.
"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest

from clirun import chatmigrate, start


@pytest.fixture(scope="module")
def synth_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("signals") / "world"
    proc = chatmigrate("synth", "--out", str(out), "--messages", "150000", cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out


def outputs(temp: Path) -> set[str]:
    return {p.name for p in temp.iterdir()} - {"user-id-mapping.json", "bookings-created.json"}


@pytest.mark.parametrize("signum, code, says", [
    (signal.SIGTERM, 143, "terminated (SIGTERM): nothing was committed"),
    (signal.SIGINT, 130, "interrupted: nothing was committed"),
], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_extract_removes_the_temporary_file(synth_world: Path, tmp_path: Path,
                                                            signum: int, code: int, says: str) -> None:
    temp = tmp_path / "temp"
    shutil.copytree(synth_world / "temp", temp)
    before = outputs(temp)
    proc = start("extract", "--dump", str(synth_world / "legacy.sql"), "--temp-dir", str(temp), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.endswith(".tmp") for p in temp.iterdir()):
            assert proc.poll() is None, f"extract ended before writing: {proc.communicate()}"
            assert time.monotonic() < deadline, "extract never opened a temporary file"
            time.sleep(0.01)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err + out
    last = err.strip().splitlines()[-1]
    assert last == f"{says} by the step that was running.", err
    assert outputs(temp) == before, f"left behind: {outputs(temp) - before}"
