"""The advisory lock that keeps two Phase 6 writers (load, rollback) apart.

Owns: the lock's key and taking it for the current transaction. Does not own the
transactions themselves.
"""

from __future__ import annotations

from typing import Any

import psycopg

LOCK_KEY = 0x6368_6174_6D69  # "chatmi": one Phase 6 writer at a time


def phase_lock(conn: psycopg.Connection[Any]) -> None:
    """Wait for, then hold until this transaction ends, the Phase 6 writer lock."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
