"""The ``chatmigrate`` command line: the click group, its entry point, and the boundary every command passes through.

The CLI is the ``cli*`` modules, the only ones that import click and rich: this one;
``cli_options`` (the options, and the helpers behind them, that the commands share); the
commands of ``cli_steps`` (extract, plan, create, validate, run), ``cli_after`` (images,
rollback, report) and ``cli_tools`` (inspect, schema, seed, synth, demo), which register on
:data:`cli` when this module imports them, at its end; and ``cli_render`` (the one that
imports rich: how results look).

Owns: the group (``--debug``, ``--version``), :func:`main`, and the boundary every command's
library call passes through (:func:`guarded`): each
:class:`~chatmigrate.errors.ChatmigrateError`, and each psycopg error the
``DatabaseError`` family recognises, becomes one sentence on stderr with its exit code
(0 ok, 1 problems found, 2 bad input, usage or environment; 130 Ctrl-C, 143 SIGTERM,
which :func:`main` turns into an exception so every cleanup runs). Anything else is a
bug: "unexpected ... report it", exit 1. A traceback is shown only with ``--debug``;
the password of the URL in use is scrubbed from every message, and every value is
shown through ``cli_render.safe``.

Does not own: the options and the commands (the modules above), any migration logic.
Nothing imports this module but ``__main__`` and the command modules (for the group and
the boundary).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType

import click

from . import __version__, allocator
from .cli_render import err, safe
from .errors import NOTHING_COMMITTED, ChatmigrateError, Terminated
from .eventlog import EventLog


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


def guarded(ctx: click.Context, fn: Callable[[], int | None]) -> None:
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


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM -> Terminated in the main thread, once (a second one while cleaning up is ignored)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated(signum)


def main() -> None:
    allocator.settle()  # large buffers in mappings of their own: freed memory goes back to the system
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


# The commands register on `cli` as their modules are imported (after `cli` and `guarded` exist).
from . import cli_after, cli_steps, cli_tools  # noqa: E402, F401
