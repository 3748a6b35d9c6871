"""The ledger in the target (``chatmigrate.runs``, ``chatmigrate.run_rows``) on a real PostgreSQL.

Every row create inserts is recorded in the same transaction, a re-run continues its
run, a run of another dump is refused, and rollback deletes what the ledger lists --
whatever the temp dir's ``chats-created.json`` has been replaced with.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatmigrate import planfiles as f
from chatmigrate.errors import ChatmigrateError
from chatmigrate.postgres.db import INDEXES
from chatmigrate.postgres.ledger import LedgerError
from chatmigrate.steps.create import ThresholdExceeded, create
from chatmigrate.steps.extract import extract
from chatmigrate.steps.rollback import rollback
from chatmigrate.steps.run import run
from world import World

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]


@pytest.fixture
def world(mariadb: Any, tmp_path: Path) -> Any:
    w = World(mariadb, tmp_path, "ledger")
    yield w
    w.close()


def small(w: World, *, unmigratable: bool = False) -> Any:
    """Two chats, five messages, one image, and a migrated booking without a chat (returned: the
    app may open one); optionally a chat whose booking is not in the target."""
    free = w.booking()
    a, b = w.chat(w.booking()), w.chat(w.booking())
    w.message(a)
    w.message(a, is_from="stylist")
    w.message(a, is_from="stylist", image=True)
    w.message(b)
    w.message(b, is_from="stylist")
    if unmigratable:
        w.message(w.chat(w.booking(in_target=False)))
    w.build()
    extract(str(w.dump_path), w.temp_dir)
    return free


def ledger_rows(w: World, run_id: int | None = None) -> dict[str, set[str]]:
    where = "" if run_id is None else f"WHERE run_id = {int(run_id)}"
    out: dict[str, set[str]] = {"chat": set(), "message": set(), "media": set()}
    for kind, id_ in w.pg.query(f"SELECT kind, id::text FROM chatmigrate.run_rows {where}"):  # type: ignore[union-attr]
        out[kind].add(id_)
    return out


def target_ids(w: World) -> dict[str, set[str]]:
    q = w.pg.query  # type: ignore[union-attr]
    return {"chat": {r[0] for r in q("SELECT id::text FROM public.chats")},
            "message": {r[0] for r in q("SELECT id::text FROM public.chat_messages")},
            "media": {r[0] for r in q("SELECT id::text FROM public.media")}}


def runs(w: World) -> list[tuple[Any, ...]]:
    return w.pg.query("SELECT run_id, status, dump_sha256, chats, messages, media, indexes "  # type: ignore[union-attr]
                      "FROM chatmigrate.runs ORDER BY run_id")


def read(w: World, name: str) -> dict[str, Any]:
    return json.loads((w.temp_dir / name).read_text(encoding="utf-8"))


def test_create_records_every_inserted_row_with_its_run(world: World) -> None:
    small(world)
    res = create(world.temp_dir, world.url)
    sha = hashlib.sha256(world.dump_path.read_bytes()).hexdigest()
    # the ones create built: chats_booking_id_key (the UNIQUE constraint's) serves idx_chats_booking_id
    plan_indexes = sorted(name for name, *_ in INDEXES if name != "idx_chats_booking_id")
    assert res.run_id == 1
    assert runs(world) == [(1, "committed", sha, 2, 5, 1, plan_indexes)]
    assert ledger_rows(world, 1) == target_ids(world)
    assert [len(v) for v in target_ids(world).values()] == [2, 5, 1]
    manifest = read(world, f.CHATS_CREATED)
    assert (manifest["run_id"], manifest["dump_sha256"]) == (1, sha)
    assert read(world, f.CREATION_STATS)["run_id"] == 1


def test_rerun_continues_the_run_and_claims_no_app_row(world: World) -> None:
    small(world)
    create(world.temp_dir, world.url)
    chat = next(iter(target_ids(world)["chat"]))
    sender = world.pg.query("SELECT sender_id FROM public.chat_messages LIMIT 1")[0][0]  # type: ignore[union-attr]
    app_msg = world.pg.query(  # type: ignore[union-attr]
        "INSERT INTO public.chat_messages (chat_id, sender_id, content) VALUES (%s, %s, 'fra appen') "
        "RETURNING id::text", (chat, sender))[0][0]
    again = create(world.temp_dir, world.url)
    assert again.run_id == 1 and again.counts.messages.created == 0 and again.counts.messages.present == 5
    assert [r[:6] for r in runs(world)] == [(1, "committed", runs(world)[0][2], 2, 5, 1)]
    assert app_msg not in ledger_rows(world)["message"]


def test_threshold_exceeded_leaves_no_ledger(world: World) -> None:
    small(world, unmigratable=True)
    with pytest.raises(ThresholdExceeded):
        create(world.temp_dir, world.url, max_error_rate=0.0)
    assert world.pg.query("SELECT to_regnamespace('chatmigrate')") == [(None,)]  # type: ignore[union-attr]
    assert world.pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}  # type: ignore[union-attr]


def test_rollback_deletes_what_the_ledger_lists_not_what_the_file_says(world: World) -> None:
    """The file is replaced: ids of the app's rows added, one of ours removed; the ledger decides."""
    free = small(world)
    create(world.temp_dir, world.url)
    ours = target_ids(world)
    pg = world.pg
    assert pg is not None
    app_chat = pg.query("INSERT INTO public.chats (booking_id) VALUES (%s) RETURNING id::text", (free.id,))[0][0]
    doc = read(world, f.CHATS_CREATED)
    doc["created_chats"] = [{"id": app_chat, "booking_id": free.id}, *doc["created_chats"][1:]]
    (world.temp_dir / f.CHATS_CREATED).write_text(json.dumps(doc), encoding="utf-8")
    counts, removed = rollback(world.temp_dir, world.url)
    assert (counts.chats, counts.messages, counts.media) == (2, 5, 1)
    assert target_ids(world) == {"chat": {app_chat}, "message": set(), "media": set()}
    assert ours["chat"] and f.CHATS_CREATED in removed.moved
    assert runs(world)[0][1] == "rolled back" and ledger_rows(world) == {"chat": set(), "message": set(), "media": set()}


def other_dump(w: World) -> Path:
    """The same rows in a dump file with other bytes (another checksum)."""
    other = w.dump_path.with_name("other.sql")
    other.write_bytes(b"-- another copy of the legacy dump\n" + w.dump_path.read_bytes())
    return other


def test_a_run_of_another_dump_in_the_same_temp_dir_is_refused(world: World) -> None:
    small(world)
    run(str(world.dump_path), world.temp_dir, world.url)
    manifest = (world.temp_dir / f.CHATS_CREATED).read_bytes()
    extracted = (world.temp_dir / f.CHATS_EXTRACTED).read_bytes()
    before = world.pg.snapshot()  # type: ignore[union-attr]
    with pytest.raises(ChatmigrateError) as exc:
        run(str(other_dump(world)), world.temp_dir, world.url)
    assert exc.value.exit_code == 2 and "another dump" in str(exc.value)
    assert "--allow-another-dump" in str(exc.value) and "rollback --run 1" in str(exc.value)
    assert (world.temp_dir / f.CHATS_CREATED).read_bytes() == manifest  # refused before anything was written
    assert (world.temp_dir / f.CHATS_EXTRACTED).read_bytes() == extracted
    assert world.pg.snapshot() == before and len(runs(world)) == 1  # type: ignore[union-attr]


def test_a_create_of_another_dump_is_refused_unless_intended(world: World, tmp_path: Path) -> None:
    small(world)
    create(world.temp_dir, world.url)
    second = tmp_path / "second"
    second.mkdir()
    for name in ("user-id-mapping.json", "bookings-created.json"):
        (second / name).write_bytes((world.temp_dir / name).read_bytes())
    extract(str(other_dump(world)), second)
    before = world.pg.snapshot()  # type: ignore[union-attr]
    with pytest.raises(LedgerError) as exc:
        create(second, world.url)
    assert exc.value.exit_code == 2 and "run 1" in str(exc.value) and "nothing was written" in str(exc.value)
    assert world.pg.snapshot() == before and len(runs(world)) == 1  # type: ignore[union-attr]
    assert not (second / f.CHATS_CREATED).exists()

    intended = create(second, world.url, allow_another_dump=True)
    assert intended.run_id == 2 and intended.counts.messages.present == 5
    assert ledger_rows(world, 2) == {"chat": set(), "message": set(), "media": set()}  # present rows stay run 1's
    counts, _ = rollback(second, world.url)
    assert (counts.run_id, counts.chats, counts.messages) == (2, 0, 0)
    assert world.pg.snapshot() == before  # type: ignore[union-attr]
    counts, _ = rollback(world.temp_dir, world.url, run_id=1)
    assert (counts.chats, counts.messages, counts.media) == (2, 5, 1)
    assert world.pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}  # type: ignore[union-attr]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MYSQL_DUMP_PATH")}
    return subprocess.run([sys.executable, "-m", "chatmigrate", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)


def test_rollback_all_says_what_it_deletes_and_needs_yes_without_a_terminal(world: World, tmp_path: Path) -> None:
    small(world)
    create(world.temp_dir, world.url)
    args = ("rollback", "--all", "--temp-dir", str(world.temp_dir), "--database-url", world.url)
    refused = cli(*args, cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "2 chats, 5 messages, 1 chat images" in refused.stderr and "--yes" in refused.stderr
    assert world.pg.counts() == {"chats": 2, "chat_messages": 5, "media": 1}  # type: ignore[union-attr]
    done = cli(*args, "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert world.pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}  # type: ignore[union-attr]
    assert runs(world)[0][1] == "rolled back"


def on_a_terminal(args: tuple[str, ...], answer: bytes, cwd: Path) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr, answer its prompt; (exit code, output)."""
    import pty
    import select

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MYSQL_DUMP_PATH")}
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "chatmigrate", *args], cwd=cwd, env=env,
                            stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    seen, answered = b"", False
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        assert ready, f"no output from the CLI: {seen!r}"
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"Delete them?" in seen:
            os.write(master, answer + b"\n")
            answered = True
    os.close(master)
    return proc.wait(timeout=60), " ".join(seen.decode("utf-8", "replace").split())


@pytest.mark.parametrize("answer", [b"n", b"y"])
def test_rollback_all_on_a_terminal_asks_with_the_counts(world: World, tmp_path: Path, answer: bytes) -> None:
    small(world)
    create(world.temp_dir, world.url)
    code, output = on_a_terminal(("rollback", "--all", "--temp-dir", str(world.temp_dir), "--database-url",
                                  world.url), answer, tmp_path)
    assert "2 chats, 5 messages, 1 chat images. Delete them?" in output, output
    if answer == b"n":
        assert code == 2 and "nothing was deleted" in output
        assert world.pg.counts() == {"chats": 2, "chat_messages": 5, "media": 1}  # type: ignore[union-attr]
    else:
        assert code == 0, output
        assert world.pg.counts() == {"chats": 0, "chat_messages": 0, "media": 0}  # type: ignore[union-attr]
