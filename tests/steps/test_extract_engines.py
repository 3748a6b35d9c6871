"""Step 1 with the C parts (dump reader, compact lookups) and with pure Python: the same files.

``CHATMIGRATE_PURE_PYTHON=1`` switches off both extensions; every file step 1 writes must be
byte for byte the one the native run writes, in each link mode, except the moment it was
written and the name of the reader that ran.
"""

from __future__ import annotations

import re

import pytest

from chatmigrate.dump.engine import native_available
from chatmigrate.phase6 import compact
from chatmigrate.steps.extract import extract
from chatmigrate.synth import generate
from synthfiles import fresh_temp_dir

# the lines that differ by when or with what the file was written
_VARIES = re.compile(rb'^\s*"(extracted_at|skipped_at|created_at|dump_reader)": "[^"]*",?\n', re.M)


@pytest.fixture(scope="module", params=["chat", "booking"])
def world(request, tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp(f"engines-{request.param}"), messages=3000, seed=5, links=request.param)


@pytest.mark.parametrize("link", ["strict", "recover", "participants"])
def test_pure_python_and_native_step_1_write_the_same_files(world, tmp_path, monkeypatch, link):
    if not (native_available() and compact._NATIVE is not None):
        pytest.skip("the C extensions are not built here")
    files = {}
    for pure in ("0", "1"):
        monkeypatch.setenv("CHATMIGRATE_PURE_PYTHON", pure)
        temp = fresh_temp_dir(world, tmp_path / pure)
        res = extract(str(world.dump), temp, link=link)
        assert res.metadata["dump_reader"] == ("python" if pure == "1" else "native")
        files[pure] = {p.name: _VARIES.sub(b"", p.read_bytes()) for p in sorted(temp.iterdir())}
    assert files["0"].keys() == files["1"].keys() and len(files["0"]) >= 5
    for name, text in files["0"].items():
        assert text == files["1"][name], name
