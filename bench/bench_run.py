#!/usr/bin/env python3
"""End-to-end benchmark of Phase 6: chatmigrate's steps against psql \\copy and pgloader.

    .venv/bin/python bench/bench_run.py                       # 10k, 100k and 1M messages
    .venv/bin/python bench/bench_run.py --sizes 10000,100000 --database-url postgresql://...

For each size: generate a synthetic world (``chatmigrate synth``), create a fresh target
database with the Supabase-shaped tables and the Phase 1-4 rows, then time, each in its
own process (so peak RSS is that step's own): extract, create (with indexes), validate,
and the whole ``run`` on a second fresh database. The floor is plain ``psql \\copy`` of
the same final rows (chats, messages, media exported from the migrated target) into a
third fresh database in one transaction. Where ``pgloader`` is installed and MariaDB
runs, the legacy dump is loaded into MariaDB (not timed) and pgloader's migration of the
``chat`` and ``message`` tables into PostgreSQL is timed: it copies the tables as they
are, without the phase's rules, so it is a lower bound for what it would take.

Results are appended to bench/results.jsonl and printed as a Markdown table.
Not part of the test suite: timings are measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = sys.executable


def timed(cmd: list[str], **kw) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MB of that process).

    The peak is measured by /usr/bin/time where it exists: the rusage of a child forked from
    this process starts at this process's own size (a seeded benchmark is 200 MB), which
    would hide every smaller figure."""
    rss_file = None
    if shutil.which("time") or os.path.exists("/usr/bin/time"):
        fd, rss_file = tempfile.mkstemp(prefix="cm-bench-rss-")
        os.close(fd)
        cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file, *cmd]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd[:4])}... exited {code}: {err[-2000:]}")
    if rss_file is not None:
        with open(rss_file) as fh:
            kb = int(fh.read().split()[-1])
        os.unlink(rss_file)
        return wall, kb / 1024
    return wall, usage.ru_maxrss / 1024


def fresh_db(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo.conninfo_to_dict(server)
    params["dbname"] = name
    return conninfo.make_conninfo(**params)


def fresh_url(server: str, name: str) -> str:
    params = conninfo.conninfo_to_dict(server)
    params["dbname"] = name
    return conninfo.make_conninfo(**params)


def prepared_target(server: str, name: str, seed_dir: Path) -> str:
    from chatmigrate.postgres.db import create_schema, seed_from_csv

    url = fresh_db(server, name)
    create_schema(url)
    seed_from_csv(url, seed_dir)
    return url


def copy_floor(server: str, source: str, seed_dir: Path, work: Path) -> float:
    """psql \\copy of the final rows into a fresh, seeded target, in one transaction."""
    tables = {
        "chats": "id, booking_id, created_at, updated_at",
        "chat_messages": "id, chat_id, sender_id, content, is_read, created_at",
        "media": "id, owner_id, file_path, media_type, chat_message_id",
    }
    for table, cols in tables.items():
        subprocess.run(["psql", "-q", "-d", source, "-c", f"\\copy (SELECT {cols} FROM {table}) TO '{work / table}.tsv'"],
                       check=True)
    target = prepared_target(server, "cm_bench_copy", seed_dir)
    cmds = [f"\\copy {t} ({c}) FROM '{work / t}.tsv'" for t, c in tables.items()]
    args = ["psql", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", target]
    for c in cmds:
        args += ["-c", c]
    wall, _ = timed(args)
    return wall


def pgloader_time(dump: Path, server: str, work: Path) -> tuple[float, float] | None:
    """(pgloader's seconds, seconds to load the dump into MariaDB first), or None."""
    if not shutil.which("pgloader") or not shutil.which("mariadb"):
        return None
    if subprocess.run(["mariadb-admin", "ping"], capture_output=True).returncode != 0:
        return None
    subprocess.run(["mariadb", "-e", "DROP DATABASE IF EXISTS cm_bench_src; CREATE DATABASE cm_bench_src "
                    "CHARACTER SET utf8mb4"], check=True)
    with open(dump, "rb") as fh:
        load_s, _ = timed(["mariadb", "--default-character-set=utf8mb4", "cm_bench_src"], stdin=fh)
    target = conninfo.conninfo_to_dict(fresh_db(server, "cm_bench_pgl"))
    pg_url = f"postgresql://{target.get('user', 'postgres')}@{target.get('host', '127.0.0.1')}:{target.get('port', 5432)}/cm_bench_pgl"
    load = work / "chat.load"
    load.write_text(
        "LOAD DATABASE\n"
        "  FROM mysql://root@127.0.0.1:3306/cm_bench_src\n"
        f"  INTO {pg_url}\n"
        "  INCLUDING ONLY TABLE NAMES MATCHING 'chat', 'message'\n"
        # batch sizes bounded: with its defaults Debian's pgloader stalled on 1M messages
        "  WITH include drop, create tables, create indexes, foreign keys, workers = 2, concurrency = 1,\n"
        "       prefetch rows = 10000, batch rows = 10000\n"
        "  SET MySQL PARAMETERS net_read_timeout = '600', net_write_timeout = '600'\n"
        # Without these casts pgloader fails on this data: MariaDB's DEFAULT current_timestamp(6)
        # is no PostgreSQL value, and the enum value '' (written in non-strict mode) rejects
        # the whole COPY batch of messages it is in.
        "  CAST type datetime to timestamptz drop default drop not null using zero-dates-to-null,\n"
        "       type enum to text drop typemod;\n"
    )
    wall, _ = timed(["timeout", "900", "pgloader", "--quiet", "--dynamic-space-size", "4096", str(load)])
    with psycopg.connect(fresh_url(server, "cm_bench_pgl")) as c:
        got = c.execute("SELECT count(*) FROM cm_bench_src.message").fetchone()[0]  # type: ignore[index]
    with open(dump.parent / "truth.json") as fh:
        want = json.load(fh)["tables"]["message"]
    if got != want:
        raise SystemExit(f"pgloader copied {got} of {want} messages: its time would not be comparable")
    return wall, load_s


def world(n: int, reuse: Path | None) -> tuple[Path, float]:
    """The synthetic world of ``n`` messages (generated, timed), or ``reuse``: one made before."""
    if reuse is not None:
        return reuse, 0.0
    work = OUT / f"run-{n}"
    shutil.rmtree(work, ignore_errors=True)
    gen_s, _ = timed([PY, "-m", "chatmigrate", "synth", "--out", str(work), "--messages", str(n)])
    return work, gen_s


def bench_run_only(n: int, server: str, reuse: Path | None) -> dict:
    """Only the whole ``run`` (time, peak RSS) and the \\copy floor of its final rows: for 10M."""
    work, gen_s = world(n, reuse)
    dump, seed = work / "legacy.sql", work / "seed"
    url = prepared_target(server, "cm_bench_run", seed)
    run_temp = OUT / f"run-only-{n}-temp"
    shutil.rmtree(run_temp, ignore_errors=True)
    shutil.copytree(work / "temp", run_temp, ignore=shutil.ignore_patterns("chat*", "skipped*", "failed*", "phase-6*"))
    run_s, run_mb = timed([PY, "-m", "chatmigrate", "run", "--dump", str(dump), "--temp-dir", str(run_temp),
                           "--database-url", url])
    stats = json.loads((run_temp / "phase-6-migration-stats.json").read_text())
    floor = copy_floor(server, url, seed, OUT)
    return {"messages": n, "dump_mb": round(dump.stat().st_size / 1e6, 1), "generate_s": round(gen_s, 2),
            "run_s": round(run_s, 2), "psql_copy_s": round(floor, 2), "run_vs_copy": round(run_s / floor, 2),
            "peak_rss_mb": {"run": round(run_mb)}, "is_valid": stats["steps"]["validation"]["is_valid"],
            "migrated_messages": stats["steps"]["creation"]["successfully_created_messages"],
            "dump_reader": stats["steps"]["extraction"].get("dump_reader"),
            "steps_s": {k: v.get("duration_seconds") for k, v in stats["steps"].items() if isinstance(v, dict)}}


def bench_size(n: int, server: str, with_pgloader: bool, reuse: Path | None = None) -> dict:
    work, gen_s = world(n, reuse)
    cm = [PY, "-m", "chatmigrate"]
    dump, temp, seed = work / "legacy.sql", work / "temp", work / "seed"
    if reuse is not None:  # the step 1 and 2 files of an earlier benchmark would make create a re-run
        temp = OUT / f"steps-{n}-temp"
        shutil.rmtree(temp, ignore_errors=True)
        shutil.copytree(work / "temp", temp, ignore=shutil.ignore_patterns("chat*", "skipped*", "failed*", "phase-6*"))
    dump_mb = dump.stat().st_size / 1e6
    url = prepared_target(server, "cm_bench", seed)
    env = {**os.environ, "DATABASE_URL": url}
    ex_s, ex_mb = timed([*cm, "extract", "--dump", str(dump), "--temp-dir", str(temp)], env=env)
    cr_s, cr_mb = timed([*cm, "create", "--temp-dir", str(temp)], env=env)
    va_s, va_mb = timed([*cm, "validate", "--dump", str(dump), "--temp-dir", str(temp)], env=env)
    stats = json.loads((temp / "chat-creation-stats.json").read_text())
    valid = json.loads((temp / "chat-validation-results.json").read_text())["is_valid"]
    migrated = stats["successfully_created_messages"]
    floor = copy_floor(server, url, seed, work)
    # the whole run, on a fresh target (the steps above left theirs migrated)
    url2 = prepared_target(server, "cm_bench_run", seed)
    run_temp = work / "run-temp"
    shutil.rmtree(run_temp, ignore_errors=True)
    shutil.copytree(temp, run_temp, ignore=shutil.ignore_patterns("chat*", "skipped*", "failed*", "phase-6*"))
    run_s, run_mb = timed([*cm, "run", "--dump", str(dump), "--temp-dir", str(run_temp), "--database-url", url2])
    pgl = pgloader_time(dump, server, work) if with_pgloader else None
    return {
        "messages": n, "dump_mb": round(dump_mb, 1), "generate_s": round(gen_s, 2),
        "extract_s": round(ex_s, 2), "extract_mb_s": round(dump_mb / ex_s, 1),  # one pass: mysqldump writes booking and chat before message
        "create_s": round(cr_s, 2), "create_rows_s": round(migrated / cr_s), "validate_s": round(va_s, 2),
        "run_s": round(run_s, 2), "psql_copy_s": round(floor, 2), "create_vs_copy": round(cr_s / floor, 2),
        "run_vs_copy": round(run_s / floor, 2),
        "pgloader_s": None if pgl is None else round(pgl[0], 2),
        "mariadb_load_s": None if pgl is None else round(pgl[1], 2),
        "peak_rss_mb": {"extract": round(ex_mb), "create": round(cr_mb), "validate": round(va_mb), "run": round(run_mb)},
        "migrated_messages": migrated, "is_valid": valid,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                    help="a server where the benchmark may create databases cm_bench*")
    ap.add_argument("--no-pgloader", action="store_true")
    ap.add_argument("--run-only", action="store_true",
                    help="time only the whole run and the \\copy floor (for 10M messages)")
    ap.add_argument("--world", type=Path, default=None,
                    help="a `chatmigrate synth --out` folder made before (one size), instead of generating it")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        print(f"· {n:,} messages …", flush=True)
        if args.run_only:
            r = bench_run_only(n, args.database_url, args.world)
            print(json.dumps(r), flush=True)
            with open(ROOT / "bench" / "results.jsonl", "a") as fh:
                fh.write(json.dumps({"bench": "run-only", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                                     "command": " ".join(sys.argv),
                                     "machine": f"{platform.machine()} {os.cpu_count()} cores", **r}) + "\n")
            continue
        r = bench_size(n, args.database_url, not args.no_pgloader, args.world)
        rows.append(r)
        print(json.dumps(r), flush=True)
        with open(ROOT / "bench" / "results.jsonl", "a") as fh:
            fh.write(json.dumps({"bench": "run", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                                 "command": " ".join(sys.argv), "machine": f"{platform.machine()} {os.cpu_count()} cores",
                                 **r}) + "\n")
    if not rows:
        return
    print("\n| messages | dump MB | extract s (MB/s) | create s (rows/s) | psql \\copy s | create / \\copy "
          "| validate s | run s (÷ \\copy) | pgloader s (+ loading the dump into MariaDB) | peak RSS MB "
          "(extract/create/validate/run) | is_valid |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        p = r["peak_rss_mb"]
        pgl = "n/a" if r["pgloader_s"] is None else f"{r['pgloader_s']} (+{r['mariadb_load_s']})"
        print(f"| {r['messages']:,} | {r['dump_mb']} | {r['extract_s']} ({r['extract_mb_s']}) | {r['create_s']} "
              f"({r['create_rows_s']:,}) | {r['psql_copy_s']} | {r['create_vs_copy']}× | {r['validate_s']} | "
              f"{r['run_s']} ({r['run_vs_copy']}×) | {pgl} | {p['extract']}/{p['create']}/{p['validate']}/{p['run']} | {r['is_valid']} |")


if __name__ == "__main__":
    main()
