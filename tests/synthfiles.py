"""Helpers for tests on a synthetic world (``chatmigrate.synth``)."""

from __future__ import annotations

from pathlib import Path

from chatmigrate.synth import SynthSummary


def fresh_temp_dir(world: SynthSummary, tmp_path: Path) -> Path:
    """A temp dir holding only the Phase 1 and 4 files of ``world``, as before a migration."""
    temp = tmp_path / "temp"
    temp.mkdir(parents=True)
    for name in ("user-id-mapping.json", "bookings-created.json"):
        (temp / name).write_bytes((world.temp_dir / name).read_bytes())
    return temp
