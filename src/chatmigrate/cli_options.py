"""The options the commands share, and the helpers behind them: part of the CLI (click).

Owns: the shared options and their environment fallbacks (``--dump``/``MYSQL_DUMP_PATH``,
``--database-url``/``DATABASE_URL``, ``--temp-dir``, ``--source-timezone``, ``--link``,
``--max-error-rate``, ``--skip-indexes``, ``--allow-another-dump``, the storage and copy
options of ``images``, ``run``, ``validate`` and ``rollback``), and what they ask for:
``--json`` (run, validate, plan, rollback) prints one JSON document on stdout and nothing
else there (:func:`echo_json`; progress stays on stderr), ``--quiet`` prints only errors
(:func:`shown_progress`), ``--log-file`` logs events (:func:`log_event`, :func:`on_step`;
the log itself is opened by ``cli.guarded``); the storage settings from the options
(:func:`storage_config`).

Does not own: the commands (``cli_steps``, ``cli_after``, ``cli_tools``), the error
boundary (``cli``), how results look (``cli_render``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .cli_render import RichProgress, print_run_step
from .eventlog import LoggedProgress
from .planfiles import REPORT
from .progress import NO_PROGRESS, Progress

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
    ctx.meta["log_file"] = value  # opened by cli.guarded, where a bad path becomes one sentence


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


def shown_progress(quiet: bool) -> Progress:
    """The progress shown (none with --quiet), logged too with --log-file."""
    shown: Progress = NO_PROGRESS if quiet else RichProgress()
    ctx = click.get_current_context(silent=True)
    log = ctx.meta.get("event_log") if ctx is not None else None
    return LoggedProgress(shown, log) if log is not None and log.enabled else shown


def log_event(event: str, **fields: Any) -> None:
    """One event in the --log-file, when there is one."""
    ctx = click.get_current_context(silent=True)
    log = ctx.meta.get("event_log") if ctx is not None else None
    if log is not None:
        log.emit(event, **fields)


def on_step(printing: bool, scrub: Callable[[str], str] | None = None) -> Callable[[str, Any], None]:
    """run's step callback: the step's summary printed (unless --json/--quiet) and logged;
    ``scrub`` keeps the storage keys out of the images' reasons."""
    from .steps.run import step_summary

    def on_step(step: str, res: Any) -> None:
        counts, warnings = step_summary(step, res)
        log_event("step_finished", step=step, **counts)
        for text in warnings:
            log_event("warning", step=step, text=text)
        if printing and step == "images":
            from .cli_render import print_images

            print_images(res, scrub or (lambda text: text))
        elif printing:
            print_run_step(step, res)
    return on_step


def copy_progress() -> Any:
    from .cli_render import RichCopyProgress

    return RichCopyProgress()


def echo_json(doc: Any) -> None:
    """The one JSON document of --json (ASCII only: no value can reach the terminal raw)."""
    click.echo(json.dumps(doc, indent=2, default=str))


def file_paths(temp_dir: Path, **more: object) -> dict[str, str]:
    return {**{k: str(v) for k, v in more.items()}, "report": str(temp_dir / REPORT)}


link_option = click.option(
    "--link", type=click.Choice(["strict", "recover", "participants"]), default=None,
    help="strict: the plan's rule (a chat needs its own booking_id). recover: also link chats through "
         "booking.chat_id, then through bookings of the same buyer and stylist (see `chatmigrate plan`). "
         "participants: for the later schema whose chats are keyed by customer and stylist. Default: "
         "participants when the target's chats are keyed so (detected), else strict. A mode the target "
         "cannot honour is refused.",
)


storage_options = [
    click.option("--bucket", default="chat-media", show_default=True, help="The Supabase Storage bucket."),
    click.option("--storage-endpoint", envvar="CHATMIGRATE_STORAGE_ENDPOINT", metavar="URL",
                 help="Supabase Storage's S3 endpoint (https://PROJECT.supabase.co/storage/v1/s3). "
                      "Env: CHATMIGRATE_STORAGE_ENDPOINT. Keys: CHATMIGRATE_STORAGE_ACCESS_KEY_ID and "
                      "CHATMIGRATE_STORAGE_SECRET_ACCESS_KEY (never shown)."),
    click.option("--storage-region", envvar="CHATMIGRATE_STORAGE_REGION", metavar="REGION",
                 help="Supabase Storage's S3 region. Env: CHATMIGRATE_STORAGE_REGION."),
]


def with_options(options: list[Callable[..., Any]]) -> Callable[..., Any]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        for opt in reversed(options):
            fn = opt(fn)
        return fn
    return deco


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


def storage_config(kw: dict[str, Any]) -> Any:
    from .storage.target import StorageConfig

    return StorageConfig.from_options(kw["storage_endpoint"], kw["storage_region"], kw["bucket"], kw["timeout"])


def storage_if_configured(kw: dict[str, Any]) -> Any:
    """The storage settings when an endpoint is given (option or env), else None; the bucket is checked here,
    before any step runs."""
    if not kw.get("storage_endpoint"):
        return None
    from .steps.images import storage_preflight

    cfg = storage_config({"timeout": 60.0, **kw})
    storage_preflight(cfg)
    return cfg
