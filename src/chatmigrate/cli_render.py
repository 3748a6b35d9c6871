"""How the command line shows things: consoles, the progress bar, step summaries, tables.

Part of the CLI (the ``cli*`` modules, see ``chatmigrate.cli``): the only one that imports rich. Owns the
wording and layout of every summary; takes the library's result objects and prints.
Every value that comes from a dump, a database, a file name or the user goes through
:func:`safe` before it is interpolated into rich markup: markup is escaped and control
characters are shown as visible escapes (``\\x1b``, ``\\r``), so no value can style,
link, retitle or clear the terminal.
Does not own: parsing options or running anything.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: object) -> str:
    """``text`` with every non-printable character (C0/C1 controls, DEL, bidi and other
    format characters, line separators) written as a Python-style escape."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(
        c if c.isprintable() or c == " " else _CONTROL_ESCAPES.get(c) or (
            f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
        for c in s
    )


def safe(text: object) -> str:
    """A value ready to interpolate into rich markup: control characters visible, markup escaped."""
    return escape(visible(text))

if TYPE_CHECKING:  # the library's result types (annotations only: the CLI imports steps lazily)
    from .demo import DemoResult
    from .phase6.docs import ImpactFigure
    from .planfiles import Impact
    from .steps.create import CreateResult
    from .steps.extract import ExtractResult
    from .steps.validate import ValidateResult

# When output goes to a file or a pipe, print lines as wide as they are (no 80-column wrap).
out = Console(highlight=False, soft_wrap=not sys.stdout.isatty(), width=None if sys.stdout.isatty() else 200)


err = Console(stderr=True, highlight=False, soft_wrap=True)


class RichProgress:
    """Adapter from the core's Progress protocol to a rich progress bar (or log lines)."""

    def __init__(self, console: Console = err) -> None:
        self.console = console
        self.live = console.is_terminal
        self._bar: Progress | None = None
        self._task: Any = None
        self._label = ""
        self._unit = "rows"
        self._done = 0

    def start(self, label: str, total: int | None, unit: str = "rows") -> None:
        self._label, self._unit, self._done = label, unit, 0
        if not self.live:
            self.console.print(f"… {safe(label)}")
            return
        speed = TransferSpeedColumn() if unit == "bytes" else TextColumn("{task.fields[rate]}")
        count = TextColumn("") if unit == "bytes" else MofNCompleteColumn()
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), count, speed,
            TimeElapsedColumn(), console=self.console, transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(safe(label), total=total, rate="")

    def update(self, done: int) -> None:
        self._done = done
        if self._bar is not None:
            task = self._bar.tasks[0]
            rate = f"{done / task.elapsed:,.0f} {self._unit}/s" if task.elapsed else ""
            self._bar.update(self._task, completed=done, rate=rate)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def n_(count: int, word: str) -> str:
    """``1 chat``, ``2 chats``, ``1,000 messages``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _reasons_table(title: str, counts: dict[str, int]) -> Table:
    t = Table(title=safe(title), title_justify="left")
    t.add_column("reason")
    t.add_column("count", justify="right")
    for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        t.add_row(safe(reason), f"{n:,}")
    return t


def print_extract(res: ExtractResult) -> None:
    m = res.metadata
    out.print(
        f"[bold]Step 1 extract[/]: {n_(m['total_mysql_chats'], 'chat')}, {n_(m['total_mysql_messages'], 'message')}, "
        f"{n_(m['total_mysql_bookings'], 'booking')} in the dump; {n_(m['active_chats'], 'active chat')}"
    )
    out.print(
        f"  processed: [green]{n_(m['processed_chats'], 'chat')}, {n_(m['processed_messages'], 'message')}[/] "
        f"({n_(m['image_messages'], 'image')}; senders: {m['sender_distribution']['customer']:,} customer, "
        f"{m['sender_distribution']['stylist']:,} stylist)"
    )
    print_mode(res.mode)
    out.print(f"  skipped: {n_(m['skipped_chats'], 'chat')}, {n_(m['skipped_messages'], 'message')}")
    if res.chat_skips:
        out.print(_reasons_table("  skipped chats by reason", dict(res.chat_skips)))
    if res.message_skips:
        out.print(_reasons_table("  skipped messages by reason", dict(res.message_skips)))
    if res.warnings:
        out.print(f"  [yellow]{n_(res.warnings, 'message')} changed (NUL removed): listed under warnings[/]")
    for alert in m.get("alerts", []):
        out.print(f"  [yellow]alert: {safe(alert)}[/]")
    out.print(f"  wrote {safe(res.extracted_path)} and {safe(res.skipped_path)}")


_MODE_LABELS = {"strict": "strict (the plan)", "recover": "recover", "participants": "participants"}


def print_plan(doc: Impact) -> None:
    modes = list(doc["modes"].items())
    run_mode = doc.get("run_mode", modes[0][0] if modes else "strict")
    source = doc.get("run_mode_source", "default")
    schema = doc.get("chat_schema")
    if schema is not None:
        keyed = "customer and stylist" if schema == "participants" else "booking"
        out.print(f"[bold]target[/]: chats keyed by {keyed}; `run` would use [bold]{safe(run_mode)}[/] "
                  f"({'chosen with --link' if source == 'option' else 'detected' if source == 'detected' else 'default'})")
    else:
        out.print(f"[bold]no target given[/] (--database-url): `run` would use {safe(run_mode)} on a booking-keyed "
                  "target, participants on one keyed by customer and stylist")
    t = Table(title="Phase 6 impact: what each link mode would migrate (nothing written)", title_justify="left")
    t.add_column("")
    for name, _ in modes:
        label = _MODE_LABELS.get(name, name)
        t.add_column(safe(label + (" ← run" if name == run_mode else "")), justify="right")
    rows: list[tuple[str, ImpactFigure]] = [
        ("legacy chats migrating", "legacy_chats_migrating"), ("target chats", "target_chats"),
        ("messages migrating", "messages_migrating"), ("conversations lost (with messages)", "conversations_lost"),
        ("messages in lost conversations", "messages_in_lost_conversations"),
        ("customers losing history", "customers_losing_history"),
        ("stylists losing history", "stylists_losing_history"),
    ]
    for label, key in rows:
        t.add_row(label, *(f"{m[key]:,}" for _, m in modes))
    for reason in sorted({x for _, m in modes for x in m["chats_skipped"]}):
        t.add_row(f"chats skipped: {safe(reason)}", *(f"{m['chats_skipped'].get(reason, 0):,}" for _, m in modes))
    for rule in sorted({x for _, m in modes for x in m["linked_by_rule"]}):
        t.add_row(f"linked by {safe(rule)}", *(f"{m['linked_by_rule'].get(rule, 0):,}" for _, m in modes))
    out.print(t)


def print_mode(mode: Any) -> None:
    """The link mode a step used and why (a steps.modes.Mode)."""
    out.print(f"  link mode: [bold]{safe(mode.describe())}[/]")


def print_create(res: CreateResult) -> None:
    c = res.counts
    out.print(f"[bold]Step 2 create[/] ({res.duration_seconds:.1f} s, committed in one transaction)")
    for label, k in (("chats", c.chats), ("messages", c.messages), ("media", c.media)):
        colour = "red" if k.failed else "green"
        out.print(
            f"  {label:9} to create {k.attempted:>10,}  created [{colour}]{k.created:>10,}[/]  "
            f"already present {k.present:>10,}  failed [{colour}]{k.failed:>8,}[/]"
        )
    if c.reasons:
        out.print(_reasons_table("  rows that could not be inserted, by reason", dict(c.reasons)))
        out.print(f"  every failed row and its reason: {safe(res.failed_path)}")
    if res.insert_triggers:
        out.print(f"  [yellow]note: these INSERT triggers fired for every migrated row: "
                  f"{safe(', '.join(res.insert_triggers))}[/]")
    if res.indexes:
        out.print(f"  indexes ensured: {safe(', '.join(res.indexes))}")


def _print_validated_images(d: Any) -> None:
    if "images_checked" not in d:
        out.print(f"  chat images: {safe(d.get('images', 'not checked'))}")
        return
    out.print(f"  chat images {safe(d['images'])}: {d['images_in_place']:,} of {d['images_checked']:,} in place; "
              f"missing {d['images_missing_total']:,}, mismatched {d['images_mismatched_total']:,}, "
              f"never copied {d['images_unverified_total']:,}")


def print_validate(res: ValidateResult) -> None:
    d = res.doc
    verdict = "[green]is_valid: true[/]" if res.is_valid else "[red]is_valid: false[/]"
    out.print(f"[bold]Step 3 validate[/]: {verdict}")
    out.print(
        f"  dump {d['total_mysql_chats']:,} chats / {d['total_mysql_messages']:,} messages; expected in target "
        f"{d['expected_chats']:,} / {d['expected_messages']:,} (+{d['expected_media']:,} media); target holds "
        f"{d['total_pg_chats']:,} / {d['total_pg_messages']:,}"
    )
    out.print(
        f"  every row checked: missing {d['missing_chats_total']:,} chats, {d['missing_messages_total']:,} messages, "
        f"{d['missing_media_total']:,} media; sender mismatches {d['message_sender_mismatches_total']:,}; "
        f"content mismatches {d['message_content_mismatches_total']:,}; orphans "
        f"{d['orphaned_chats_total']:,} chats, {d['orphaned_messages_total']:,} messages"
    )
    cut = [k for k in ("missing_chats", "missing_messages", "missing_media", "message_sender_mismatches",
                       "message_content_mismatches", "orphaned_chats", "orphaned_messages") if d.get(f"{k}_truncated")]
    if cut:
        out.print(f"  [dim]the results file lists the first {d['max_listed']:,} ids of {safe(', '.join(cut))} "
                  "(the counts above and its *_total fields are complete)[/]")
    _print_validated_images(d)
    ch = d.get("changed_since_migration") or {}
    if any(ch.get(k) for k in ("messages_changed", "chats_updated", "app_messages")):
        out.print(
            f"  changed by the app since the migration finished ({safe(ch.get('since'))}), not migration errors: "
            f"{n_(ch.get('messages_read', 0), 'message')} read, {n_(ch.get('messages_changed', 0), 'message')} "
            f"changed in all, {n_(ch.get('chats_updated', 0), 'chat')} updated, "
            f"{n_(ch.get('app_messages', 0), 'message')} added in migrated chats"
        )
    skipped = d["intentionally_skipped"]
    out.print(f"  intentionally skipped (not missing): {skipped['chats']:,} chats, {skipped['messages']:,} messages")
    t = Table(title="  the plan's SQL checks", title_justify="left")
    t.add_column("section")
    t.add_column("check")
    t.add_column("status")
    t.add_column("figures")
    colours = {"PASSED": "green", "WARNING": "yellow", "FAILED": "red", "ERROR": "red", "INFO": "dim"}
    for x in res.suite:
        if x.status != "INFO":
            t.add_row(safe(x.check.section), safe(x.check.title),
                      f"[{colours.get(x.status, 'white')}]{safe(x.status)}[/]", safe(x.detail))
    out.print(t)
    reports = sum(1 for x in res.suite if x.status == "INFO")
    out.print(f"  [dim]and {reports} figure-only reports of the plan (sql_checks in the results file)[/]")
    for e in d["validation_errors"]:
        out.print(f"  [red]✗[/] {safe(e)}")
    out.print(f"  wrote {safe(res.path)}")


def print_run_step(step: str, res: ExtractResult | CreateResult | ValidateResult) -> None:
    from .steps.create import CreateResult
    from .steps.extract import ExtractResult

    if isinstance(res, ExtractResult):
        print_extract(res)
    elif isinstance(res, CreateResult):
        print_create(res)
    else:
        print_validate(res)


def print_demo_step(step: str, res: Any) -> None:
    if step == "world":
        out.print(f"[bold]Synthetic legacy marketplace[/]: {safe(res.dump)} ({res.dump_bytes / 1e6:,.1f} MB): "
                  f"{res.messages:,} messages in {res.chats:,} chats, {res.bookings:,} bookings, "
                  f"{res.profiles:,} migrated people")
    elif step == "target":
        out.print(f"[bold]Target[/]: {safe(res)} (Supabase-shaped tables, Phase 1-4 profiles and bookings seeded)")
    else:
        print_run_step(step, res)


def print_inspect(dump: str, names: list[str], found: dict[str, Any], completed: bool) -> None:
    table = Table(title=safe(dump), title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("columns")
    for n, t in found.items():
        table.add_row(safe(n), f"{t.rows:,}", safe(", ".join(f"{c.name} {c.type}" for c in t.columns)))
    out.print(table)
    for n in names:
        if n not in found:
            out.print(f"[yellow]table `{safe(n)}` is not in the dump[/]")
    if not completed:
        out.print("[yellow]warning: the dump has no '-- Dump completed' trailer; it may be truncated.[/]")


def print_demo(res: DemoResult, *, show_server: bool) -> None:
    t = Table(title="Does the migration agree with what the generator built? (truth.json)", title_justify="left")
    t.add_column("")
    t.add_column("truth", justify="right")
    t.add_column("migration", justify="right")
    t.add_column("")
    for what, truth, got in res.agreement:
        t.add_row(safe(what), f"{truth:,}", f"{got:,}", "[green]✓[/]" if truth == got else "[red]✗[/]")
    out.print(t)
    print_plan(res.impact)
    out.print("  (chatmigrate plan; run with --link recover to migrate the conversations strict leaves behind)")
    if res.images is not None:
        print_images(res.images, str)
    ok = res.agrees and res.run.success
    s = res.run.stats
    out.print(
        f"[bold]{'[green]Demo migration correct' if ok else '[red]Demo migration has problems'}[/][/bold]: "
        f"is_valid {str(res.run.validation.is_valid).lower()}, Phase 6 run took {s['duration_seconds']:.1f} s. "
        f"Files: {safe(res.world.temp_dir)}/"
    )
    if show_server:
        out.print(f"the embedded PostgreSQL keeps running: {safe(res.target)}")


# --------------------------------------------------------------------------- chatmigrate images

if TYPE_CHECKING:
    from collections.abc import Callable

    from .steps.images import ImagesCheck, ImagesResult


class RichCopyProgress:
    """The image copy's bar: images done of total, and bytes/s copied (or log lines off a terminal)."""

    def __init__(self, console: Console = err) -> None:
        self.console = console
        self._bar: Progress | None = None
        self._task: Any = None

    def start_copy(self, total: int) -> None:
        if not self.console.is_terminal:
            self.console.print(f"… copying {total:,} chat images")
            return
        self._bar = Progress(TextColumn("copying images"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=self.console,
                             transient=True)
        self._bar.start()
        self._task = self._bar.add_task("images", total=total, rate="")

    def advance(self, images: int, nbytes: int) -> None:
        if self._bar is not None:
            elapsed = self._bar.tasks[0].elapsed or 0.0
            rate = f"{nbytes / elapsed / 1e6:,.2f} MB/s, {images / elapsed:,.0f} images/s" if elapsed else ""
            self._bar.update(self._task, completed=images, rate=rate)

    def finish_copy(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def print_images(res: ImagesResult, scrub: Callable[[str], str]) -> None:
    t = res.totals
    verdict = "[green]every image is in place[/]" if res.success else "[red]some images are not in place[/]"
    mb = t["bytes_copied"] / 1e6
    out.print(f"[bold]images[/] (run {res.run_id}, bucket {safe(res.bucket)}): {verdict} — "
              f"{t['copied']:,} copied ({mb:,.2f} MB), {t['present']:,} already present, "
              f"{t['source_missing']:,} missing at the source, {t['too_large']:,} too large, "
              f"{t['wrong_type']:,} of a wrong type, {t['failed']:,} failed, in {res.seconds:.1f} s")
    bad = [r for r in res.results if r.outcome not in ("copied", "present")]
    if bad:
        table = Table("message", "outcome", "reason", title="images not copied", title_justify="left")
        for r in bad[:20]:
            table.add_row(safe(r.message_id), safe(r.outcome), safe(scrub(r.reason or "")))
        out.print(table)
        if len(bad) > 20:
            out.print(f"… and {len(bad) - 20:,} more")
    out.print(f"  every image with its outcome: {safe(res.report)}")


def print_images_check(res: ImagesCheck) -> None:
    verdict = "[green]every image is in place[/]" if res.ok else "[red]images are not in place[/]"
    out.print(f"[bold]images check[/]: {verdict} — {res.in_place:,} of {res.expected:,} with the source's size and "
              f"MD5; images_missing {len(res.images_missing):,}, images_mismatched {len(res.images_mismatched):,}, "
              f"images_unverified (never copied) {len(res.images_unverified):,}")
    for what, keys in (("missing", res.images_missing), ("mismatched", res.images_mismatched),
                       ("unverified", res.images_unverified)):
        for key in keys[:10]:
            out.print(f"  {what}: {safe(key)}")
