"""Fixtures of the report's tests.

- ``planned``: a temp dir after ``extract`` and ``plan`` of a 2,000-message synthetic
  world (no database): step 1's files, the impact file and the report they wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatmigrate.steps.extract import extract
from chatmigrate.steps.plan import plan
from chatmigrate.synth import generate


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    world = generate(root / "world", messages=2000, seed=7)
    extract(str(world.dump), world.temp_dir)
    plan(str(world.dump), world.temp_dir)
    return world.temp_dir
