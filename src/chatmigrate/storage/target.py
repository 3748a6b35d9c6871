"""Supabase Storage through its S3 protocol: the bucket check, HEAD, an atomic PUT, DELETE.

Owns: the target's configuration (``--storage-endpoint`` / ``CHATMIGRATE_STORAGE_ENDPOINT``,
``--storage-region`` / ``CHATMIGRATE_STORAGE_REGION``, the key pair from
``CHATMIGRATE_STORAGE_ACCESS_KEY_ID`` / ``CHATMIGRATE_STORAGE_SECRET_ACCESS_KEY``, never
shown: :meth:`StorageConfig.scrub` removes both key pairs' values from any text), the
boto3 client settings every request uses (path-style addressing, which Supabase needs;
per-request connect/read timeouts; retries with exponential backoff on throttling, 5xx and
timeouts: botocore's ``standard`` mode), refusing a missing bucket, and the object
calls. A PUT carries Content-MD5, so the server stores the bytes only when they arrive
whole: no partial or corrupt object is ever visible.

Does not own: what to copy (``copy``), the legacy side (``source``).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import StorageBucketMissing, StorageError, UsageError
from .source import etag_md5, not_found

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ENV_ENDPOINT = "CHATMIGRATE_STORAGE_ENDPOINT"
ENV_REGION = "CHATMIGRATE_STORAGE_REGION"
ENV_KEY_ID = "CHATMIGRATE_STORAGE_ACCESS_KEY_ID"
ENV_SECRET = "CHATMIGRATE_STORAGE_SECRET_ACCESS_KEY"  # noqa: S105 -- the variable's name, not a secret
DEFAULT_BUCKET = "chat-media"
MD5_METADATA = "md5"  # x-amz-meta-md5: the source's MD5, hex


def client_config(timeout: float) -> Any:
    from botocore.config import Config

    # checksums only where required: the PUT carries its own Content-MD5, and S3-compatible servers
    # (Supabase Storage among them) need not accept the SDK's newer default trailing checksums
    return Config(connect_timeout=min(timeout, 10.0), read_timeout=timeout, max_pool_connections=64,
                  retries={"max_attempts": 6, "mode": "standard"}, s3={"addressing_style": "path"},
                  request_checksum_calculation="when_required", response_checksum_validation="when_required")


@dataclass(frozen=True, slots=True)
class StorageConfig:
    endpoint: str
    region: str
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    bucket: str = DEFAULT_BUCKET
    timeout: float = 60.0

    @classmethod
    def from_options(cls, endpoint: str | None, region: str | None, bucket: str = DEFAULT_BUCKET,
                     timeout: float = 60.0, env: dict[str, str] | None = None) -> StorageConfig:
        e = os.environ if env is None else env
        endpoint = endpoint or e.get(ENV_ENDPOINT)
        region = region or e.get(ENV_REGION)
        key_id, secret = e.get(ENV_KEY_ID), e.get(ENV_SECRET)
        missing = [name for name, v in ((f"--storage-endpoint or {ENV_ENDPOINT}", endpoint),
                                        (f"--storage-region or {ENV_REGION}", region),
                                        (ENV_KEY_ID, key_id), (ENV_SECRET, secret)) if not v]
        if missing:
            raise UsageError(f"images needs Supabase Storage's S3 settings: set {', '.join(missing)} "
                             "(Supabase Studio → Project Settings → Storage → S3 connection and access keys).")
        assert endpoint and region and key_id and secret
        return cls(endpoint.rstrip("/"), region, key_id, secret, bucket, timeout)

    @property
    def where(self) -> str:
        return f"storage {self.endpoint} bucket {self.bucket}"

    def secrets(self) -> list[str]:
        """Every secret value that must never be shown: this pair and the source's (AWS_*)."""
        vals = [self.access_key_id, self.secret_access_key,
                os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
                os.environ.get("AWS_SESSION_TOKEN", "")]
        return [v for v in vals if len(v) >= 4]

    def scrub(self, text: str) -> str:
        for v in self.secrets():
            text = text.replace(v, "***")
        return text

    def client(self) -> S3Client:
        import boto3

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=self.region, aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key, config=client_config(self.timeout))


@dataclass(frozen=True, slots=True)
class Present:
    size: int
    md5: str | None  # from our metadata, else a single-part ETag


class Target:
    def __init__(self, cfg: StorageConfig) -> None:
        self.cfg = cfg
        self.s3 = cfg.client()
        self.bucket = cfg.bucket

    def require_bucket(self) -> None:
        """Refuse a missing bucket (never created here) or credentials the server refuses."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if not_found(exc):
                raise StorageBucketMissing(self.cfg.where, self.bucket) from None
            code = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise StorageError(self.cfg.where, f"the server refused access to the bucket (HTTP {code})",
                               f"check {ENV_KEY_ID} and {ENV_SECRET} and the region; nothing was copied") from None
        except BotoCoreError as exc:
            raise StorageError(self.cfg.where, f"cannot be reached ({self.cfg.scrub(str(exc))})",
                               "check --storage-endpoint and that the server is up; nothing was copied") from None

    def head(self, key: str) -> Present | None:
        from botocore.exceptions import ClientError

        try:
            h = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        md5 = (h.get("Metadata") or {}).get(MD5_METADATA) or etag_md5(h.get("ETag"))
        return Present(int(h["ContentLength"]), md5)

    def put(self, key: str, body: BinaryIO, size: int, md5_hex: str, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentLength=size,
                           ContentMD5=base64.b64encode(bytes.fromhex(md5_hex)).decode(),
                           ContentType=content_type, Metadata={MD5_METADATA: md5_hex})

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)
