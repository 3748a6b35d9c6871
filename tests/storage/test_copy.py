"""``chatmigrate images`` against a real S3-compatible server (moto's standalone server).

Every chat image the run migrated is copied to its media row's file_path, checked first
(type by magic bytes and extension, size); a re-run issues no PUT; a kill -9 mid-copy
is resumed with no corrupt object; two runs at once agree; rollback removes only what
was copied; no secret ever appears in output or files.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chatmigrate.errors import StorageBucketMissing
from chatmigrate.steps.images import images, rollback_images, verify
from chatmigrate.storage.checks import Limits
from chatmigrate.storage.source import parse_legacy_url
from chatmigrate.synth.images import image_for, jpeg, png

pytestmark = pytest.mark.postgres


def place(world, s3_server, *, skip=(), override=None) -> dict[str, bytes]:
    """Put every image's legacy object in the source bucket (but ``skip``); returns key -> bytes."""
    s3 = s3_server.client()
    placed = {}
    for i, md in enumerate(world.images):
        ref = parse_legacy_url(md.source_url)
        if md.message_id in skip:
            continue
        data = (override or {}).get(md.message_id) or image_for(ref.key, i)
        s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=data)
        placed[md.file_path] = data
    return placed


def target_objects(world, s3_server) -> dict[str, bytes]:
    s3 = s3_server.client()
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=world.target_bucket)
            for o in p.get("Contents", [])]
    return {k: s3.get_object(Bucket=world.target_bucket, Key=k)["Body"].read() for k in keys}


def test_every_image_is_copied_to_its_file_path_and_each_violation_is_reported(image_world, s3_server):
    w = image_world
    missing, big, html, mismatch = (m.message_id for m in w.images[:4])
    ext = {m.message_id: m.file_path.rsplit(".", 1)[-1] for m in w.images}
    override = {big: jpeg(3000) if ext[big] != "png" else png(40, 40), html: b"<html>AccessDenied</html>",
                mismatch: png() if ext[mismatch] != "png" else jpeg()}
    placed = place(w, s3_server, skip={missing}, override=override)
    res = images(w.temp, w.db.url, w.storage(), source_endpoint=s3_server.endpoint, workers=8,
                 limits=Limits(max_bytes=2500))
    by_id = {r.message_id: r for r in res.results}
    assert by_id[missing].outcome == "source_missing" and "no object" in by_id[missing].reason
    assert by_id[big].outcome == "too_large" and "limit of 2,500 bytes" in by_id[big].reason
    assert by_id[html].outcome == "wrong_type" and "not a JPEG, PNG, WebP or GIF" in by_id[html].reason
    assert by_id[mismatch].outcome == "wrong_type" and "but the extension" in by_id[mismatch].reason
    good = [m for m in w.images if m.message_id not in (missing, big, html, mismatch)]
    assert {by_id[m.message_id].outcome for m in good} == {"copied"}
    assert not res.success and res.totals["copied"] == len(good) and res.totals["images"] == len(w.images)
    stored = target_objects(w, s3_server)
    assert stored == {m.file_path: placed[m.file_path] for m in good}  # byte for byte, at the row's file_path
    doc = json.loads(res.report.read_text())
    assert stat.S_IMODE(res.report.stat().st_mode) == 0o600
    item = next(x for x in doc["images"] if x["message_id"] == good[0].message_id)
    assert item == {"message_id": good[0].message_id, "source_url": good[0].source_url, "key": good[0].file_path,
                    "outcome": "copied", "reason": None, "bytes": len(placed[good[0].file_path]),
                    "md5": hashlib.md5(placed[good[0].file_path]).hexdigest()}
    assert doc["totals"]["source_missing"] == 1 and doc["totals"]["wrong_type"] == 2 and doc["success"] is False
    states = dict(w.db.query("SELECT state, count(*) FROM chatmigrate.run_objects GROUP BY state"))
    assert states == {"copied": len(good)}


def test_a_rerun_issues_no_put_and_finds_every_image_present(image_world, s3_server):
    w = image_world
    place(w, s3_server)
    first = images(w.temp, w.db.url, w.storage(), source_endpoint=s3_server.endpoint)
    assert first.success and first.totals["copied"] == len(w.images)
    s3_server.start_recording()
    again = images(w.temp, w.db.url, w.storage(), source_endpoint=s3_server.endpoint)
    methods = [r.get("method") for r in s3_server.recorded()]
    assert again.success and again.totals["present"] == len(w.images) and again.totals["copied"] == 0
    assert "PUT" not in methods and methods.count("HEAD") >= len(w.images)
    assert verify(w.db.url, first.run_id, w.storage()).ok


def test_the_source_can_be_a_folder_laid_out_like_the_bucket(image_world, s3_server, tmp_path):
    w = image_world
    root = tmp_path / "legacy"
    for i, md in enumerate(w.images):
        ref = parse_legacy_url(md.source_url)
        (root / ref.key).parent.mkdir(parents=True, exist_ok=True)
        (root / ref.key).write_bytes(image_for(ref.key, i))
    res = images(w.temp, w.db.url, w.storage(), source_dir=root)
    assert res.success and res.totals["copied"] == len(w.images)
    assert len(target_objects(w, s3_server)) == len(w.images)


def test_a_missing_bucket_is_an_error_with_the_fix_and_is_not_created(image_world, s3_server):
    w = image_world
    with pytest.raises(StorageBucketMissing) as info:
        images(w.temp, w.db.url, w.storage(bucket="no-such-bucket-h9"), source_endpoint=s3_server.endpoint)
    assert info.value.exit_code == 2 and "create it first" in str(info.value)
    assert "no-such-bucket-h9" not in {b["Name"] for b in s3_server.client().list_buckets()["Buckets"]}


def test_rollback_removes_only_the_objects_this_tool_copied(image_world, s3_server):
    w = image_world
    placed = place(w, s3_server)
    keep = w.images[0]
    s3_server.client().put_object(Bucket=w.target_bucket, Key=keep.file_path, Body=placed[keep.file_path])
    res = images(w.temp, w.db.url, w.storage(), source_endpoint=s3_server.endpoint)
    assert {r.outcome for r in res.results if r.key == keep.file_path} == {"present"}
    undone = rollback_images(w.temp, w.db.url, w.storage())
    assert undone.deleted == len(w.images) - 1 and undone.kept_present == 1
    assert set(target_objects(w, s3_server)) == {keep.file_path}


def _cli(world, *args, **kw):
    env = {**os.environ, **world.env()}
    return subprocess.Popen([sys.executable, "-m", "chatmigrate", "images", "--temp-dir", str(world.temp),
                             "--database-url", world.db.url, "--bucket", world.target_bucket, *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_kill_9_mid_copy_then_a_rerun_completes_with_no_corrupt_object(image_world, s3_server):
    w = image_world
    # ~200 KB each, of the type its name says (so that every one is copied)
    placed = place(w, s3_server, override={m.message_id: image_for(m.file_path, i) + bytes(200_000 + i)
                                           for i, m in enumerate(w.images)})
    proc = _cli(w, "--source-endpoint", s3_server.endpoint, "--workers", "2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = w.db.query("SELECT count(*) FROM chatmigrate.run_objects WHERE state = 'copied'") \
            if w.db.query("SELECT to_regclass('chatmigrate.run_objects') IS NOT NULL")[0][0] else [(0,)]
        if rows[0][0] >= 3:
            break
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    assert proc.returncode == -9
    partial = target_objects(w, s3_server)
    assert 0 < len(partial) < len(w.images)
    assert all(placed[k] == v for k, v in partial.items())  # whatever is visible is whole
    again = _cli(w, "--source-endpoint", s3_server.endpoint)
    _out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err + (w.temp / "chat-images-copied.json").read_text()
    assert target_objects(w, s3_server) == placed
    assert verify(w.db.url, 1, w.storage()).ok


def test_two_concurrent_runs_both_end_with_every_image_in_place(image_world, s3_server):
    w = image_world
    placed = place(w, s3_server)
    results = []

    def go():
        results.append(images(w.temp, w.db.url, w.storage(), source_endpoint=s3_server.endpoint, workers=4))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(r.success for r in results)
    assert target_objects(w, s3_server) == placed
    assert w.db.query("SELECT count(*) FROM chatmigrate.run_objects")[0][0] == len(w.images)


def test_no_secret_is_ever_printed_or_written(image_world, s3_server):
    w = image_world
    place(w, s3_server, skip={w.images[0].message_id})
    proc = _cli(w, "--source-endpoint", s3_server.endpoint)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1  # one image missing at the source
    bad = _cli(w, "--source-endpoint", "http://127.0.0.1:9", "--timeout", "1")  # the source unreachable
    out2, err2 = bad.communicate(timeout=300)
    texts = [out, err, out2, err2] + [p.read_text(errors="replace") for p in Path(w.temp).iterdir() if p.is_file()]
    env = w.env()
    for secret in (env[k] for k in env if k.endswith(('_KEY_ID', '_SECRET_ACCESS_KEY'))):
        assert not any(secret in t for t in texts), secret
    assert "every image with its outcome" in out


def test_synth_writes_the_image_messages_objects_with_the_planned_failures(tmp_path):
    from chatmigrate.storage.checks import sniff
    from chatmigrate.synth import generate, read_truth

    world = generate(tmp_path / "w", messages=3000, seed=4)
    truth = read_truth(world.out_dir)["legacy_images"]
    assert world.legacy_images is not None
    files = {str(p.relative_to(world.legacy_images)): p.read_bytes()
             for p in world.legacy_images.rglob("*") if p.is_file()}
    assert len(files) == truth["written"] > 20 and len(truth["missing"]) == 3
    assert {k.replace("Chat-Images//", "Chat-Images/") for k in truth["missing"]}.isdisjoint(files)
    (big,), (html,) = truth["too_large"], truth["not_an_image"]
    assert len(files[big.replace("//", "/")]) > 5 * 1024 * 1024 and sniff(files[html.replace("//", "/")][:16]) is None
    kinds = {sniff(v[:16]) for k, v in files.items() if k not in (big.replace("//", "/"), html.replace("//", "/"))}
    assert kinds >= {"image/jpeg", "image/png", "image/gif"} and None not in kinds


def test_run_images_copies_as_its_last_step_and_rollback_images_undoes_it(image_world, s3_server, synth_world):
    w = image_world
    placed = place(w, s3_server)
    env = {**os.environ, **w.env()}
    common = ["--temp-dir", str(w.temp), "--database-url", w.db.url, "--bucket", w.target_bucket]
    res = subprocess.run([sys.executable, "-m", "chatmigrate", "run", "--dump", str(synth_world.dump), *common,
                          "--images", "--source-endpoint", s3_server.endpoint], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "every image is in place" in res.stdout and target_objects(w, s3_server) == placed
    res = subprocess.run([sys.executable, "-m", "chatmigrate", "rollback", *common, "--images"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"deleted {len(placed):,} copied images" in res.stdout
    assert target_objects(w, s3_server) == {} and w.db.counts() == {"chats": 0, "chat_messages": 0, "media": 0}


def test_run_images_json_copies_before_validation_which_checks_every_object(image_world, s3_server, synth_world):
    w = image_world
    placed = place(w, s3_server)
    env = {**os.environ, **w.env()}
    res = subprocess.run([sys.executable, "-m", "chatmigrate", "run", "--dump", str(synth_world.dump),
                          "--temp-dir", str(w.temp), "--database-url", w.db.url, "--bucket", w.target_bucket,
                          "--images", "--source-endpoint", s3_server.endpoint, "--json"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)  # one document: nothing else on stdout
    assert doc["success"] is True and doc["images"]["success"] is True
    assert doc["images"]["copied"] == len(placed) == doc["validation"]["images_checked"]
    assert doc["validation"]["images_in_place"] == len(placed) and doc["validation"]["images_missing_total"] == 0
    assert doc["migration_stats"]["steps"]["images"]["copied"] == len(placed)
    assert target_objects(w, s3_server) == placed


def test_run_images_refuses_a_missing_bucket_before_writing_anything(image_world, s3_server, synth_world, tmp_path):
    w = image_world
    temp = tmp_path / "fresh"
    temp.mkdir()
    for name in ("user-id-mapping.json", "bookings-created.json"):
        (temp / name).write_bytes((synth_world.temp_dir / name).read_bytes())
    w.db.execute("DELETE FROM chatmigrate.run_rows; DELETE FROM media; DELETE FROM chat_messages; DELETE FROM chats")
    res = subprocess.run([sys.executable, "-m", "chatmigrate", "run", "--dump", str(synth_world.dump),
                          "--temp-dir", str(temp), "--database-url", w.db.url, "--bucket", "absent-h9", "--images",
                          "--allow-another-dump"], env={**os.environ, **w.env()}, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 2 and "the bucket 'absent-h9' does not exist" in res.stderr
    assert w.db.counts() == {"chats": 0, "chat_messages": 0, "media": 0}


def test_images_verify_names_what_is_missing_or_changed(image_world, s3_server):
    w = image_world
    placed = place(w, s3_server)
    images(w.temp, w.db.url, w.storage(), source_endpoint=s3_server.endpoint)
    env = {**os.environ, **w.env()}
    cmd = [sys.executable, "-m", "chatmigrate", "images", "--verify", "--temp-dir", str(w.temp),
           "--database-url", w.db.url, "--bucket", w.target_bucket]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and f"{len(placed)} of {len(placed)} with the source's size and MD5" in ok.stdout
    gone, changed = w.images[0].file_path, w.images[1].file_path
    s3 = s3_server.client()
    s3.delete_object(Bucket=w.target_bucket, Key=gone)
    s3.put_object(Bucket=w.target_bucket, Key=changed, Body=placed[changed] + b"x")
    check = verify(w.db.url, 1, w.storage())
    assert check.images_missing == [gone] and check.images_mismatched == [changed] and not check.ok
    bad = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and f"missing: {gone}" in bad.stdout and f"mismatched: {changed}" in bad.stdout
