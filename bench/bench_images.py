"""Benchmark of ``chatmigrate images`` against a local moto S3 server (not part of the test suite).

Owns: a synthetic world (``synth``, ``--messages``) extracted and created into a throw-away
PostgreSQL database (``h9_bench_images_*``, dropped afterwards), every image message's
legacy object put into a moto source bucket at ``--image-kb`` KB each, then
``chatmigrate images --workers N`` run in a fresh process, timed, with its peak RSS (the
child's ``ru_maxrss``); prints images/s and MB/s and appends one JSON line to
``bench/results.jsonl``.

    .venv/bin/python bench/bench_images.py --messages 40000 --image-kb 200 --workers 16
    .venv/bin/python bench/bench_images.py --messages 3000 --image-kb 5000 --workers 16   # memory vs image size
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import psycopg

from chatmigrate import planfiles as pf
from chatmigrate.postgres.db import create_schema, seed_from_csv
from chatmigrate.steps.create import create
from chatmigrate.steps.extract import extract
from chatmigrate.storage.source import parse_legacy_url
from chatmigrate.synth import generate
from chatmigrate.synth.images import image_for, jpeg

HERE = Path(__file__).resolve().parent
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=40000)
    ap.add_argument("--image-kb", type=int, default=200)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="h9-bench-images-"))
    world = generate(work / "world", messages=args.messages, seed=5)
    temp = work / "temp"
    temp.mkdir()
    for name in ("user-id-mapping.json", "bookings-created.json"):
        (temp / name).write_bytes((world.temp_dir / name).read_bytes())
    dbname = f"h9_bench_images_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        create_schema(url)
        seed_from_csv(url, world.seed_dir)
        extract(str(world.dump), temp)
        create(temp, url)
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k",
                          aws_secret_access_key="s")
        s3.create_bucket(Bucket="nabostylisten")
        s3.create_bucket(Bucket="chat-media")
        media = pf.read_extracted(temp).media
        size = args.image_kb * 1024
        total = 0
        for i, md in enumerate(media):
            ref = parse_legacy_url(md.source_url)
            assert not isinstance(ref, str)
            data = jpeg(size, i) if ref.key.endswith((".jpeg", ".jpg")) else image_for(ref.key, i) + bytes(size)
            s3.put_object(Bucket="nabostylisten", Key=ref.key, Body=data)
            total += len(data)
        env = {**os.environ, "CHATMIGRATE_STORAGE_ENDPOINT": endpoint, "CHATMIGRATE_STORAGE_REGION": "us-east-1",
               "CHATMIGRATE_STORAGE_ACCESS_KEY_ID": "k", "CHATMIGRATE_STORAGE_SECRET_ACCESS_KEY": "s",
               "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
        cmd = [str(Path(sys.executable).parent / "chatmigrate"), "images", "--temp-dir", str(temp),
               "--database-url", url, "--source-endpoint", endpoint, "--workers", str(args.workers)]
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=False, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        doc = pf.read_images_copied(temp)
        t = doc["totals"]
        rec = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": "bench/bench_images.py " + shlex.join(sys.argv[1:]),
            "python": platform.python_version(), "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
            "images": t["images"], "copied": t["copied"], "image_kb": args.image_kb, "workers": args.workers,
            "seconds": round(seconds, 2), "images_per_s": round(t["images"] / seconds, 1),
            "mb_per_s": round(t["bytes_copied"] / seconds / 1e6, 2), "copied_mb": round(t["bytes_copied"] / 1e6, 1),
            "peak_rss_mb": round(rss_mb, 1), "totals": t,
        }
        print(json.dumps(rec))
        with open(HERE / "results.jsonl", "a") as fh:
            fh.write(json.dumps(rec) + "\n")
    finally:
        moto.terminate()
        moto.wait(10)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
