"""Every test of the dump reader runs twice: with the C tuple reader and with the
pure-Python reference (the autouse ``engine`` fixture sets ``CHATMIGRATE_PURE_PYTHON``,
which every ``DumpReader`` and every CLI subprocess of the test reads). So each dump in
these suites -- MariaDB layouts, hostile rows, buffer-boundary sweeps, truncation at every
byte, damaged dumps, hypothesis round trips -- is checked to give the same rows, errors,
lines and offsets with both engines. Where the extension is not built (no C compiler at
install time) the native half is skipped, saying so.
"""

from __future__ import annotations

import pytest

from chatmigrate.dump.engine import ENGINES, ENV_PURE, native_available


@pytest.fixture(params=ENGINES, autouse=True)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name: str = request.param
    if name == "native" and not native_available():
        pytest.skip("the C extension chatmigrate.dump._native is not built (no C compiler at install time)")
    monkeypatch.setenv(ENV_PURE, "1" if name == "python" else "0")
    return name
