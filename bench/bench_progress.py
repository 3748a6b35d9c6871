#!/usr/bin/env python3
"""How long the operator's screen goes without an updating progress line, through a whole ``run``.

    .venv/bin/python bench/bench_progress.py                  # 200,000 messages
    .venv/bin/python bench/bench_progress.py --messages 1000000

Generates a synthetic world, seeds a fresh target database (``cm_bench_progress``), runs
``chatmigrate run --log-file`` on it, and reads the event log: every ``task_started``,
``task_progress`` (at most one a second while a task's count moves) and ``task_finished``
is a moment the progress line changed. Prints the longest stretches between two such
events, with the task they fell in (a task without a known total shows a spinner and its
elapsed time, but no count, so its whole duration counts as a stretch here). The goal
(issue 13): no stretch longer than 2 s. Results are appended to bench/results.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import OUT, PY, ROOT, prepared_target

TICKS = ("task_started", "task_progress", "task_finished", "command_started", "command_finished")


def stretches(log: Path) -> list[tuple[float, str]]:
    """(seconds without a progress event, the task open meanwhile), longest first."""
    last_ts: float | None = None
    label = "(between tasks)"
    found: list[tuple[float, str]] = []
    for line in log.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        if e["event"] not in TICKS:
            continue
        ts = datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
        if last_ts is not None:
            found.append((round(ts - last_ts, 2), label))
        last_ts = ts
        if e["event"] == "task_started":
            label = e["label"]
        elif e["event"] == "task_finished":
            label = "(between tasks, after " + e["label"] + ")"
    return sorted(found, reverse=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--show", type=int, default=8)
    args = ap.parse_args()
    work = OUT / f"progress-{args.messages}"
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([PY, "-m", "chatmigrate", "synth", "--out", str(work), "--messages", str(args.messages)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = prepared_target(args.database_url, "cm_bench_progress", work / "seed")
    log = work / "run-events.jsonl"
    t = time.perf_counter()
    proc = subprocess.run([PY, "-m", "chatmigrate", "run", "--dump", str(work / "legacy.sql"), "--temp-dir",
                           str(work / "temp"), "--database-url", url, "--json", "--log-file", str(log)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"run exited {proc.returncode}: {proc.stderr[-2000:]}")
    found = stretches(log)
    longest = found[0] if found else (0.0, "")
    over = [s for s in found if s[0] > 2.0]
    print(f"run of {args.messages:,} messages: {wall:.1f} s; {len(found)} progress events; longest stretch without "
          f"one {longest[0]} s ({longest[1]}); {len(over)} stretches over 2 s, {sum(s for s, _ in over):.1f} s in all")
    for sec, label in found[:args.show]:
        print(f"  {sec:6.2f} s  {label}")
    with open(ROOT / "bench" / "results.jsonl", "a") as fh:
        fh.write(json.dumps({"bench": "progress", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                             "command": " ".join(sys.argv), "machine": f"{platform.machine()} {os.cpu_count()} cores",
                             "messages": args.messages, "run_s": round(wall, 2), "events": len(found),
                             "longest_s": longest[0], "longest_in": longest[1], "over_2s": len(over),
                             "over_2s_total_s": round(sum(s for s, _ in over), 2),
                             "top": found[:args.show]}) + "\n")


if __name__ == "__main__":
    main()
