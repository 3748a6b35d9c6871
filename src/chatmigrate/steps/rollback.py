"""Rollback: the manifest written by step 2 -> deleted rows -> removed phase files.

Owns: reading the ids listed in ``chats-created.json`` (created and already present),
calling the target's rollback, and removing this phase's output files afterwards, as
the plan's rollback does. ``everything=True`` is the plan's full wipe instead.

Does not own: the SQL (``postgres.rollback``).
"""

from __future__ import annotations

from pathlib import Path

from .. import planfiles as pf
from ..errors import UsageError
from ..postgres import db
from ..postgres.rollback import RollbackCounts, rollback_manifest, wipe_all


def rollback(temp_dir: Path, url: str, *, everything: bool = False) -> tuple[RollbackCounts, list[str]]:
    """Undo Phase 6 in the target; returns the counts and the files removed."""
    manifest = temp_dir / pf.CHATS_CREATED
    if not everything and not manifest.is_file():
        raise UsageError(
            f"{manifest} is missing, so there is no record of which rows this migration created: "
            "pass the --temp-dir of the run, or use --all --yes to delete every chat, message and chat image."
        )
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        if everything:
            counts = wipe_all(conn)
        else:
            ids = pf.read_created_ids(temp_dir)
            counts = rollback_manifest(conn, ids["chat"], ids["message"], ids["media"])
    return counts, pf.remove_phase_outputs(temp_dir)
