"""A password in the database URL is never shown: not in stdout, stderr, nor any file written.

The corpus: passwords holding every character a URL gives meaning to (``/ @ : % ? #``),
``!``, ``'``, spaces and non-ASCII, each spelt in every way a user may write the URL:
percent-encoded, raw (a ``/`` or ``@`` then moves the host), without the scheme, with a
broken scheme (``postgresql//``, ``postgresql:/``), as a keyword DSN, in the query
string. Each password is built of distinctive segments (``Kx7a``, ``Mq4b``, ...), so a
fragment of it that libpq reads as a host, port or database name is caught too.

``redact`` / ``scrub`` are checked in-process for the whole corpus; ``chatmigrate run``
(which writes ``phase-6-migration-stats.json`` even when it stops) for every spelling
against an unreachable port, a database the real server does not have, and a real but
empty database, with its outputs and the temp dir grepped for every segment.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

import pgdb
from chatmigrate.postgres.db import TargetError, connect, conninfo, redact, scrub
from clirun import chatmigrate, one_error_line

SEGMENTS = ("Kx7a", "Mq4b", "Zt2c", "Wp8d", "Rn3e", "Hs6f", "Jv5g", "Lc1h", "Bm9k", "Fy0u")
PASSWORDS = {
    "every-special": "Kx7a/Mq4b@Zt2c:Wp8d%Rn3e?Hs6f#Jv5g!Lc1h'Bm9k Fy0u-ø😀",
    "slash": "Kx7a!/Mq4b",  # the postgresql://u:S3cret!/x@host/db
    "looks-encoded": "Kx7a%41Mq4b%2F",
    "plain": "Kx7aMq4b",
}


def dsn_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def spellings(password: str, host: str, port: int, db: str) -> dict[str, str]:
    enc = quote(password, safe="")
    return {
        "encoded": f"postgresql://postgres:{enc}@{host}:{port}/{db}",
        "raw": f"postgresql://postgres:{password}@{host}:{port}/{db}",
        "no-scheme": f"postgres:{password}@{host}:{port}/{db}",
        "scheme-no-colon": f"postgresql//postgres:{password}@{host}:{port}/{db}",
        "scheme-one-slash": f"postgresql:/postgres:{password}@{host}:{port}/{db}",
        "keyword": f"host={host} port={port} user=postgres password={dsn_quote(password)} dbname={db}",
        "query": f"postgresql://postgres@{host}:{port}/{db}?password={enc}&sslmode=disable",
    }


def fragments(password: str) -> list[str]:
    return [s for s in SEGMENTS if s in password]


CORPUS = [(f"{p}-{s}", pw, s) for p, pw in PASSWORDS.items() for s in spellings(pw, "h", 1, "d")]


@pytest.mark.parametrize("case, password, spelling", CORPUS, ids=[c for c, _, _ in CORPUS])
def test_redact_and_scrub_remove_every_fragment(case: str, password: str, spelling: str) -> None:
    url = spellings(password, "127.0.0.1", 1, "nowhere")[spelling]
    shown = redact(url)
    assert not [f for f in fragments(password) if f in shown], shown
    text = f"failed: {url} / {password} / {quote(password, safe='')} / {quote(password)}"
    scrubbed = scrub(text, url)
    assert not [f for f in fragments(password) if f in scrubbed], scrubbed


@pytest.mark.parametrize("url, shown", [
    ("postgresql://postgres:Kx7a%2FMq4b@127.0.0.1:1/nowhere", "postgresql://postgres:***@127.0.0.1:1/nowhere"),
    ("postgres://u@db.example:6543/app?sslmode=require", "postgres://u@db.example:6543/app?sslmode=require"),
    ("host=h port=5 user=u password='a b' dbname=d", "host=h port=5 user=u password=*** dbname=d"),
    ("postgresql://u:Kx7a!/Mq4b@h/d", "(a database URL libpq cannot read; not shown, it may hold a password)"),
    ("u:Kx7a@h:5432/d", "(a database URL libpq cannot read; not shown, it may hold a password)"),
])
def test_redact_shows_what_libpq_reads_or_nothing(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize("url, problem", [
    ("postgresql://u:Kx7a!/Mq4b@h/d", "reads as part of the address"),
    ("postgresql://u:Kx7a@Mq4b@h/d", "reads as part of the address"),
    ("postgresql://u:pw@h:Kx7a/d", "port or host"),
    ("u:Kx7a@h:5432/d", "cannot read it"),
    ("postgresql://u:Kx7a%ZZ@h/d", "cannot read it"),
])
def test_a_url_libpq_would_misread_is_refused_before_connecting(url: str, problem: str) -> None:
    assert conninfo(url).problem is not None and problem in str(conninfo(url).problem)
    with pytest.raises(TargetError) as info:
        connect(url)
    assert "Kx7a" not in str(info.value) and "percent-encode" in str(info.value)


def phase_inputs(tmp: Path) -> Path:
    """Phase 1 and 4 files that pass run's preflight up to the database connection."""
    temp = tmp / "temp"
    temp.mkdir(exist_ok=True)
    (temp / "user-id-mapping.json").write_text('{"metadata": {}, "mapping": {}}')
    (temp / "bookings-created.json").write_text('{"metadata": {}, "results": [{"id": "b", "success": true}]}')
    return temp


RUNS = [(p, s, where) for where in ("unreachable", "no-such-database", "empty-database")
        for p in ("every-special", "slash") for s in spellings("x", "h", 1, "d")]


@pytest.mark.postgres
@pytest.mark.parametrize("password_case, spelling, where", RUNS, ids=[f"{w}-{p}-{s}" for p, s, w in RUNS])
def test_run_never_shows_nor_writes_the_password(tmp_path: Path, password_case: str, spelling: str,
                                                 where: str) -> None:
    pgdb.require()
    password = PASSWORDS[password_case]
    if where == "empty-database":
        db = pgdb.create("h3secret", schema=False)
        name, port = db.name, 5432
    else:
        db, name, port = None, "h3_no_such_database", 1 if where == "unreachable" else 5432
    try:
        temp = phase_inputs(tmp_path)
        url = spellings(password, "127.0.0.1", port, name)[spelling]
        proc = chatmigrate("run", "--dump", str(tmp_path / "legacy.sql"), "--temp-dir", str(temp),
                           "--database-url", url, cwd=tmp_path, timeout=60)
    finally:
        if db is not None:
            pgdb.drop(db)
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc.stdout, proc.stderr)
    outputs = {"stdout": proc.stdout, "stderr": proc.stderr}
    outputs |= {str(p): p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()}
    leaks = {where: f for where, text in outputs.items() for f in fragments(password) if f in text}
    assert not leaks, f"password fragments in {leaks}: {line}"
    stats = json.loads((temp / "phase-6-migration-stats.json").read_text(encoding="utf-8"))
    assert stats["success"] is False and stats["steps"]["error"] in line
