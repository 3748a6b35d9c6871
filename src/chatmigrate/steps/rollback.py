"""Rollback: one ledger run (or the plan's full wipe) -> deleted rows -> phase files kept as a record.

Owns: choosing the run (``--run ID``, else the run named by the temp dir's
``chats-created.json``: the committed run of that dump), holding the Phase 6 lock for
the whole step (so a create waits for it, and it waits for a create, instead of
deadlocking or reading vanished files), the preflight, calling the target's rollback,
and moving this phase's output files afterwards -- only when they belong to the run
rolled back -- into ``rolled-back/<UTC stamp>-run-<id>/`` with a ``rollback.json`` (the folder is
made before anything is deleted: if it cannot be, nothing is). ``everything=True`` is the plan's full wipe instead; :func:`count_everything`
tells what it would delete (for the confirmation).

Does not own: the SQL (``postgres.rollback``), the prompt (``cli``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import planfiles as pf
from .. import planfiles_created as pfc
from .. import planfiles_docs as pfd
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
    named, _ = pfc.read_created_run(temp_dir)
    if named is None:
        raise UsageError(f"{manifest} names no ledger run (it was not written by this chatmigrate's create): "
                         "pass --run ID (the ledger table chatmigrate.runs lists the runs).")
    return named


@dataclass(slots=True)
class RolledBackFiles:
    """Where this phase's files went: ``folder`` is None when the run is not the temp dir's, or there is
    no temp dir (``--all``): nothing moved."""

    folder: Path | None = None
    moved: list[str] = field(default_factory=list)


def _record(counts: RollbackCounts, everything: bool, moved: list[str]) -> dict[str, object]:
    c = asdict(counts)
    return {"rolled_back_at": pf.now_iso(), "run_id": counts.run_id, "everything": everything,
            "deleted": {k: c[k] for k in ("chats", "messages", "media")},
            "kept": {"chats": counts.kept_chats, "messages": counts.kept_messages},
            "indexes_dropped": counts.indexes_dropped, "indexes_kept": counts.indexes_kept, "files_moved": moved}


def count_everything(url: str) -> RollbackCounts:
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        preflight.check(conn, "rollback")
        return count_all(conn)


def rollback(temp_dir: Path, url: str, *, everything: bool = False, run_id: int | None = None,
             keep_indexes: bool = False, progress: Progress = NO_PROGRESS) -> tuple[RollbackCounts, RolledBackFiles]:
    """Undo Phase 6 in the target; returns the counts and where the run's files were moved.

    The plan's indexes the run created go with its rows unless ``keep_indexes``.
    """
    chosen = None if everything else _choose(temp_dir, run_id)
    with db.connect(url, autocommit=True) as conn:
        db.require_tables(conn, url)
        lock.hold(conn)  # held until the files are moved: a create waits, then sees them gone
        preflight.check(conn, "rollback")
        if chosen is not None and not ledger.exists(conn):
            raise LedgerError(
                f"the target {db.redact(url)} has no ledger (schema chatmigrate): no run of chatmigrate "
                "has committed rows to it, so there is nothing to roll back; nothing was deleted.")
        files = RolledBackFiles()
        if temp_dir.is_dir() and (chosen is None or pfc.read_created_run(temp_dir)[0] == chosen):
            files.folder = pfd.new_rollback_folder(temp_dir, "all" if chosen is None else f"run-{chosen}")
        try:
            if chosen is None:
                counts = wipe_all(conn, keep_indexes=keep_indexes, progress=progress)
            else:
                counts = rollback_run(conn, chosen, keep_indexes=keep_indexes, progress=progress)
        except BaseException:
            if files.folder is not None:
                files.folder.rmdir()  # still empty: nothing was deleted, so no record
            raise
        if files.folder is not None:
            files.moved = pfd.move_phase_outputs(temp_dir, files.folder)
            pfd.write_rollback_record(files.folder, _record(counts, chosen is None, files.moved))
        lock.release(conn)
    return counts, files
