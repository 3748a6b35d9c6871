"""The commands on a run already made: images, rollback and report (part of the CLI, click).

Owns: copying a run's chat images (``images``, or ``--verify`` them), rolling a run back
(``rollback``: ``--all`` asks first, ``--images`` deletes the copied objects first) and
rebuilding the report from a temp dir (``report``): each command's own options, its
library call (``steps``, ``report``) through ``cli.guarded``, and what it prints.

Does not own: the shared options (``cli_options``), the error boundary and the group
(``cli``), the wording of summaries (``cli_render``), any migration logic.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .cli import cli, guarded
from .cli_options import (
    copy_options,
    echo_json,
    log_event,
    output_options,
    shown_progress,
    storage_config,
    storage_options,
    temp_option,
    url_option,
    with_options,
)
from .cli_render import err, out, safe
from .planfiles_docs import ROLLBACK_RECORD


def _copy_images(temp_dir: Path, database_url: str, bucket: str, storage_endpoint: str | None,
                 storage_region: str | None, source_endpoint: str | None, source_dir: Path | None, workers: int,
                 max_image_bytes: int, timeout: float) -> int:
    from .cli_render import RichCopyProgress, print_images
    from .steps.images import images as run_images
    from .storage.checks import Limits

    cfg = storage_config({"bucket": bucket, "storage_endpoint": storage_endpoint,
                           "storage_region": storage_region, "timeout": timeout})
    res = run_images(temp_dir, database_url, cfg, source_endpoint=source_endpoint, source_dir=source_dir,
                     workers=workers, limits=Limits(max_image_bytes), progress=RichCopyProgress())
    print_images(res, cfg.scrub)
    return 0 if res.success else 1


@cli.command()
@temp_option
@url_option
@with_options(storage_options)
@with_options(copy_options)
@click.option("--verify", "verify_only", is_flag=True,
              help="Copy nothing: check that every chat image of the run has its object with the source's size "
                   "and MD5 (exit 1 if not).")
@click.pass_context
def images(ctx: click.Context, /, temp_dir: Path, database_url: str, verify_only: bool, **kw: Any) -> None:
    """Copy the migrated chat images from the legacy bucket to Supabase Storage → chat-images-copied.json."""

    def check() -> int:
        from .cli_render import print_images_check
        from .steps.images import verify_run

        res = verify_run(temp_dir, database_url, storage_config(kw))
        print_images_check(res)
        return 0 if res.ok else 1

    guarded(ctx, check if verify_only else lambda: _copy_images(temp_dir, database_url, **kw))


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
@with_options(storage_options)
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

            undone = rollback_images(temp_dir, database_url, storage_config(image_kw), run_id)
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
                                       keep_indexes=keep_indexes, progress=shown_progress(quiet))
        log_event("step_finished", step="rollback", run_id=counts.run_id, everything=everything,
             deleted={"chats": counts.chats, "messages": counts.messages, "media": counts.media},
             kept={"chats": counts.kept_chats, "messages": counts.kept_messages},
             rolled_back_folder=str(files.folder) if files.folder else None)
        if as_json:
            echo_json({"run_id": counts.run_id, "everything": everything,
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

    guarded(ctx, go)


@cli.command()
@temp_option
@click.pass_context
def report(ctx: click.Context, temp_dir: Path) -> None:
    """(Re)build phase-6-report.html from the JSON files of a temp dir alone (no dump, no database)."""
    from .report import write_report

    def go() -> int:
        out.print(f"wrote {safe(write_report(temp_dir))}")
        return 0

    guarded(ctx, go)
