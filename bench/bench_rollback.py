#!/usr/bin/env python3
"""Benchmark of rollback against create, on a media table that holds other rows too.

    .venv/bin/python bench/bench_rollback.py                          # 1M messages, 1M other media rows
    .venv/bin/python bench/bench_rollback.py --messages 200000 --other-media 200000 --all

For each run: generate a synthetic world (``chatmigrate synth``), create a uniquely named
database on the server (``cm_bench_rb_<random>``, dropped at the end unless --keep), give
it the Supabase-shaped tables and the world's Phase 1-4 rows (``chatmigrate schema``,
``chatmigrate seed``), migrate it (``extract``, then ``create`` with the plan's indexes,
timed), add ``--other-media`` media rows that are not the migration's (avatars and
service images, as a production ``media`` table holds), then time ``chatmigrate
rollback`` (of the run; with ``--all`` the full wipe, ``--all --yes``) and check that the
other media rows are all still there and the migration's rows are gone.

Prints create and rollback seconds; appends them to bench/results.jsonl with the command.
Not part of the test suite: timings are measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CM = [sys.executable, "-m", "chatmigrate"]


def step(args: list[str], env: dict[str, str]) -> float:
    """Run one chatmigrate command; its wall seconds (it must succeed)."""
    t = time.perf_counter()
    proc = subprocess.run([*CM, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"chatmigrate {args[0]} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall


def with_db(server: str, name: str) -> str:
    params = conninfo.conninfo_to_dict(server)
    params["dbname"] = name
    return conninfo.make_conninfo(**params)


OTHER_MEDIA = """
WITH p AS (SELECT array_agg(id) AS ids FROM (SELECT id FROM public.profiles ORDER BY id LIMIT 1000) s)
INSERT INTO public.media (owner_id, file_path, media_type, created_at)
SELECT p.ids[1 + g %% cardinality(p.ids)], 'bench/' || g || '.jpg',
       (ARRAY['avatar', 'service_image', 'review_image'])[1 + g %% 3]::public.media_type,
       now() - g * interval '1 second'
FROM generate_series(1, %s) g, p
"""


def bench(messages: int, other: int, server: str, everything: bool, keep: bool,
          prefix: str = "cm_bench_rb_") -> dict[str, object]:
    work = OUT / f"rollback-{messages}"
    shutil.rmtree(work, ignore_errors=True)
    name = f"{prefix}{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_db(server, name)
    env = {**os.environ, "DATABASE_URL": url}
    try:
        synth_s = step(["synth", "--out", str(work), "--messages", str(messages)], env)
        temp = work / "temp"
        step(["schema"], env)
        step(["seed", "--from", str(work)], env)
        extract_s = step(["extract", "--dump", str(work / "legacy.sql"), "--temp-dir", str(temp)], env)
        create_s = step(["create", "--temp-dir", str(temp)], env)
        with psycopg.connect(url, autocommit=True) as c:
            t = time.perf_counter()
            c.execute(OTHER_MEDIA, (other,))
            c.execute("ANALYZE public.media")
            other_s = time.perf_counter() - t
            migrated = c.execute("SELECT (SELECT count(*) FROM public.chat_messages), (SELECT count(*) FROM "
                                 "public.media WHERE media_type = 'chat_image')").fetchone()
            assert migrated is not None
        args = ["rollback", "--temp-dir", str(temp)] + (["--all", "--yes"] if everything else [])
        rollback_s = step(args, env)
        with psycopg.connect(url, autocommit=True) as c:
            left = c.execute("SELECT (SELECT count(*) FROM public.chat_messages), (SELECT count(*) FROM "
                             "public.media WHERE media_type = 'chat_image'), (SELECT count(*) FROM public.media "
                             "WHERE media_type <> 'chat_image'), (SELECT count(*) FROM pg_indexes WHERE "
                             "indexname LIKE 'idx_%%' OR indexname LIKE 'cm_rollback_%%')").fetchone()
            assert left is not None
        if tuple(left) != (0, 0, other, 0):
            raise SystemExit(f"after rollback: {left[0]} messages, {left[1]} chat images, {left[2]} of {other} "
                             f"other media, {left[3]} plan/rollback indexes left")
    finally:
        if not keep:
            with psycopg.connect(server, autocommit=True) as c:
                c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return {"database": name, "messages": messages, "migrated_messages": int(migrated[0]), "migrated_media": int(migrated[1]),
            "other_media": other, "all": everything, "synth_s": round(synth_s, 2), "extract_s": round(extract_s, 2),
            "create_s": round(create_s, 2), "other_media_insert_s": round(other_s, 2),
            "rollback_s": round(rollback_s, 2), "rollback_vs_create": round(rollback_s / create_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--other-media", type=int, default=1_000_000, help="media rows that are not the migration's")
    ap.add_argument("--all", dest="everything", action="store_true", help="time rollback --all --yes instead")
    ap.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                    help="a server where the benchmark may create a database cm_bench_rb_*")
    ap.add_argument("--name-prefix", default="cm_bench_rb_", help="the database's name: this and a random suffix")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    r = bench(args.messages, args.other_media, args.database_url, args.everything, args.keep, args.name_prefix)
    print(json.dumps(r), flush=True)
    if args.keep:
        print(f"kept database {r['database']}")
    with open(ROOT / "bench" / "results.jsonl", "a") as fh:
        fh.write(json.dumps({"bench": "rollback", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                             "command": " ".join(["bench/bench_rollback.py", *sys.argv[1:]]),
                             "machine": f"{platform.machine()} {os.cpu_count()} cores", **r}) + "\n")
    print(f"create {r['create_s']} s, rollback {r['rollback_s']} s ({r['rollback_vs_create']}× create)")


if __name__ == "__main__":
    main()
