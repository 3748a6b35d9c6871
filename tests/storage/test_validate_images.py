"""Step 3 reports storage completeness: with storage configured, ``validate`` (and ``run``)
check every chat image of the run in the bucket; without it, the results say the images
were not checked and ``is_valid`` does not depend on them. Real PostgreSQL, moto's S3 server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chatmigrate import planfiles as pf
from chatmigrate.storage.source import parse_legacy_url
from chatmigrate.storage.target import ENV_ENDPOINT
from chatmigrate.synth.images import image_for

pytestmark = pytest.mark.postgres


def place(world, s3_server) -> dict[str, bytes]:
    """Put every image's legacy object in the source bucket; returns key -> bytes."""
    s3, placed = s3_server.client(), {}
    for i, md in enumerate(world.images):
        ref = parse_legacy_url(md.source_url)
        placed[md.file_path] = image_for(ref.key, i)
        s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=placed[md.file_path])
    return placed


def chatmigrate(*args, env):
    return subprocess.run([sys.executable, "-m", "chatmigrate", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=300)


def results(world):
    return json.loads((world.temp / pf.VALIDATION_RESULTS).read_text())


def test_validate_with_storage_counts_every_image_and_a_missing_or_changed_one_makes_it_invalid(
        image_world, s3_server, synth_world):
    w = image_world
    placed = place(w, s3_server)
    env = {**os.environ, **w.env()}
    common = ["--temp-dir", w.temp, "--database-url", w.db.url, "--bucket", w.target_bucket]
    ran = chatmigrate("run", "--dump", synth_world.dump, *common, env=env)
    assert ran.returncode == 0, ran.stderr
    before = results(w)  # run validates before any image is copied: every image unverified, not an error
    assert before["is_valid"] is True and before["images_checked"] == len(placed)
    assert before["images_unverified_total"] == len(placed) and before["images_missing"] == []
    copied = chatmigrate("images", *common, "--source-endpoint", s3_server.endpoint, env=env)
    assert copied.returncode == 0, copied.stderr

    ok = chatmigrate("validate", "--dump", synth_world.dump, *common, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    doc = results(w)
    assert doc["is_valid"] is True and doc["validation_errors"] == []
    assert f"{len(placed)} of {len(placed)} in place; missing 0, mismatched 0, never copied 0" in ok.stdout
    assert doc["images"] == f"checked in storage {w.endpoint} bucket {w.target_bucket}"
    assert (doc["images_checked"], doc["images_in_place"]) == (len(placed), len(placed))
    for key in ("images_missing", "images_mismatched", "images_unverified"):
        assert (doc[key], doc[f"{key}_total"], doc[f"{key}_truncated"]) == ([], 0, False)

    gone, changed = w.images[0].file_path, w.images[1].file_path
    s3 = s3_server.client()
    s3.delete_object(Bucket=w.target_bucket, Key=gone)
    s3.put_object(Bucket=w.target_bucket, Key=changed, Body=placed[changed] + b"x")
    bad = chatmigrate("validate", "--dump", synth_world.dump, *common, env=env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    doc = results(w)
    assert doc["is_valid"] is False and doc["images_checked"] == len(placed)
    assert (doc["images_missing"], doc["images_missing_total"]) == ([gone], 1)
    assert (doc["images_mismatched"], doc["images_mismatched_total"]) == ([changed], 1)
    assert doc["images_in_place"] == len(placed) - 2 and "missing 1, mismatched 1" in bad.stdout
    (error,) = doc["validation_errors"]
    assert error.startswith(f"2 of {len(placed)} chat images are not in storage {w.endpoint}")
    assert "1 missing, 1 with another size or MD5" in error and "run `chatmigrate images`" in error


def test_validate_without_storage_says_the_images_were_not_checked_and_stays_valid(image_world, synth_world):
    w = image_world  # created, but no image copied: checking storage would find every one unverified
    env = {k: v for k, v in {**os.environ, **w.env()}.items() if k != ENV_ENDPOINT}
    res = chatmigrate("validate", "--dump", synth_world.dump, "--temp-dir", w.temp, "--database-url", w.db.url,
                      env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = results(w)
    assert doc["images"] == "not checked (no storage configured)" and doc["is_valid"] is True
    assert not [k for k in doc if k.startswith("images_")]
    assert "chat images: not checked (no storage configured)" in res.stdout


def test_validate_with_storage_refuses_a_missing_bucket_before_checking_anything(image_world, synth_world):
    w = image_world
    res = chatmigrate("validate", "--dump", synth_world.dump, "--temp-dir", w.temp, "--database-url", w.db.url,
                      "--bucket", "absent-h11", env={**os.environ, **w.env()})
    assert res.returncode == 2 and "the bucket 'absent-h11' does not exist" in res.stderr
    assert "Traceback" not in res.stderr and not (w.temp / pf.VALIDATION_RESULTS).exists()
