"""Benchmark of the dump reader on a synthetic legacy dump (not part of the test suite).

Owns: generating a dump with ``chatmigrate.synth`` into ``bench/out/`` (gitignored),
timing ``scan_dump(path, ["chat", "message", "booking"], engine=...)`` with each reader
engine (the C extension ``native`` and the pure-Python ``python``), each in a fresh
Python process (so the peak RSS reported is the reader's alone, from the child's
``VmHWM``), printing MB/s, rows/s, peak RSS and dump size per engine, and appending one
JSON line per run (both engines) to ``bench/results.jsonl``. ``--repeat N`` keeps the
fastest of N processes per engine (the machine may be shared). Generation also runs in
its own process, so its speed (messages/s) and peak RSS are reported too.

Does not own: the reader or the generator; it only measures them.

    .venv/bin/python bench/bench_reader.py --messages 200000
    .venv/bin/python bench/bench_reader.py --messages 200000 --tables chat,message --repeat 3
    .venv/bin/python bench/bench_reader.py --messages 200000 --layout mariadb --engines python
    .venv/bin/python bench/bench_reader.py --size-gb 1          # flat memory on ~1 GB
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RESULTS = HERE / "results.jsonl"
CALIBRATION_MESSAGES = 20000

_CHILD_PRELUDE = r"""
import json, sys, time
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith(("VmHWM", "VmRSS")):
            yield line.split(":")[0], int(line.split()[1]) / 1024
"""

GENERATE_CHILD = _CHILD_PRELUDE + r"""
from pathlib import Path
from chatmigrate.synth import generate
args = json.loads(sys.argv[1])
t0 = time.perf_counter()
s = generate(Path(args["out"]), messages=args["messages"], seed=args["seed"], layout=args["layout"])
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "dump_bytes": s.dump_bytes, "chats": s.chats, **dict(hwm())}))
"""

READ_CHILD = _CHILD_PRELUDE + r"""
from chatmigrate.dump import scan_dump
args = json.loads(sys.argv[1])
before = dict(hwm())["VmRSS"]
t0 = time.perf_counter()
cpu0 = time.process_time()
reader = scan_dump(args["dump"], args["tables"], engine=args["engine"])
seconds = time.perf_counter() - t0
cpu = time.process_time() - cpu0
rows = {name: info.rows for name, info in reader.tables.items() if info.rows}
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)  # the whole process: start-up, imports and reading
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "process_cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "rows": rows, "rss_before_mb": before,
                  "completed": reader.completed, "engine": reader.engine, **dict(hwm())}))
"""


def _child(code: str, args: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"child process failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _generate(out: Path, messages: int, seed: int, layout: str, reuse: bool) -> dict[str, Any] | None:
    truth = out / "truth.json"
    if reuse and truth.exists():
        g = json.loads(truth.read_text())["generator"]
        if (g["messages"], g["seed"], g["layout"]) == (messages, seed, layout):
            return None
    return _child(GENERATE_CHILD, {"out": str(out), "messages": messages, "seed": seed, "layout": layout})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=200000, help="messages in the dump (default 200000)")
    ap.add_argument("--size-gb", type=float, help="instead of --messages: as many messages as make a dump this large")
    ap.add_argument("--layout", choices=("mysql8", "mariadb", "single"), default="mysql8",
                    help="single: one INSERT per row, as mysqldump --skip-extended-insert writes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tables", default="chat,message,booking", help="comma-separated, or 'all'")
    ap.add_argument("--reuse", action="store_true", help="keep an already generated dump with the same parameters")
    ap.add_argument("--no-record", action="store_true", help="do not append to bench/results.jsonl")
    ap.add_argument("--engines", default="native,python", help="reader engines to time, comma-separated")
    ap.add_argument("--repeat", type=int, default=1, help="time each engine in N fresh processes, keep the fastest")
    opts = ap.parse_args()

    messages = opts.messages
    if opts.size_gb:
        calib = OUT / f"calibrate-{opts.layout}"
        _generate(calib, CALIBRATION_MESSAGES, opts.seed, opts.layout, reuse=True)
        per_message = (calib / "legacy.sql").stat().st_size / CALIBRATION_MESSAGES
        messages = int(opts.size_gb * (1 << 30) / per_message)
        print(f"calibration: {per_message:.0f} bytes per message -> {messages:,} messages")

    out = OUT / f"{opts.layout}-{messages}-s{opts.seed}"
    print(f"generating {messages:,} messages ({opts.layout}) into {out.relative_to(HERE.parent)} ...", flush=True)
    gen = _generate(out, messages, opts.seed, opts.layout, opts.reuse)
    dump = out / "legacy.sql"
    size = dump.stat().st_size
    if gen:
        print(f"  generated in {gen['seconds']:.1f} s: {messages / gen['seconds']:,.0f} messages/s, "
              f"{size / gen['seconds'] / 1e6:.1f} MB/s, peak RSS {gen['VmHWM']:.0f} MB")
    else:
        print("  reused the existing dump")

    tables = None if opts.tables == "all" else opts.tables.split(",")
    print(f"  dump size   {size / 1e6:,.1f} MB")
    figures: dict[str, dict[str, Any]] = {}
    for engine in opts.engines.split(","):
        print(f"reading with scan_dump(path, {tables}, engine={engine!r}) in a fresh process"
              f"{f' (fastest of {opts.repeat})' if opts.repeat > 1 else ''} ...", flush=True)
        runs = [_child(READ_CHILD, {"dump": str(dump), "tables": tables, "engine": engine}) for _ in range(opts.repeat)]
        res = min(runs, key=lambda r: r["seconds"])
        cpu = min(r["cpu_seconds"] for r in runs)
        process_cpu = min(r["process_cpu_seconds"] for r in runs)
        rows = sum(res["rows"].values())
        mb_s = size / res["seconds"] / 1e6
        print(f"  time        {res['seconds']:.2f} s; CPU {cpu:.2f} s reading, {process_cpu:.2f} s the whole process")
        print(f"  throughput  {mb_s:.1f} MB/s, {rows / res['seconds']:,.0f} rows/s ({rows:,} rows: {res['rows']})")
        print(f"  per CPU s   {size / cpu / 1e6:.1f} MB/s reading, {size / process_cpu / 1e6:.1f} MB/s the whole process"
              " (one core; what a shared machine's wall time hides)")
        print(f"  peak RSS    {res['VmHWM']:.1f} MB (the process held {res['rss_before_mb']:.1f} MB before reading)")
        if not res["completed"]:
            print("  WARNING: the reader did not see the '-- Dump completed' trailer")
        figures[res["engine"]] = {
            "read_seconds": round(res["seconds"], 3),
            "read_cpu_seconds": round(cpu, 3),
            "process_cpu_seconds": round(process_cpu, 3),
            "read_mb_per_cpu_s": round(size / cpu / 1e6, 1),
            "process_mb_per_cpu_s": round(size / process_cpu / 1e6, 1),
            "read_mb_per_s": round(mb_s, 1),
            "read_rows_per_s": round(rows / res["seconds"]),
            "read_peak_rss_mb": round(res["VmHWM"], 1),
            "rss_before_read_mb": round(res["rss_before_mb"], 1),
            "rows": res["rows"],
        }
    if "native" in figures and "python" in figures:
        print(f"native / python: {figures['native']['read_mb_per_s'] / figures['python']['read_mb_per_s']:.1f}x")

    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/bench_reader.py", *map(shlex.quote, sys.argv[1:])]),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "layout": opts.layout,
        "messages": messages,
        "tables": tables,
        "dump_mb": round(size / 1e6, 1),
        "repeat": opts.repeat,
        "engines": figures,
    }
    if gen:
        record.update(generate_seconds=round(gen["seconds"], 2),
                      generate_messages_per_s=round(messages / gen["seconds"]),
                      generate_peak_rss_mb=round(gen["VmHWM"], 1))
    if not opts.no_record:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        print(f"appended to {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
