"""Throw-away MariaDB databases for the tests.

Finds the MariaDB server on 127.0.0.1:3306 (root, empty password; the unix socket is
/run/mysqld/mysqld.sock; ``CHATMIGRATE_TEST_MYSQL_HOST`` / ``_PORT`` / ``_USER`` override
host, port and user), starts /usr/sbin/mariadbd if it is installed but not
running, creates uniquely named databases (dropped again by :meth:`MariaDB.drop_all`)
and dumps them with the real ``mariadb-dump``.

:func:`require` is what fixtures call: it returns a :class:`MariaDB`, or skips the
test when MariaDB is not installed -- except on CI (``CI=true``), where a missing
server is a failure, not a skip. The test must be marked ``mariadb``
(``tests/servermarks.py``); the ``mariadb`` fixture marks it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from typing import Any

import pytest

import servermarks

HOST = os.environ.get("CHATMIGRATE_TEST_MYSQL_HOST", "127.0.0.1")
PORT = int(os.environ.get("CHATMIGRATE_TEST_MYSQL_PORT", "3306"))
USER = os.environ.get("CHATMIGRATE_TEST_MYSQL_USER", "root")
PASSWORD = ""
SOCKET = "/run/mysqld/mysqld.sock"
DAEMON = "/usr/sbin/mariadbd"
START_TIMEOUT = 30.0


class Unavailable(Exception):
    """MariaDB cannot be used in this environment; the message says why."""


def _pymysql() -> Any:
    try:
        import pymysql
    except ImportError:
        raise Unavailable("pymysql is not installed (pip install -e '.[test]')") from None
    return pymysql


def _connect(database: str | None = None, **kw: Any) -> Any:
    return _pymysql().connect(
        host=HOST, port=PORT, user=USER, password=PASSWORD, database=database,
        charset="utf8mb4", autocommit=True, connect_timeout=5, **kw,
    )


def _probe() -> str | None:
    """None when the server answers over TCP, else the connection error."""
    try:
        _connect().close()
    except Exception as exc:  # any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}"
    return None


def _start_server() -> None:
    run_dir = os.path.dirname(SOCKET)
    if not os.path.isdir(run_dir):  # /run is a tmpfs: the directory vanishes on reboot
        os.makedirs(run_dir, exist_ok=True)
        if _has_user("mysql"):
            shutil.chown(run_dir, "mysql", "mysql")
    subprocess.run(
        ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", DAEMON],
        check=False, capture_output=True, timeout=30,
    )


def _has_user(name: str) -> bool:
    try:
        import pwd

        pwd.getpwnam(name)
    except (ImportError, KeyError):
        return False
    return True


def ensure_server() -> None:
    """Make sure the server answers; raise :class:`Unavailable` with the reason if not."""
    _pymysql()
    if shutil.which("mariadb-dump") is None:
        raise Unavailable("mariadb-dump is not on PATH (install mariadb-client)")
    error = _probe()
    if error is None:
        return
    if not os.path.exists(DAEMON):
        raise Unavailable(f"no MariaDB server at {HOST}:{PORT} ({error}) and {DAEMON} is not installed")
    if shutil.which("start-stop-daemon") is None:
        raise Unavailable(f"no MariaDB server at {HOST}:{PORT} ({error}) and start-stop-daemon is missing")
    _start_server()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(0.5)
        error = _probe()
        if error is None:
            return
    raise Unavailable(f"started {DAEMON} but {HOST}:{PORT} still does not answer after {START_TIMEOUT:.0f} s ({error})")


class MariaDB:
    """A handle on the server that remembers the databases it created."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def connect(self, database: str | None = None, *, raw: bool = False) -> Any:
        """A pymysql connection (utf8mb4, autocommit).

        ``raw=True`` keeps pymysql's encoders but drops its decoders, so a SELECT returns
        values as the server sent them: ``str`` for character columns (numbers and dates
        included), ``bytes`` for binary ones (BLOB, VARBINARY, BIT, geometry).
        """
        if not raw:
            return _connect(database)
        pymysql = _pymysql()
        encoders = {k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)}
        return _connect(database, conv=encoders)

    def create_database(self, label: str) -> str:
        name = f"cmtest_{label}_{os.getpid()}_{secrets.token_hex(4)}"
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        self.created.append(name)
        return name

    def drop_all(self) -> None:
        with self.connect() as conn, conn.cursor() as cur:
            while self.created:
                cur.execute(f"DROP DATABASE IF EXISTS `{self.created.pop()}`")

    def dump_command(self, database: str, *options: str) -> list[str]:
        return [
            "mariadb-dump", "--no-defaults", f"--host={HOST}", f"--port={PORT}", f"--user={USER}",
            *options, database,
        ]

    def dump(self, database: str, *options: str) -> bytes:
        """The complete output of ``mariadb-dump [options] database``."""
        proc = subprocess.run(self.dump_command(database, *options), capture_output=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"mariadb-dump {' '.join(options)} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout

    def select_raw(
        self, database: str, table: str, order_by: str = "id"
    ) -> tuple[list[tuple[str, int]], list[tuple[Any, ...]]]:
        """``SELECT * FROM table ORDER BY ...`` without conversions.

        Returns ``[(column name, pymysql FIELD_TYPE code), ...]`` and the rows.
        """
        with self.connect(database, raw=True) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT * FROM `{table}` ORDER BY {order_by}")
            return [(d[0], d[1]) for d in cur.description], list(cur.fetchall())


def require() -> MariaDB:
    """A usable server, or skip (fail when ``CI=true``) saying why there is none."""
    servermarks.check("mariadb", f"MariaDB ({HOST}:{PORT})")
    try:
        ensure_server()
    except Unavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"MariaDB is required when CI=true: {exc}", pytrace=False)
        pytest.skip(f"MariaDB not available: {exc}")
    return MariaDB()
