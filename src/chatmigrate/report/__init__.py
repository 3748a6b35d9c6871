"""``phase-6-report.html``: the phase's outcome as one self-contained page, from the temp dir alone.

Owns: building the report from the JSON documents the steps wrote (``facts`` gathers,
``page`` renders, ``svg`` draws) and writing it through ``planfiles`` (0600, atomic).
``run``, ``validate`` and ``plan`` call :func:`write_report` when they finish;
``chatmigrate report`` rebuilds it from a temp dir. The page needs no script and makes
no request (its Content-Security-Policy forbids both); it shows ids and counts, never
message text.

Does not own: any step's logic, the documents' shapes (``phase6.docs``).
"""

from __future__ import annotations

from pathlib import Path

from .. import planfiles as pf
from .. import planfiles_docs as pfd
from ..errors import PhaseFileError
from .facts import Facts, gather
from .page import render

__all__ = ["Facts", "build_html", "gather", "write_report"]


def build_html(temp_dir: Path) -> str:
    return render(gather(temp_dir))


def write_report(temp_dir: Path) -> Path:
    """Write (or rewrite) ``phase-6-report.html`` in ``temp_dir``; returns its path.

    Raises :class:`PhaseFileError` when the folder holds none of the phase's results.
    """
    facts = gather(temp_dir)
    if not facts.written:
        raise PhaseFileError(temp_dir / pf.REPORT, "there is nothing to report: the folder holds none of "
                             f"{pf.MIGRATION_STATS}, {pf.VALIDATION_RESULTS}, {pf.CHATS_EXTRACTED}, {pf.IMPACT}",
                             "run `chatmigrate plan`, `run` or `validate` first, or pass the --temp-dir they used")
    return pfd.write_report(temp_dir, render(facts))
