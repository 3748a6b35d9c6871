"""The legacy images: a legacy S3 URL → (bucket, key), read by S3 GetObject or from a folder.

Owns: parsing the URLs the legacy app stored (virtual-hosted
``https://BUCKET.s3[.-]REGION.amazonaws.com/KEY`` and path style
``https://s3[.-]REGION.amazonaws.com/BUCKET/KEY``), the key kept verbatim -- a double
slash after ``Chat-Images`` is part of it -- except for one percent-decoding (the URL's
path is the key percent-encoded, as S3 itself resolves it; ``+`` stays ``+``); and two
sources behind one small interface: :class:`S3Source` (GetObject through the standard
AWS credential chain, or ``--source-endpoint`` for another S3-compatible server) and
:class:`DirSource` (``DIR/KEY``, never outside ``DIR``).

Does not own: checks (``checks``), the target (``target``), the pool (``copy``).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_VHOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])\.s3(?:[.\-](?P<region>[a-z0-9\-]+))?"
                    r"\.amazonaws\.com$")
_PATH = re.compile(r"^s3(?:[.\-](?P<region>[a-z0-9\-]+))?\.amazonaws\.com$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class SourceRef:
    bucket: str
    key: str
    region: str | None  # from the host name; None: the bucket's default (us-east-1 addressing)


def parse_legacy_url(url: str) -> SourceRef | str:
    """The object a legacy image URL names, or the reason it names none (one phrase)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        return "the message's URL is not an http(s) URL"
    if parts.query or parts.fragment:
        return "the URL has a query or fragment, which an S3 object URL of the legacy app never has"
    path = parts.path
    m = _VHOST.match(host)
    if m:
        bucket, key, region = m["bucket"], path[1:], m["region"]
    else:
        p = _PATH.match(host)
        if not p:
            return f"the host {host!r} is not an S3 host (BUCKET.s3[.REGION].amazonaws.com or s3[.REGION].amazonaws.com)"
        bucket, _, key = path[1:].partition("/")
        region = p["region"]
    if region in (None, "external-1", "us-east-1"):
        region = None if region is None else "us-east-1"
    key = unquote(key)
    if not bucket or not key or key.endswith("/"):
        return "the URL names no object key"
    return SourceRef(bucket, key, region)


@dataclass(frozen=True, slots=True)
class SourceStat:
    size: int
    md5: str | None  # hex, when the source knows it without a read (a single-part ETag, a file's hash)


class Source(Protocol):
    where: str  # shown in messages: the endpoint or folder, never a secret

    def stat(self, ref: SourceRef) -> SourceStat | None:
        """The object's size (and MD5 when cheap), or None when it does not exist."""

    def open(self, ref: SourceRef) -> Any:
        """A context manager yielding a binary stream of the object (raises FileNotFoundError)."""


class DirSource:
    """``DIR/KEY``: a copy of the legacy bucket on disk (``--source-dir``; the synth world)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.where = f"source folder {root}"

    def path(self, ref: SourceRef) -> Path:
        p = (self.root / ref.key.lstrip("/")).resolve()
        if p != self.root and self.root not in p.parents:
            raise FileNotFoundError(f"the key {ref.key!r} leads outside {self.root}")
        return p

    def stat(self, ref: SourceRef) -> SourceStat | None:
        try:
            p = self.path(ref)
            if not p.is_file():
                return None
            h = hashlib.md5(usedforsecurity=False)
            with open(p, "rb") as fh:
                while block := fh.read(1 << 16):
                    h.update(block)
            return SourceStat(os.path.getsize(p), h.hexdigest())
        except FileNotFoundError:
            return None

    @contextmanager
    def open(self, ref: SourceRef) -> Iterator[BinaryIO]:
        with open(self.path(ref), "rb") as fh:
            yield fh


def etag_md5(etag: str | None) -> str | None:
    """The MD5 an ETag is (a single-part upload's), else None (multipart, encrypted with KMS)."""
    tag = (etag or "").strip('"').lower()
    return tag if _MD5.match(tag) else None


def not_found(exc: Exception) -> bool:
    resp: dict[str, Any] = getattr(exc, "response", None) or {}
    code = str(resp.get("Error", {}).get("Code", ""))
    status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket") or status == 404


class S3Source:
    """S3 GetObject through the standard AWS credential chain (env, profile, instance role);
    ``endpoint`` sends every request to another S3-compatible server instead."""

    def __init__(self, endpoint: str | None, config: Any) -> None:
        self.endpoint = endpoint
        self.where = f"source {endpoint}" if endpoint else "source S3"
        self._config = config
        self._clients: dict[str | None, S3Client] = {}
        self._lock = threading.Lock()

    def client(self, region: str | None) -> S3Client:
        import boto3

        region = None if self.endpoint else region
        with self._lock:  # creating clients is not thread-safe; using one is
            if region not in self._clients:
                session = boto3.session.Session()
                self._clients[region] = session.client(
                    "s3", endpoint_url=self.endpoint, region_name=region or os.environ.get("AWS_REGION") or
                    os.environ.get("AWS_DEFAULT_REGION") or "us-east-1", config=self._config)
            return self._clients[region]

    def stat(self, ref: SourceRef) -> SourceStat | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client(ref.region).head_object(Bucket=ref.bucket, Key=ref.key)
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return SourceStat(int(head["ContentLength"]), etag_md5(head.get("ETag")))

    @contextmanager
    def open(self, ref: SourceRef) -> Iterator[Any]:
        from botocore.exceptions import ClientError

        try:
            body = self.client(ref.region).get_object(Bucket=ref.bucket, Key=ref.key)["Body"]
        except ClientError as exc:
            if not_found(exc):
                raise FileNotFoundError(ref.key) from None
            raise
        try:
            yield body
        finally:
            body.close()
