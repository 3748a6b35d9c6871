"""A real S3-compatible server for the image tests: moto's standalone server, one per session.

``s3_server`` starts ``python -m moto.server`` on 127.0.0.1 on a free port (recording on,
so a test can count the requests a run made) and stops it at the end. ``image_world``
is a migrated synthetic world (extract + create into a throw-away PostgreSQL) whose
image messages' legacy objects a test then places where it likes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from chatmigrate import planfiles as pf
from chatmigrate.postgres.db import seed_from_csv
from chatmigrate.steps.create import create
from chatmigrate.steps.extract import extract
from chatmigrate.storage.target import ENV_ENDPOINT, ENV_KEY_ID, ENV_REGION, ENV_SECRET, StorageConfig
from chatmigrate.synth import generate
from pgdb import PgDatabase, throwaway
from synthfiles import fresh_temp_dir

KEY_ID = "AKIAH9TESTKEYID00001"
SECRET = "h9-secret-access-key-never-shown-0123456789"
SOURCE_KEY_ID = "AKIAH9SOURCEKEY00002"
SOURCE_SECRET = "h9-source-secret-never-shown-9876543210"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class S3Server:
    endpoint: str

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def _api(self, path: str, data: bytes | None = None) -> bytes:
        req = urllib.request.Request(self.endpoint + "/moto-api/recorder/" + path, data=data,
                                     method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return bytes(resp.read())

    def start_recording(self) -> None:
        self._api("reset-recording", b"")
        self._api("start-recording", b"")

    def recorded(self) -> list[dict[str, Any]]:
        self._api("stop-recording", b"")
        lines = self._api("download-recording").decode().splitlines()
        return [json.loads(x) for x in lines if x.strip()]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    port = _free_port()
    env = {**os.environ, "MOTO_ENABLE_RECORDING": "true",
           "MOTO_RECORDER_FILEPATH": str(tmp_path_factory.mktemp("moto") / "recording.log")}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto's S3 server did not start", pytrace=False)
                time.sleep(0.1)
        yield S3Server(endpoint)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def synth_world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("imgworld"), messages=1500, seed=9)


@dataclass
class ImageWorld:
    db: PgDatabase
    temp: Path
    images: list[pf.r.PlannedMedia]  # the image messages create migrated
    source_bucket: str
    target_bucket: str
    endpoint: str

    def storage(self, **kw: Any) -> StorageConfig:
        return StorageConfig(self.endpoint, "us-east-1", KEY_ID, SECRET, kw.pop("bucket", self.target_bucket), **kw)

    def env(self) -> dict[str, str]:
        return {ENV_ENDPOINT: self.endpoint, ENV_REGION: "us-east-1", ENV_KEY_ID: KEY_ID, ENV_SECRET: SECRET,
                "AWS_ACCESS_KEY_ID": SOURCE_KEY_ID, "AWS_SECRET_ACCESS_KEY": SOURCE_SECRET,
                "AWS_DEFAULT_REGION": "us-east-1"}


_COUNTER = [0]


@pytest.fixture
def image_world(postgres: Any, s3_server: S3Server, synth_world: Any, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[ImageWorld]:
    _COUNTER[0] += 1
    tag = f"h9-{os.getpid()}-{_COUNTER[0]}"
    with throwaway("images") as db:
        seed_from_csv(db.url, synth_world.seed_dir)
        temp = fresh_temp_dir(synth_world, tmp_path)
        extract(str(synth_world.dump), temp)
        create(temp, db.url)
        media = pf.read_extracted(temp).media
        assert len(media) >= 20, "the world needs image messages"
        s3 = s3_server.client()
        src = "nabostylisten"  # the synth URLs' bucket: emptied for each test (the tests run one at a time)
        if src in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=src):
                for o in page.get("Contents", []):
                    s3.delete_object(Bucket=src, Key=o["Key"])
        else:
            s3.create_bucket(Bucket=src)
        s3.create_bucket(Bucket=f"dst-{tag}")
        world = ImageWorld(db, temp, media, src, f"dst-{tag}", s3_server.endpoint)
        for k, v in world.env().items():
            monkeypatch.setenv(k, v)
        yield world
        shutil.rmtree(temp, ignore_errors=True)
