"""The demo: a synthetic legacy marketplace migrated end to end, checked against its truth.

Owns: generating a world (``synth``), getting a PostgreSQL (a throw-away embedded one,
or a fresh ``chatmigrate_demo`` database -- or another name starting so, see
:func:`check_database_name` -- on the server a URL names), creating the
target tables and seeding the Phase 1-4 rows, running Phase 6 (``steps.run``), and
comparing the outcome with ``truth.json``, which the generator wrote by construction
and which no migration code reads. Last, the impact report (``plan``) shows what link
recovery would add to the plan's strict rules on the same world. With moto installed
(the demo extra), the world's images (``synth``'s legacy-bucket folder) are copied into
a throw-away S3 server (``storage.throwaway``) and the outcomes compared with the truth.

Does not own: printing (``cli``), any step's logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import conninfo, sql

from .errors import UsageError
from .planfiles import Impact
from .postgres import db
from .progress import NO_PROGRESS, Progress
from .steps.plan import plan
from .steps.run import RunResult, run
from .synth import SynthSummary, generate, read_truth

DEMO_DATABASE = "chatmigrate_demo"
# the demo drops and re-creates its database: only names that say they are the demo's
_DEMO_NAME = re.compile(r"chatmigrate_demo[a-z0-9_]{0,47}").fullmatch


@dataclass(slots=True)
class DemoResult:
    world: SynthSummary
    run: RunResult
    target: str  # redacted
    agreement: list[tuple[str, Any, Any]]  # (what, truth, migrated)
    impact: Impact  # chatmigrate plan on the same world: strict and recover side by side
    images: Any = None  # steps.images.ImagesResult, when moto is installed

    @property
    def agrees(self) -> bool:
        return all(a == b for _, a, b in self.agreement)


@contextmanager
def _server(url: str | None, keep: bool) -> Iterator[str]:
    if url:
        yield url
        return
    from .embedded import throwaway_postgres

    with throwaway_postgres(keep=keep) as u:
        yield u


def check_database_name(name: str) -> None:
    """Refuse a name that is not evidently the demo's (the demo drops that database first)."""
    if not _DEMO_NAME(name):
        raise UsageError(
            f"--database-name {name!r} is not a demo database name: the demo drops and re-creates it, so the name "
            "must be chatmigrate_demo, optionally followed by up to 47 lowercase letters, digits or _ "
            "(e.g. chatmigrate_demo_2)."
        )


def fresh_database(server_url: str, name: str = DEMO_DATABASE) -> str:
    """(Re)create database ``name`` on the server ``server_url`` points at; return its conninfo."""
    check_database_name(name)
    with db.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo.conninfo_to_dict(server_url)
    params["dbname"] = name
    return conninfo.make_conninfo(**params)  # type: ignore[arg-type]


def compare_with_truth(truth: dict[str, Any], res: RunResult) -> list[tuple[str, Any, Any]]:
    m = res.extraction.metadata
    c = res.creation.counts
    rows: list[tuple[str, Any, Any]] = [
        ("chats migrated", truth["chats_by_fate"].get("processed", 0), c.chats.created + c.chats.present),
        ("messages migrated", truth["messages_by_fate"].get("processed", 0), c.messages.created + c.messages.present),
        ("image messages with media", truth["image_messages"], c.media.created + c.media.present),
        ("messages from customers", truth["sender_distribution"]["customer"], m["sender_distribution"]["customer"]),
        ("messages from stylists", truth["sender_distribution"]["stylist"], m["sender_distribution"]["stylist"]),
        ("messages with NUL removed", truth["messages_with_nul"], res.extraction.warnings),
    ]
    for reason, n in truth["chats_by_fate"].items():
        if reason != "processed":
            rows.append((f"chats skipped: {reason}", n, res.extraction.chat_skips.get(reason, 0)))
    for reason, n in truth["messages_by_fate"].items():
        if reason != "processed":
            rows.append((f"messages skipped: {reason}", n, res.extraction.message_skips.get(reason, 0)))
    return rows


def demo(
    out_dir: Path,
    *,
    messages: int = 20_000,
    seed: int = 1,
    url: str | None = None,
    keep: bool = False,
    database_name: str = DEMO_DATABASE,
    progress: Progress = NO_PROGRESS,
    on_step: Any = None,
) -> DemoResult:
    check_database_name(database_name)  # before the world is generated: a bad name costs nothing
    world = generate(out_dir, messages=messages, seed=seed, progress=progress)
    if on_step:
        on_step("world", world)
    with _server(url, keep) as server_url:
        target = fresh_database(server_url, database_name)
        db.create_schema(target)
        db.seed_from_csv(target, world.seed_dir)
        if on_step:
            on_step("target", db.redact(target))
        result = run(str(world.dump), world.temp_dir, target, progress=progress, on_step=on_step)
        copied = _demo_images(world, target)
    truth = read_truth(world.truth)
    agreement = compare_with_truth(truth, result)
    if copied is not None:
        agreement += compare_images(truth, copied)
    impact = plan(str(world.dump), world.temp_dir, progress=progress)
    return DemoResult(world, result, db.redact(target), agreement, impact, copied)


def _demo_images(world: SynthSummary, target: str) -> Any:
    from .storage import throwaway

    if not throwaway.available() or world.legacy_images is None:
        return None
    from .steps.images import images

    with throwaway.moto_storage() as storage:
        return images(world.temp_dir, target, storage, source_dir=world.legacy_images)


def compare_images(truth: dict[str, Any], res: Any) -> list[tuple[str, Any, Any]]:
    li = truth["legacy_images"]
    t = res.totals
    return [
        ("images copied to storage", li["written"] - len(li["too_large"]) - len(li["not_an_image"]), t["copied"]),
        ("images missing at the source", len(li["missing"]), t["source_missing"]),
        ("images too large", len(li["too_large"]), t["too_large"]),
        ("files that are not images", len(li["not_an_image"]), t["wrong_type"]),
        ("images that failed", 0, t["failed"] + t["present"]),
    ]
