"""Rollback: one ledger run (or the plan's full wipe) -> deleted rows -> removed phase files.

Owns: choosing the run (``--run ID``, else the run named by the temp dir's
``chats-created.json``: the committed run of that dump), holding the Phase 6 lock for
the whole step (so a create waits for it, and it waits for a create, instead of
deadlocking or reading vanished files), the preflight, calling the target's rollback,
and removing this phase's output files afterwards -- only when they belong to the run
rolled back. ``everything=True`` is the plan's full wipe instead; :func:`count_everything`
tells what it would delete (for the confirmation).

Does not own: the SQL (``postgres.rollback``), the prompt (``cli``).
"""

from __future__ import annotations

from pathlib import Path

from .. import planfiles as pf
from ..errors import LedgerError, UsageError
from ..postgres import db, ledger, lock, preflight
from ..postgres.rollback import RollbackCounts, count_all, rollback_run, wipe_all
from ..progress import NO_PROGRESS, Progress


def _choose(temp_dir: Path, run_id: int | None) -> int:
    if run_id is not None:
        return run_id
    manifest = temp_dir / pf.CHATS_CREATED
    if not manifest.is_file():
        raise UsageError(
            f"{manifest} is missing, so there is no record of which run of the ledger to roll back: "
            "pass the --temp-dir of the run or --run ID (the ledger table chatmigrate.runs lists them), "
            "or use --all --yes to delete every chat, message and chat image."
        )
    named, _ = pf.read_created_run(temp_dir)
    if named is None:
        raise UsageError(f"{manifest} names no ledger run (it was not written by this chatmigrate's create): "
                         "pass --run ID (the ledger table chatmigrate.runs lists the runs).")
    return named


def count_everything(url: str) -> RollbackCounts:
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        preflight.check(conn, "rollback")
        return count_all(conn)


def rollback(temp_dir: Path, url: str, *, everything: bool = False, run_id: int | None = None,
             keep_indexes: bool = False, progress: Progress = NO_PROGRESS) -> tuple[RollbackCounts, list[str]]:
    """Undo Phase 6 in the target; returns the counts and the files removed.

    The plan's indexes the run created go with its rows unless ``keep_indexes``.
    """
    chosen = None if everything else _choose(temp_dir, run_id)
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        lock.hold(conn)  # held until the files are gone: a create waits, then sees them gone
        preflight.check(conn, "rollback")
        if chosen is None:
            counts = wipe_all(conn, keep_indexes=keep_indexes, progress=progress)
        else:
            if not ledger.exists(conn):
                raise LedgerError(
                    f"the target {db.redact(url)} has no ledger (schema chatmigrate): no run of chatmigrate "
                    "has committed rows to it, so there is nothing to roll back; nothing was deleted.")
            counts = rollback_run(conn, chosen, keep_indexes=keep_indexes, progress=progress)
        removed: list[str] = []
        if chosen is None or pf.read_created_run(temp_dir)[0] == chosen:
            removed = pf.remove_phase_outputs(temp_dir)
        lock.release(conn)
    return counts, removed
