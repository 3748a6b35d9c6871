"""The ``chatmigrate`` command line: with ``cli_render``, the only modules that import
click and rich (this one click, that one rich).

Owns: option parsing, environment fallbacks (``MYSQL_DUMP_PATH``, ``DATABASE_URL``),
and the boundary every command's library call passes through (:func:`_run`): each
:class:`~chatmigrate.errors.ChatmigrateError`, and each psycopg error the
``DatabaseError`` family recognises, becomes one sentence on stderr with its exit code
(0 ok, 1 problems found, 2 bad input, usage or environment; 130 Ctrl-C, 143 SIGTERM,
which :func:`main` turns into an exception so every cleanup runs). Anything else is a
bug: "unexpected ... report it", exit 1. A traceback is shown only with ``--debug``;
the password of the URL in use is scrubbed from every message, and every value is
shown through ``cli_render.safe``. ``--json`` (run, validate, plan, rollback) prints one
JSON document on stdout and nothing else there (progress stays on stderr); ``--quiet``
prints only errors.

Does not own: any migration logic; nothing imports this module.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import click

from . import __version__
from .cli_render import (
    RichProgress,
    err,
    out,
    print_create,
    print_demo,
    print_demo_step,
    print_extract,
    print_inspect,
    print_plan,
    print_run_step,
    print_validate,
    safe,
)
from .errors import NOTHING_COMMITTED, ChatmigrateError, Terminated
from .eventlog import EventLog, LoggedProgress
from .phase6.kinds import LinkMode
from .planfiles import MIGRATION_STATS, REPORT, ROLLBACK_RECORD
from .progress import NO_PROGRESS, Progress


def _url(ctx: click.Context) -> str | None:
    url = ctx.params.get("database_url") or os.environ.get("DATABASE_URL")
    return str(url) if url else None


def _say_error(ctx: click.Context, text: str) -> None:
    """One line on stderr; never the password of the URL in use, never markup or control characters."""
    url = _url(ctx)
    if url:
        from .postgres.db import scrub

        text = scrub(text, url)
    err.print(f"[bold red]error:[/] {safe(text)}", markup=True, highlight=False)


def _ours(exc: Exception, url: str | None) -> ChatmigrateError | None:
    """Our error for ``exc``: itself, or the DatabaseError for a psycopg error; None for a bug."""
    if isinstance(exc, ChatmigrateError):
        return exc
    if "psycopg" not in sys.modules:  # not loaded: the error cannot be one of its
        return None
    from .postgres.db import translate

    return translate(exc, url)


def _committed(exc: BaseException, default: str = NOTHING_COMMITTED) -> str:
    """What the failing step had committed (the ``committed`` hook a step may set), else ``default``."""
    return getattr(exc, "committed", None) or default


INTERRUPTED = "nothing was committed by the step that was running"


def _run(ctx: click.Context, fn: Callable[[], int | None]) -> None:
    """Call one library function; map our errors to a sentence and an exit code (and, with
    ``--log-file``, log the command's start, its error and its end)."""
    debug = ctx.obj["debug"]
    log = EventLog(None)
    try:
        log = ctx.meta["event_log"] = EventLog(ctx.meta.get("log_file"))
        log.emit("command_started", command=ctx.info_name, version=__version__)
        code = fn() or 0
    except Terminated as exc:
        _fail(ctx, log, f"terminated (SIGTERM): {_committed(exc, INTERRUPTED)}.", 143, plain=True)
    except KeyboardInterrupt as exc:
        _fail(ctx, log, f"interrupted: {_committed(exc, INTERRUPTED)}.", 130, plain=True)
    except Exception as exc:
        if debug:
            err.print_exception()
        ours = _ours(exc, _url(ctx))
        if ours is not None:
            _fail(ctx, log, str(ours), ours.exit_code)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""  # a bug we did not foresee
        _fail(ctx, log, f"unexpected {type(exc).__name__}: {first} — {_committed(exc)}; re-run with --debug "
                        "for the traceback and report it.", 1)
    log.emit("command_finished", exit_code=code, seconds=log.seconds())
    log.close()
    sys.exit(code)


def _fail(ctx: click.Context, log: EventLog, text: str, code: int, *, plain: bool = False) -> None:
    """Say ``text`` on stderr (and in the log, scrubbed alike), then exit with ``code``."""
    url = _url(ctx)
    if url:
        from .postgres.db import scrub

        text = scrub(text, url)
    if plain:
        err.print(safe(text))
    else:
        _say_error(ctx, text)
    log.emit("error", text=text, exit_code=code)
    log.emit("command_finished", exit_code=code, seconds=log.seconds())
    log.close()
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chatmigrate")
@click.option("--debug", is_flag=True, help="Show a traceback when something fails.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Migrate chat history from a legacy MySQL dump into Supabase PostgreSQL."""
    ctx.obj = {"debug": debug}


# --------------------------------------------------------------------------- inspect


@cli.command()
@click.argument("dump", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--table", "-t", "tables", multiple=True, help="Only this table (repeatable). Default: all.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--max-row-mb", type=click.IntRange(1, 4096), default=64, show_default=True,
              help="Largest row (or statement) of a table read, in MB; other tables' values may be of any size.")
@click.pass_context
def inspect(ctx: click.Context, dump: str, tables: tuple[str, ...], as_json: bool, max_row_mb: int) -> None:
    """Print each table's columns and row count, read straight from a dump file."""
    from .dump import scan_dump

    def go() -> int:
        reader = scan_dump(dump, tables or None, progress=RichProgress(), max_row_bytes=max_row_mb << 20)
        names = [t for t in tables] if tables else sorted(reader.tables)
        found = {n: reader.tables[n] for n in names if n in reader.tables}
        if as_json:
            doc = {
                "dump": dump,
                "completed": reader.completed,
                "reader": reader.engine,
                "tables": {
                    n: {
                        "columns": [{"name": c.name, "type": c.type} for c in t.columns],
                        "rows": t.rows if (not tables or n in tables) else None,
                        "insert_statements": t.inserts,
                    }
                    for n, t in found.items()
                },
                "missing_tables": [n for n in names if n not in found],
            }
            click.echo(json.dumps(doc, indent=2))
        else:
            print_inspect(dump, names, found, reader.completed)
        missing = [n for n in names if n not in found]
        if missing:  # a table asked for that the dump lacks: bad input (exit 2), after showing what was found
            from .errors import UsageError

            raise UsageError(f"the dump {dump} has no table {', '.join(f'`{n}`' for n in missing)}: check -t "
                             f"(the dump's tables: {', '.join(sorted(reader.tables)) or 'none'}).")
        return 0

    _run(ctx, go)


# --------------------------------------------------------------------------- phase 6

DEFAULT_TEMP = "scripts/migration/temp"
dump_option = click.option(
    "--dump", envvar="MYSQL_DUMP_PATH", required=True, type=click.Path(dir_okay=False),
    help="The legacy mysqldump file (.sql or .sql.gz). Env: MYSQL_DUMP_PATH.",
)
temp_option = click.option(
    "--temp-dir", default=DEFAULT_TEMP, show_default=True, type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the phase files (inputs from Phases 1 and 4, outputs of this phase).",
)
url_option = click.option(
    "--database-url", envvar="DATABASE_URL", required=True, metavar="URL",
    help="Target PostgreSQL URL (e.g. local Supabase). Env: DATABASE_URL.",
)
tz_option = click.option(
    "--source-timezone", default=None, metavar="ZONE",
    help="Time zone of the legacy DATETIME values (default UTC, as the legacy system wrote them).",
)
rate_option = click.option(
    "--max-error-rate", default=0.05, show_default=True, type=click.FloatRange(0, 1),
    help="Stop and commit nothing when more than this share of rows fails (the plan's 5%).",
)
index_option = click.option("--skip-indexes", is_flag=True, help="Do not create the plan's indexes after loading.")
another_dump_option = click.option(
    "--allow-another-dump", is_flag=True,
    help="Migrate although the target holds a committed run of another dump (two dumps are intended).")


def _keep_log_path(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    ctx.meta["log_file"] = value  # opened by _run, where a bad path becomes one sentence


log_option = click.option(
    "--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None, expose_value=False,
    callback=_keep_log_path, metavar="PATH",
    help="Append JSON lines of events to PATH (steps and tasks started and finished, counts, warnings, errors); "
         "created 0600.")


def output_options(fn: Callable[..., None]) -> Callable[..., None]:
    """``--json``, ``--quiet`` and ``--log-file``, for the commands whose results a script may read."""
    fn = log_option(fn)
    fn = click.option("--quiet", "-q", is_flag=True, help="Print only errors (no progress, no summary).")(fn)
    return click.option("--json", "as_json", is_flag=True,
                        help="Print the results as one JSON document on stdout, and nothing else there "
                             "(progress goes to stderr).")(fn)


def _progress(quiet: bool) -> Progress:
    """The progress shown (none with --quiet), logged too with --log-file."""
    shown: Progress = NO_PROGRESS if quiet else RichProgress()
    ctx = click.get_current_context(silent=True)
    log = ctx.meta.get("event_log") if ctx is not None else None
    return LoggedProgress(shown, log) if log is not None and log.enabled else shown


def _log(event: str, **fields: Any) -> None:
    """One event in the --log-file, when there is one."""
    ctx = click.get_current_context(silent=True)
    log = ctx.meta.get("event_log") if ctx is not None else None
    if log is not None:
        log.emit(event, **fields)


def _on_step(printing: bool, scrub: Callable[[str], str] | None = None) -> Callable[[str, Any], None]:
    """run's step callback: the step's summary printed (unless --json/--quiet) and logged;
    ``scrub`` keeps the storage keys out of the images' reasons."""
    from .steps.run import step_summary

    def on_step(step: str, res: Any) -> None:
        counts, warnings = step_summary(step, res)
        _log("step_finished", step=step, **counts)
        for text in warnings:
            _log("warning", step=step, text=text)
        if printing and step == "images":
            from .cli_render import print_images

            print_images(res, scrub or (lambda text: text))
        elif printing:
            print_run_step(step, res)
    return on_step


def _copy_progress() -> Any:
    from .cli_render import RichCopyProgress

    return RichCopyProgress()


def _echo_json(doc: Any) -> None:
    """The one JSON document of --json (ASCII only: no value can reach the terminal raw)."""
    click.echo(json.dumps(doc, indent=2, default=str))


def _files(temp_dir: Path, **more: object) -> dict[str, str]:
    return {**{k: str(v) for k, v in more.items()}, "report": str(temp_dir / REPORT)}


link_option = click.option(
    "--link", type=click.Choice(["strict", "recover", "participants"]), default=None,
    help="strict: the plan's rule (a chat needs its own booking_id). recover: also link chats through "
         "booking.chat_id, then through bookings of the same buyer and stylist (see `chatmigrate plan`). "
         "participants: for the later schema whose chats are keyed by customer and stylist. Default: "
         "participants when the target's chats are keyed so (detected), else strict. A mode the target "
         "cannot honour is refused.",
)


@cli.command()
@dump_option
@temp_option
@tz_option
@link_option
@log_option
@click.pass_context
def extract(ctx: click.Context, dump: str, temp_dir: Path, source_timezone: str | None,
            link: LinkMode | None) -> None:
    """Step 1: read chats and messages from the dump and apply the plan's rules."""
    from .steps.extract import extract as run_extract

    def go() -> None:
        res = run_extract(dump, temp_dir, source_tz=source_timezone, progress=_progress(False), link=link)
        _on_step(False)("extraction", res)
        print_extract(res)

    _run(ctx, go)


@cli.command()
@dump_option
@temp_option
@click.option("--database-url", envvar="DATABASE_URL", metavar="URL", default=None,
              help="The target: its chat schema is read (nothing else, nothing written) to show the mode `run` "
                   "would use there first. Env: DATABASE_URL.")
@tz_option
@link_option
@output_options
@click.pass_context
def plan(ctx: click.Context, dump: str, temp_dir: Path, database_url: str | None, source_timezone: str | None,
         link: LinkMode | None, as_json: bool, quiet: bool) -> None:
    """Impact report: the link modes side by side (run's first), before anything is written."""
    from .steps.plan import plan as run_plan

    def go() -> int:
        doc = run_plan(dump, temp_dir, url=database_url, link=link, source_tz=source_timezone,
                       progress=_progress(quiet))
        if as_json:
            path = doc.pop("path", None)
            _echo_json({**doc, "files": _files(temp_dir, impact=path)})
        elif not quiet:
            print_plan(doc)
            out.print(f"  every lost conversation, with its people and reason: {safe(doc['path'])}")
            out.print(f"  report: {safe(temp_dir / REPORT)}")
        return 0

    _run(ctx, go)


@cli.command()
@temp_option
@url_option
@rate_option
@index_option
@another_dump_option
@log_option
@click.pass_context
def create(ctx: click.Context, temp_dir: Path, database_url: str, max_error_rate: float, skip_indexes: bool,
           allow_another_dump: bool) -> None:
    """Step 2: write chats, messages and media to the target, all or nothing."""
    from .steps.create import create as run_create

    def go() -> int:
        res = run_create(temp_dir, database_url, max_error_rate=max_error_rate,
                         indexes=not skip_indexes, progress=_progress(False), allow_another_dump=allow_another_dump)
        _on_step(False)("creation", res)
        print_create(res)
        return 1 if (res.counts.chats.failed or res.counts.messages.failed or res.counts.media.failed) else 0

    _run(ctx, go)


@cli.command()
@click.option("--database-url", envvar="DATABASE_URL", metavar="URL", default=None,
              help="Target PostgreSQL URL. Env: DATABASE_URL. Not needed with --indexes-sql.")
@click.option("--chat-schema", type=click.Choice(["booking", "participants"]), default="booking", show_default=True,
              help="booking: chats.booking_id (the plan's schema); participants: the later chats keyed by "
                   "customer_id and stylist_id.")
@click.option("--indexes-sql", is_flag=True,
              help="Only print the plan's indexes as a Supabase migration file (supabase/migrations/"
                   "<timestamp>_chat_indexes.sql), so that the app's schema owns them; nothing is connected to.")
@click.pass_context
def schema(ctx: click.Context, database_url: str | None, chat_schema: str, indexes_sql: bool) -> None:
    """Create the target tables (Supabase shape) where absent: for demos and tests."""
    from .errors import UsageError

    def go() -> int:
        if indexes_sql:
            from .postgres.indexes import migration_sql

            click.echo(migration_sql(chat_schema), nl=False)
            return 0
        if not database_url:
            raise UsageError("schema needs the target: pass --database-url or set DATABASE_URL "
                             "(or --indexes-sql to print the indexes' migration file).")
        from .postgres.db import create_schema, redact

        tables = create_schema(database_url, chat_schema)
        out.print(f"target {safe(redact(database_url))} has: {safe(', '.join(tables))}")
        return 0

    _run(ctx, go)


@cli.command()
@click.option("--from", "from_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A `chatmigrate synth --out` folder (or its seed/ folder).")
@url_option
@click.option("--allow-existing", is_flag=True,
              help="Load although the target already has profiles (rows already there are left as they are).")
@click.pass_context
def seed(ctx: click.Context, from_dir: Path, database_url: str, allow_existing: bool) -> None:
    """Load a synth world's Phase 1-4 rows (auth users, profiles, bookings) into a test target."""
    from .postgres.db import redact
    from .postgres.seed import seed as load_seed

    def go() -> int:
        c = load_seed(database_url, from_dir, allow_existing=allow_existing)
        auth = f"{c.auth_users:,} auth.users, " if c.auth_schema else "(no auth.users table: none needed), "
        skipped = f"; {c.already_present:,} rows were already there" if c.already_present else ""
        out.print(f"seeded {safe(redact(database_url))}: {auth}{c.profiles:,} profiles, {c.bookings:,} bookings"
                  f"{skipped}")
        return 0

    _run(ctx, go)


storage_options = [
    click.option("--bucket", default="chat-media", show_default=True, help="The Supabase Storage bucket."),
    click.option("--storage-endpoint", envvar="CHATMIGRATE_STORAGE_ENDPOINT", metavar="URL",
                 help="Supabase Storage's S3 endpoint (https://PROJECT.supabase.co/storage/v1/s3). "
                      "Env: CHATMIGRATE_STORAGE_ENDPOINT. Keys: CHATMIGRATE_STORAGE_ACCESS_KEY_ID and "
                      "CHATMIGRATE_STORAGE_SECRET_ACCESS_KEY (never shown)."),
    click.option("--storage-region", envvar="CHATMIGRATE_STORAGE_REGION", metavar="REGION",
                 help="Supabase Storage's S3 region. Env: CHATMIGRATE_STORAGE_REGION."),
]


def _with(options: list[Callable[..., Any]]) -> Callable[..., Any]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        for opt in reversed(options):
            fn = opt(fn)
        return fn
    return deco


@cli.command()
@click.option("--dump", envvar="MYSQL_DUMP_PATH", type=click.Path(dir_okay=False),
              help="The legacy mysqldump file. Env: MYSQL_DUMP_PATH.")
@temp_option
@click.option("--database-url", envvar="DATABASE_URL", metavar="URL", help="Target PostgreSQL URL. Env: DATABASE_URL.")
@tz_option
@click.option("--sql", "print_sql", is_flag=True,
              help="Only print the plan's SQL validation suite, for psql: for the target's chat schema with "
                   "--database-url, else both variants (psql picks the one that fits).")
@_with(storage_options)
@output_options
@click.pass_context
def validate(ctx: click.Context, /, dump: str | None, temp_dir: Path, database_url: str | None,
             source_timezone: str | None, print_sql: bool, as_json: bool, quiet: bool, **storage_kw: Any) -> None:
    """Step 3: check every migrated row against the dump, and run the plan's SQL checks (and, with storage
    configured, the chat images' objects)."""
    from .errors import UsageError

    def go() -> int:
        if print_sql and as_json:
            raise UsageError("--sql prints the SQL suite, not JSON: drop --json.")
        if print_sql:
            from .postgres.suite import suite_sql

            schema = None
            if database_url:
                from .steps.plan import target_chat_schema

                schema = target_chat_schema(database_url)
            click.echo(suite_sql(schema), nl=False)
            return 0
        if not dump:
            raise UsageError("validate needs the dump: pass --dump or set MYSQL_DUMP_PATH.")
        if not database_url:
            raise UsageError("validate needs the target: pass --database-url or set DATABASE_URL.")
        from .steps.validate import validate as run_validate

        storage = _storage_if_configured(storage_kw)
        res = run_validate(dump, temp_dir, database_url, source_tz=source_timezone, progress=_progress(quiet),
                           storage=storage)
        _on_step(False)("validation", res)
        if as_json:
            _echo_json({**res.doc, "files": _files(temp_dir, results=res.path)})
        elif not quiet:
            print_validate(res)
            out.print(f"  report: {safe(temp_dir / REPORT)}")
        return 0 if res.is_valid else 1

    _run(ctx, go)


# --------------------------------------------------------------------------- images

copy_options = [
    click.option("--source-endpoint", metavar="URL", default=None,
                 help="Send the legacy S3 GetObject requests to this S3-compatible endpoint (credentials: the "
                      "standard AWS chain)."),
    click.option("--source-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Read the legacy objects from DIR/KEY instead of S3."),
    click.option("--workers", type=click.IntRange(1, 256), default=16, show_default=True, help="Parallel copies."),
    click.option("--max-image-bytes", type=click.IntRange(1), default=5 * 1024 * 1024, show_default=True,
                 help="The bucket's size limit (Supabase's default for chat-media: 5 MB)."),
    click.option("--timeout", type=click.FloatRange(1), default=60.0, show_default=True,
                 help="Seconds per storage request before it is retried."),
]


def _storage_config(kw: dict[str, Any]) -> Any:
    from .storage.target import StorageConfig

    return StorageConfig.from_options(kw["storage_endpoint"], kw["storage_region"], kw["bucket"], kw["timeout"])


def _storage_if_configured(kw: dict[str, Any]) -> Any:
    """The storage settings when an endpoint is given (option or env), else None; the bucket is checked here,
    before any step runs."""
    if not kw.get("storage_endpoint"):
        return None
    from .steps.images import storage_preflight

    cfg = _storage_config({"timeout": 60.0, **kw})
    storage_preflight(cfg)
    return cfg


def _copy_images(temp_dir: Path, database_url: str, bucket: str, storage_endpoint: str | None,
                 storage_region: str | None, source_endpoint: str | None, source_dir: Path | None, workers: int,
                 max_image_bytes: int, timeout: float) -> int:
    from .cli_render import RichCopyProgress, print_images
    from .steps.images import images as run_images
    from .storage.checks import Limits

    cfg = _storage_config({"bucket": bucket, "storage_endpoint": storage_endpoint,
                           "storage_region": storage_region, "timeout": timeout})
    res = run_images(temp_dir, database_url, cfg, source_endpoint=source_endpoint, source_dir=source_dir,
                     workers=workers, limits=Limits(max_image_bytes), progress=RichCopyProgress())
    print_images(res, cfg.scrub)
    return 0 if res.success else 1


@cli.command()
@temp_option
@url_option
@_with(storage_options)
@_with(copy_options)
@click.option("--verify", "verify_only", is_flag=True,
              help="Copy nothing: check that every chat image of the run has its object with the source's size "
                   "and MD5 (exit 1 if not).")
@click.pass_context
def images(ctx: click.Context, /, temp_dir: Path, database_url: str, verify_only: bool, **kw: Any) -> None:
    """Copy the migrated chat images from the legacy bucket to Supabase Storage → chat-images-copied.json."""

    def check() -> int:
        from .cli_render import print_images_check
        from .steps.images import verify_run

        res = verify_run(temp_dir, database_url, _storage_config(kw))
        print_images_check(res)
        return 0 if res.ok else 1

    _run(ctx, check if verify_only else lambda: _copy_images(temp_dir, database_url, **kw))


@cli.command()
@dump_option
@temp_option
@url_option
@tz_option
@rate_option
@index_option
@link_option
@another_dump_option
@click.option("--images", "with_images", is_flag=True,
              help="Last step: copy the chat images to Supabase Storage (as `chatmigrate images`).")
@_with(storage_options)
@_with(copy_options)
@output_options
@click.pass_context
def run(ctx: click.Context, /, dump: str, temp_dir: Path, database_url: str, source_timezone: str | None,
        max_error_rate: float, skip_indexes: bool, link: LinkMode | None, allow_another_dump: bool, with_images: bool,
        as_json: bool, quiet: bool, **image_kw: Any) -> None:
    """Preflight, extract, create, indexes and validate, in one go (and, with --images, the images)."""
    from .steps.run import ImageCopy
    from .steps.run import run as run_all

    def go() -> int:
        job: ImageCopy | None = None
        if with_images:  # refused before anything is written: settings, then the bucket
            from .steps.images import storage_preflight
            from .storage.checks import Limits

            cfg = _storage_config(image_kw)
            storage_preflight(cfg)
            job = ImageCopy(cfg, image_kw["source_endpoint"], image_kw["source_dir"], image_kw["workers"],
                            Limits(image_kw["max_image_bytes"]), None if quiet else _copy_progress())
        storage = None if job else _storage_if_configured(image_kw)  # validation checks the images there too
        res = run_all(dump, temp_dir, database_url, source_tz=source_timezone, max_error_rate=max_error_rate,
                      indexes=not skip_indexes, progress=_progress(quiet),
                      on_step=_on_step(not (as_json or quiet), job.storage.scrub if job else None), link=link,
                      allow_another_dump=allow_another_dump, storage=storage, images=job)
        s = res.stats
        if as_json:
            im = res.images
            files = _files(temp_dir, migration_stats=temp_dir / MIGRATION_STATS, results=res.validation.path,
                           **({"images": im.report} if im else {}))
            _echo_json({"success": res.success, "is_valid": res.validation.is_valid, "link_mode": s.get("link_mode"),
                        "files": files, "migration_stats": s, "validation": res.validation.doc,
                        **({"images": {"run_id": im.run_id, "bucket": im.bucket, "success": im.success,
                                       "seconds": round(im.seconds, 3), **im.totals}} if im else {})})
            return 0 if res.success else 1
        if quiet:
            return 0 if res.success else 1
        verdict = "[green]success[/]" if res.success else "[red]problems found[/]"
        out.print(f"[bold]Phase 6 run[/], link mode {safe(res.extraction.mode.describe())}: {verdict} in "
                  f"{s['duration_seconds']:.1f} s; "
                  f"wrote {safe(temp_dir / MIGRATION_STATS)} and {safe(temp_dir / REPORT)}")
        return 0 if res.success else 1

    _run(ctx, go)


@cli.command()
@temp_option
@url_option
@click.option("--all", "everything", is_flag=True,
              help="The plan's full wipe: every chat, message and chat image (not only one run's). Shows the "
                   "counts and asks first; without a terminal it refuses unless --yes.")
@click.option("--yes", is_flag=True, help="Confirm --all without the prompt.")
@click.option("--run", "run_id", type=click.IntRange(1), default=None, metavar="ID",
              help="The ledger run to roll back (chatmigrate.runs); default: the run named by the temp dir.")
@click.option("--images", "with_images", is_flag=True,
              help="First delete the storage objects `chatmigrate images` copied for the run (never one it "
                   "found already present); then the rows, unless the run is already rolled back.")
@_with(storage_options)
@click.option("--timeout", type=click.FloatRange(1), default=60.0, show_default=True, hidden=True)
@click.option("--keep-indexes", is_flag=True,
              help="Leave the plan's indexes the run created in place (default: drop them with its rows).")
@output_options
@click.pass_context
def rollback(ctx: click.Context, /, temp_dir: Path, database_url: str, everything: bool, yes: bool,
             run_id: int | None, with_images: bool, keep_indexes: bool, as_json: bool, quiet: bool,
             **image_kw: Any) -> None:
    """Delete exactly the rows one run wrote (the target's ledger) and the indexes it created; keep its files aside.

    One transaction; a row the app has built on is kept, and if a delete would cascade into any row
    the ledger does not list, nothing is deleted.
    """
    from .errors import UsageError
    from .steps.rollback import count_everything
    from .steps.rollback import rollback as run_rollback

    def go() -> int:
        if everything and run_id is not None:
            raise UsageError("--all and --run exclude each other: --all deletes every chat, --run one run's rows.")
        if with_images:
            if everything:
                raise UsageError("--images needs one run (--run ID or the temp dir's), not --all.")
            from .steps.images import rollback_images

            undone = rollback_images(temp_dir, database_url, _storage_config(image_kw), run_id)
            out.print(f"run {undone.run_id}: deleted {undone.deleted:,} copied images from bucket "
                      f"{safe(image_kw['bucket'])}; kept {undone.kept_present:,} that were there before")
            if undone.rows_rolled_back:
                return 0
        if everything and not yes:
            n = count_everything(database_url)
            what = (f"--all deletes every chat, message and chat image in the target: {n.chats:,} chats, "
                    f"{n.messages:,} messages, {n.media:,} chat images")
            if not sys.stdin.isatty():
                raise UsageError(f"{what}; without a terminal to confirm, add --yes.")
            if not click.confirm(what + ". Delete them?", default=False, err=True):
                err.print("nothing was deleted.")
                return 2
        counts, files = run_rollback(temp_dir, database_url, everything=everything, run_id=run_id,
                                       keep_indexes=keep_indexes, progress=_progress(quiet))
        _log("step_finished", step="rollback", run_id=counts.run_id, everything=everything,
             deleted={"chats": counts.chats, "messages": counts.messages, "media": counts.media},
             kept={"chats": counts.kept_chats, "messages": counts.kept_messages},
             rolled_back_folder=str(files.folder) if files.folder else None)
        if as_json:
            _echo_json({"run_id": counts.run_id, "everything": everything,
                        "deleted": {"chats": counts.chats, "messages": counts.messages, "media": counts.media},
                        "kept": {"chats": counts.kept_chats, "messages": counts.kept_messages},
                        "moved_files": files.moved, "rolled_back_folder": str(files.folder) if files.folder else None,
                        "temp_dir": str(temp_dir)})
            return 0
        if quiet:
            return 0
        which = f"run {counts.run_id}: " if counts.run_id is not None else ""
        out.print(f"{which}deleted {counts.media:,} media, {counts.messages:,} messages, {counts.chats:,} chats")
        if counts.kept_chats or counts.kept_messages:
            out.print(f"[yellow]kept {counts.kept_chats:,} chats and {counts.kept_messages:,} messages that the "
                      "app has added rows to since the migration (deleting them would cascade to those rows)[/]")
        if counts.indexes_dropped:
            out.print(f"dropped the plan's indexes it had created: {safe(', '.join(counts.indexes_dropped))}")
        if counts.indexes_kept:
            out.print(f"kept the plan's indexes {safe(', '.join(counts.indexes_kept))} (--keep-indexes, a run still "
                      "committed uses them, or the role does not own the table)")
        if files.folder is None and not temp_dir.is_dir():
            out.print(f"no temp dir {safe(temp_dir)}: no files to keep")
        elif files.folder is None:
            out.print(f"left the files in {safe(temp_dir)} in place: they are not run {counts.run_id}'s")
        else:
            out.print(f"moved {safe(', '.join(files.moved)) if files.moved else 'no files'} and wrote "
                      f"{ROLLBACK_RECORD} into {safe(files.folder)} (kept as the record of the migration)")
        return 0

    _run(ctx, go)


@cli.command()
@temp_option
@click.pass_context
def report(ctx: click.Context, temp_dir: Path) -> None:
    """(Re)build phase-6-report.html from the JSON files of a temp dir alone (no dump, no database)."""
    from .report import write_report

    def go() -> int:
        out.print(f"wrote {safe(write_report(temp_dir))}")
        return 0

    _run(ctx, go)


# --------------------------------------------------------------------------- demo


@cli.command()
@click.option("--out", "out_dir", default="synth-out", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for legacy.sql, temp/ (phase files), seed/ (the target's Phase 1-4 rows: load them with `chatmigrate seed --from DIR`) and truth.json.")
@click.option("--messages", default=10_000, show_default=True, type=click.IntRange(100), help="How many messages.")
@click.option("--seed", default=1, show_default=True, help="Random seed: the same seed gives the same bytes.")
@click.option("--layout", type=click.Choice(["mysql8", "mariadb", "single"]), default="mysql8", show_default=True,
              help="mysqldump's one-line INSERTs (MySQL 8), mariadb-dump's one tuple per line, or one INSERT "
                   "per row (--skip-extended-insert).")
@click.option("--links", type=click.Choice(["chat", "booking"]), default="chat", show_default=True,
              help="Where chats link bookings: chat.booking_id, or only booking.chat_id (like the known dump).")
@click.pass_context
def synth(ctx: click.Context, out_dir: Path, messages: int, seed: int, layout: str, links: str) -> None:
    """Generate a synthetic legacy marketplace: a dump, the phase files, a target seed and the truth.

    Then `chatmigrate schema` and `chatmigrate seed --from DIR` prepare a test target for `run`.
    """
    from .synth import generate

    def go() -> int:
        w = generate(out_dir, messages=messages, seed=seed, layout=layout, links=links, progress=RichProgress())
        out.print(f"wrote {safe(w.dump)} ({w.dump_bytes / 1e6:,.1f} MB: {w.messages:,} messages, {w.chats:,} chats, "
                  f"{w.bookings:,} bookings), {safe(w.temp_dir)}/, {safe(w.seed_dir)}/ and {safe(w.truth)}")
        out.print(f"a test target: chatmigrate schema --database-url URL; chatmigrate seed --from {safe(out_dir)} "
                  "--database-url URL")
        return 0

    _run(ctx, go)


@cli.command()
@click.option("--messages", default=20_000, show_default=True, type=click.IntRange(100), help="Size of the world.")
@click.option("--seed", default=1, show_default=True, help="Random seed of the world.")
@click.option("--out", "out_dir", default=".demo", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the world and the phase files go.")
@click.option("--database-url", envvar="DATABASE_URL", metavar="URL", default=None,
              help="Use this server (a fresh database, --database-name, is created on it). "
                   "Default: a throw-away embedded PostgreSQL.")
@click.option("--database-name", default="chatmigrate_demo", show_default=True, metavar="NAME",
              help="The database the demo drops and re-creates on that server; must start with chatmigrate_demo "
                   "(so two demos on one server can each have their own).")
@click.option("--keep", is_flag=True, help="Leave the embedded PostgreSQL running and print its URL.")
@click.pass_context
def demo(ctx: click.Context, messages: int, seed: int, out_dir: Path, database_url: str | None, database_name: str,
         keep: bool) -> None:
    """Generate a legacy world, migrate it into PostgreSQL, and check it against the truth."""
    from .demo import demo as run_demo

    def go() -> int:
        res = run_demo(out_dir, messages=messages, seed=seed, url=database_url, keep=keep,
                       database_name=database_name, progress=RichProgress(), on_step=print_demo_step)
        print_demo(res, show_server=keep and not database_url)
        return 0 if res.agrees and res.run.success else 1

    _run(ctx, go)


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM -> Terminated in the main thread, once (a second one while cleaning up is ignored)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated(signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(prog_name="chatmigrate", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see `{exc.ctx.command_path} --help`)"
        err.print(f"[bold red]error:[/] {safe(exc.format_message())}{safe(hint)}", markup=True, highlight=False)
        sys.exit(2)
    except click.exceptions.Abort:
        err.print("aborted.")
        sys.exit(130)
    except Terminated:  # outside a command (while parsing options)
        err.print("terminated (SIGTERM): nothing was done.")
        sys.exit(143)
