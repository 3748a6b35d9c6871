"""The pure rules of the image copy: legacy URLs → (bucket, key), magic bytes, extensions, size."""

from __future__ import annotations

import pytest

from chatmigrate.storage.checks import Limits, sniff, type_problem
from chatmigrate.storage.source import SourceRef, parse_legacy_url
from chatmigrate.synth.images import gif, jpeg, png, webp

CHAT = "0b6f2c4e-0000-4000-8000-000000000001"


@pytest.mark.parametrize(("url", "expected"), [
    # virtual-hosted, with and without a region; the double slash after Chat-Images is part of the key
    (f"https://nabostylisten.s3.eu-north-1.amazonaws.com/Chat-Images//{CHAT}/a.jpeg",
     SourceRef("nabostylisten", f"Chat-Images//{CHAT}/a.jpeg", "eu-north-1")),
    (f"https://nabostylisten.s3.amazonaws.com/Chat-Images//{CHAT}/a.png",
     SourceRef("nabostylisten", f"Chat-Images//{CHAT}/a.png", None)),
    ("https://my.bucket.s3-eu-west-1.amazonaws.com/x/y.gif", SourceRef("my.bucket", "x/y.gif", "eu-west-1")),
    # path style
    ("https://s3.eu-north-1.amazonaws.com/nabostylisten/Chat-Images//c/b.webp",
     SourceRef("nabostylisten", "Chat-Images//c/b.webp", "eu-north-1")),
    ("https://s3.amazonaws.com/nabostylisten/k.jpg", SourceRef("nabostylisten", "k.jpg", None)),
    # percent-decoding: once, as S3 resolves the URL's path; '+' stays '+'
    ("https://bk1.s3.amazonaws.com/Chat-Images//c/my%20photo+1.jpg", SourceRef("bk1", "Chat-Images//c/my photo+1.jpg", None)),
    ("https://bk1.s3.amazonaws.com/a%2525b.jpg", SourceRef("bk1", "a%25b.jpg", None)),
    ("  https://bk1.s3.amazonaws.com/k.jpg\n", SourceRef("bk1", "k.jpg", None)),
])
def test_a_legacy_url_names_its_bucket_and_key(url, expected):
    assert parse_legacy_url(url) == expected


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://bk1.s3.amazonaws.com/k.jpg", "not an http(s) URL"),
    ("https://example.com/k.jpg", "is not an S3 host"),
    ("https://bk1.s3.amazonaws.com/", "names no object key"),
    ("https://s3.amazonaws.com/bucket-only", "names no object key"),
    ("https://bk1.s3.amazonaws.com/k.jpg?X-Amz-Signature=1", "query or fragment"),
    ("not a url", "not an http(s) URL"),
])
def test_a_url_that_names_no_legacy_object_is_refused_with_the_reason(url, reason):
    got = parse_legacy_url(url)
    assert isinstance(got, str) and reason in got


@pytest.mark.parametrize(("data", "kind"), [
    (jpeg(), "image/jpeg"), (png(), "image/png"), (webp(), "image/webp"), (gif(), "image/gif"),
    (b"GIF87a" + b"\x00" * 10, "image/gif"), (b"%PDF-1.7\n", None), (b"", None), (b"RIFF\x00\x00\x00\x00WAVE", None),
    (b"<html>", None),
])
def test_the_content_type_comes_from_the_magic_bytes(data, kind):
    assert sniff(data[:16]) == kind


@pytest.mark.parametrize(("data", "name", "problem"), [
    (jpeg(), "a/b.jpeg", None), (jpeg(), "a/b.JPG", None), (png(), "b.png", None), (webp(), "b.webp", None),
    (gif(), "b.gif", None),
    (png(), "b.jpeg", "the content is image/png but the extension '.jpeg' says image/jpeg"),
    (jpeg(), "b.heic", "the extension '.heic'"),
    (jpeg(), "b", "no extension"),
    (b"<html>denied</html>", "b.jpeg", "not a JPEG, PNG, WebP or GIF image (it starts with the bytes 3c 68 74 6d"),
    (b"", "b.png", "(it is empty)"),
])
def test_the_type_must_be_allowed_and_agree_with_the_extension(data, name, problem):
    _, reason = type_problem(data[:16], name)
    assert (reason is None) if problem is None else (reason is not None and problem in reason)


def test_the_size_limit_is_five_mebibytes_by_default_and_inclusive():
    limits = Limits()
    assert limits.max_bytes == 5 * 1024 * 1024
    assert limits.size_problem(5 * 1024 * 1024) is None
    assert limits.size_problem(5 * 1024 * 1024 + 1) == "5,242,881 bytes is more than the bucket's limit of 5,242,880 bytes"
