"""A throw-away S3-compatible server for the demo: moto's standalone server (``moto[server]``).

Owns: starting ``python -m moto.server`` on 127.0.0.1 on a free port, waiting until it
answers, creating the demo's bucket, and stopping the server (the process this started,
by its id) when the block ends. Its keys are dummies: moto checks none.

Does not own: the copy (``steps.images``), the demo (``demo``).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import StorageError
from .target import StorageConfig

DEMO_KEY_ID = "chatmigrate-demo"
DEMO_SECRET = "chatmigrate-demo-not-a-secret"  # noqa: S105 -- moto accepts any key


def available() -> bool:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def moto_storage(bucket: str = "chat-media") -> Iterator[StorageConfig]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()  # noqa: S310 -- our own server
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise StorageError(f"moto server at {endpoint}", "did not start",
                                       "install the demo extra (pip install 'chatmigrate[demo]')") from None
                time.sleep(0.1)
        cfg = StorageConfig(endpoint, "us-east-1", DEMO_KEY_ID, DEMO_SECRET, bucket)
        cfg.client().create_bucket(Bucket=bucket)
        yield cfg
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
