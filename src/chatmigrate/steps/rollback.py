"""Rollback: the manifest written by step 2 -> deleted rows -> removed phase files.

Owns: reading the ids listed in ``chats-created.json`` (created and already present),
calling the target's rollback, and removing this phase's output files afterwards, as
the plan's rollback does. ``everything=True`` is the plan's full wipe instead.

Does not own: the SQL (``postgres.rollback``).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..phase6 import files as f
from ..postgres import db
from ..postgres.rollback import RollbackCounts, rollback_manifest, wipe_all


def _ids(path: Path, kind: str) -> list[str]:
    ids: list[str] = []
    for prefix in ("created", "already_present"):
        ids.extend(x["id"] for x in f.iter_array(path, f"{prefix}_{kind}"))
    return ids


def rollback(temp_dir: Path, url: str, *, everything: bool = False) -> tuple[RollbackCounts, list[str]]:
    """Undo Phase 6 in the target; returns the counts and the files removed."""
    manifest = temp_dir / f.CHATS_CREATED
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
            counts = rollback_manifest(conn, _ids(manifest, "chats"), _ids(manifest, "messages"),
                                       _ids(manifest, "media"))
    removed = []
    for name in f.PHASE_OUTPUTS:
        p = temp_dir / name
        if p.exists():
            p.unlink()
            removed.append(name)
    return counts, removed
