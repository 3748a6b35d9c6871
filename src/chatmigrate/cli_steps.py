"""The migration's commands: extract, plan, create, validate and run (part of the CLI, click).

Owns: each command's own options, its one library call (``steps``) through ``cli.guarded``,
and what it prints or, with ``--json``, the document it writes on stdout; its exit code
(1 when problems were found).

Does not own: the shared options (``cli_options``), the error boundary and the group
(``cli``), the wording of summaries (``cli_render``), any migration logic (``steps``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .cli import cli, guarded
from .cli_options import (
    another_dump_option,
    copy_options,
    copy_progress,
    dump_option,
    echo_json,
    file_paths,
    index_option,
    link_option,
    log_option,
    on_step,
    output_options,
    rate_option,
    shown_progress,
    storage_config,
    storage_if_configured,
    storage_options,
    temp_option,
    tz_option,
    url_option,
    with_options,
)
from .cli_render import out, print_create, print_extract, print_plan, print_validate, safe
from .phase6.kinds import LinkMode
from .planfiles import MIGRATION_STATS, REPORT


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
        res = run_extract(dump, temp_dir, source_tz=source_timezone, progress=shown_progress(False), link=link)
        on_step(False)("extraction", res)
        print_extract(res)

    guarded(ctx, go)


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
                       progress=shown_progress(quiet))
        if as_json:
            path = doc.pop("path", None)
            echo_json({**doc, "files": file_paths(temp_dir, impact=path)})
        elif not quiet:
            print_plan(doc)
            out.print(f"  every lost conversation, with its people and reason: {safe(doc['path'])}")
            out.print(f"  report: {safe(temp_dir / REPORT)}")
        return 0

    guarded(ctx, go)


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
                         indexes=not skip_indexes, progress=shown_progress(False), allow_another_dump=allow_another_dump)
        on_step(False)("creation", res)
        print_create(res)
        return 1 if (res.counts.chats.failed or res.counts.messages.failed or res.counts.media.failed) else 0

    guarded(ctx, go)


@cli.command()
@click.option("--dump", envvar="MYSQL_DUMP_PATH", type=click.Path(dir_okay=False),
              help="The legacy mysqldump file. Env: MYSQL_DUMP_PATH.")
@temp_option
@click.option("--database-url", envvar="DATABASE_URL", metavar="URL", help="Target PostgreSQL URL. Env: DATABASE_URL.")
@tz_option
@click.option("--sql", "print_sql", is_flag=True,
              help="Only print the plan's SQL validation suite, for psql: for the target's chat schema with "
                   "--database-url, else both variants (psql picks the one that fits).")
@with_options(storage_options)
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

        storage = storage_if_configured(storage_kw)
        res = run_validate(dump, temp_dir, database_url, source_tz=source_timezone, progress=shown_progress(quiet),
                           storage=storage)
        on_step(False)("validation", res)
        if as_json:
            echo_json({**res.doc, "files": file_paths(temp_dir, results=res.path)})
        elif not quiet:
            print_validate(res)
            out.print(f"  report: {safe(temp_dir / REPORT)}")
        return 0 if res.is_valid else 1

    guarded(ctx, go)


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
@with_options(storage_options)
@with_options(copy_options)
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

            cfg = storage_config(image_kw)
            storage_preflight(cfg)
            job = ImageCopy(cfg, image_kw["source_endpoint"], image_kw["source_dir"], image_kw["workers"],
                            Limits(image_kw["max_image_bytes"]), None if quiet else copy_progress())
        storage = None if job else storage_if_configured(image_kw)  # validation checks the images there too
        res = run_all(dump, temp_dir, database_url, source_tz=source_timezone, max_error_rate=max_error_rate,
                      indexes=not skip_indexes, progress=shown_progress(quiet),
                      on_step=on_step(not (as_json or quiet), job.storage.scrub if job else None), link=link,
                      allow_another_dump=allow_another_dump, storage=storage, images=job)
        s = res.stats
        if as_json:
            im = res.images
            files = file_paths(temp_dir, migration_stats=temp_dir / MIGRATION_STATS, results=res.validation.path,
                           **({"images": im.report} if im else {}))
            echo_json({"success": res.success, "is_valid": res.validation.is_valid, "link_mode": s.get("link_mode"),
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

    guarded(ctx, go)
