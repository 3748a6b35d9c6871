"""The temp dir's small documents, written and read whole; the report page; a rollback's folder.

Owns: step 2's ``chat-creation-stats.json``, step 3's ``chat-validation-results.json``, the
run's ``phase-6-migration-stats.json`` and the plan's ``phase-6-impact.json`` (their shapes
are ``phase6.docs``'; written indented, read back typed), any of them read only when present
(:func:`read_if_present`, for the report), ``phase-6-report.html`` (written here; its content
is :mod:`.report`'s), ``chatmigrate images``' ``chat-images-copied.json``, and a rollback's
``rolled-back/<stamp>-<run>/`` folder: created private, this phase's files moved into it,
``rollback.json`` written beside them (these two names are defined here).

Does not own: the other files' names and the helpers the ``planfiles*`` modules share
(``planfiles``), what goes into the documents (``steps``, ``report``), any database work.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from . import jsonstream as s
from .errors import PhaseFileError
from .phase6.docs import CreationStats, Impact, MigrationStats, ValidationResults
from .planfiles import (
    CREATION_STATS,
    IMAGES_COPIED,
    IMPACT,
    MIGRATION_STATS,
    PHASE_OUTPUTS,
    REPORT,
    VALIDATION_RESULTS,
    read_json,
    write_json,
)
from .safewrite import atomic_text, move_names, new_private_dir


def write_creation_stats(temp_dir: Path, stats: CreationStats) -> None:
    write_json(temp_dir / CREATION_STATS, stats)


def write_validation_results(temp_dir: Path, doc: ValidationResults) -> Path:
    path = temp_dir / VALIDATION_RESULTS
    write_json(path, doc)
    return path


def write_migration_stats(temp_dir: Path, stats: MigrationStats) -> None:
    write_json(temp_dir / MIGRATION_STATS, stats)


def write_impact(temp_dir: Path, doc: Impact) -> Path:
    path = temp_dir / IMPACT
    write_json(path, doc)
    return path


def _read_doc(temp_dir: Path, name: str) -> Any:
    return read_json(temp_dir / name, name, "re-run the step that writes it")


def read_creation_stats(temp_dir: Path) -> CreationStats:
    stats: CreationStats = _read_doc(temp_dir, CREATION_STATS)
    return stats


def read_validation_results(temp_dir: Path) -> ValidationResults:
    doc: ValidationResults = _read_doc(temp_dir, VALIDATION_RESULTS)
    return doc


def read_migration_stats(temp_dir: Path) -> MigrationStats:
    stats: MigrationStats = _read_doc(temp_dir, MIGRATION_STATS)
    return stats


def read_impact(temp_dir: Path) -> Impact:
    doc: Impact = _read_doc(temp_dir, IMPACT)
    return doc


def read_if_present(temp_dir: Path, name: str) -> Any | None:
    """A small document of the temp dir, or None when it is absent (the report shows what is at hand);
    a present but unreadable file is still an error."""
    return _read_doc(temp_dir, name) if (temp_dir / name).is_file() else None


def write_report(temp_dir: Path, html_text: str) -> Path:
    """phase-6-report.html: one self-contained page (built by :mod:`.report`)."""
    path = temp_dir / REPORT
    with atomic_text(path) as fh:
        fh.write(html_text)
    return path


ROLLED_BACK = "rolled-back"
ROLLBACK_RECORD = "rollback.json"


def new_rollback_folder(temp_dir: Path, label: str) -> Path:
    """``rolled-back/<UTC timestamp>-<label>/`` in the temp dir, created 0700; refused if it exists or is a link."""
    name = f"{s.now_iso().replace('-', '').replace(':', '')[:15]}Z-{label}"
    try:
        return new_private_dir(temp_dir, ROLLED_BACK, name)
    except OSError as e:
        planted = isinstance(e, FileExistsError) or e.errno in (errno.ELOOP, errno.ENOTDIR)
        why = " (a folder, file or symbolic link is already there)" if planted else ""
        raise PhaseFileError(temp_dir / ROLLED_BACK / name,
                             f"cannot be created as a new private folder: {e.strerror or e}{why}",
                             "nothing was deleted; remove or rename that path (or fix the temp dir) and run "
                             "rollback again") from None


def move_phase_outputs(temp_dir: Path, folder: Path) -> list[str]:
    """Move this phase's output files into ``folder`` (rollback; atomic renames); returns the names moved.

    The Phase 1 / Phase 4 inputs stay, so a later extract and create in the same temp dir still work.
    """
    present = [name for name in PHASE_OUTPUTS if os.path.lexists(temp_dir / name)]
    move_names(temp_dir, present, folder.relative_to(temp_dir).parts)
    return present


def write_rollback_record(folder: Path, doc: dict[str, Any]) -> Path:
    """rollback.json beside the moved files: when, the run, the counts deleted / kept, the files moved."""
    path = folder / ROLLBACK_RECORD
    write_json(path, doc)
    return path


# --------------------------------------------------------------------------- chatmigrate images


def write_images_copied(temp_dir: Path, doc: dict[str, Any]) -> Path:
    """chat-images-copied.json: per image message_id, source_url, key, outcome, reason, bytes, md5; totals."""
    path = temp_dir / IMAGES_COPIED
    with atomic_text(path) as fh:
        out = s.StreamedDoc(fh)
        for name, value in doc.items():
            if name != "images":
                out.value(name, value)
        out.begin_array("images")
        for item in doc.get("images", []):
            out.item(item)
        out.end_array()
        out.close()
    return path


def read_images_copied(temp_dir: Path) -> dict[str, Any]:
    return read_json(temp_dir / IMAGES_COPIED, "the image copy report", "run `chatmigrate images` first")
