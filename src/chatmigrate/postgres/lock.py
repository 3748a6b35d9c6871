"""The advisory lock that keeps two Phase 6 writers (load, rollback) apart.

Owns: the lock's key, taking it for the current transaction (:func:`phase_lock`), and
holding it for a whole step across transactions (:func:`hold` / :func:`release`: create
and rollback hold it from before they read their files until they finish, indexes and
files included, so they wait for each other instead of deadlocking). Does not own the
transactions themselves.
"""

from __future__ import annotations

from typing import Any

import psycopg

LOCK_KEY = 0x6368_6174_6D69  # "chatmi": one Phase 6 writer at a time


def phase_lock(conn: psycopg.Connection[Any]) -> None:
    """Wait for, then hold until this transaction ends, the Phase 6 writer lock."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))


def hold(conn: psycopg.Connection[Any]) -> None:
    """Wait for, then hold, the Phase 6 lock for the session (until :func:`release` or close)."""
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))


def release(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
