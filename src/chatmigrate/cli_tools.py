"""The commands around a migration: inspect a dump, prepare a test target, synth and demo (part of the CLI, click).

Owns: ``inspect`` (a dump's tables, columns and row counts), ``schema`` (the target tables
for demos and tests, or the indexes' migration file), ``seed`` (a synth world's Phase 1-4
rows into a test target), ``synth`` (a synthetic legacy world) and ``demo`` (a world
migrated and checked against its truth): each command's options, its library call through
``cli.guarded``, and what it prints.

Does not own: the shared options (``cli_options``), the error boundary and the group
(``cli``), the wording of summaries (``cli_render``), any migration logic.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .cli import cli, guarded
from .cli_options import url_option
from .cli_render import RichProgress, out, print_demo, print_demo_step, print_inspect, safe


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

    guarded(ctx, go)


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

    guarded(ctx, go)


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

    guarded(ctx, go)


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

    guarded(ctx, go)


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

    guarded(ctx, go)
