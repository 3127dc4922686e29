"""The `mnemo` command: run the service and administer users and keys.

Every mistake ends the same way: one line `error: ...` on stderr and an exit code
from `mnemo.cli_support` (1 failed, 2 usage, 3 unavailable), never a traceback.
"""

from __future__ import annotations

# What only some commands need (search, the embedder, extraction) is imported inside
# them: every `mnemo` command starts in a fraction of a second.
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from mnemo import __version__, accounts
from mnemo import backup as backups
from mnemo.accounts import check_key_name, check_user_name, issue_key
from mnemo.auth import parse_scopes
from mnemo.categorize.command import categorize
from mnemo.cli_support import (
    EXIT_FAILED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CliError,
    Output,
    open_input,
    open_stdin,
    os_reason,
    run_command,
    utf8_lines,
    with_store,
)
from mnemo.clock import to_datetime
from mnemo.config import InvalidSettings, Settings, load_settings
from mnemo.errors import MnemoError
from mnemo.extract.command import extract_command
from mnemo.mcp_command import HELP as MCP_HELP
from mnemo.mcp_command import mcp_command
from mnemo.store import ALL_SCOPES, Store
from mnemo.urls import DatabaseUrl as ParsedUrl
from mnemo.urls import parse_database_url

T = TypeVar("T")

app = typer.Typer(
    help="mnemo: a self-hosted memory service speaking the Omi Developer Memories API.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
users_app = typer.Typer(help="List, create and delete users.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.command("categorize")(categorize)
app.command("extract")(extract_command)
app.add_typer(users_app, name="users")
app.command("mcp", help=MCP_HELP)(mcp_command)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///PATH or postgresql://... (env MNEMO_DATABASE_URL, "
        "default sqlite:///./data/mnemo.db)",
        show_default=False,
    ),
]


def _settings(**flags: Any) -> Settings:
    """Settings from the environment, with command-line flags taking precedence; a bad
    one exits 2 with a line naming it as the user wrote it (`MNEMO_PORT`, `--port`)."""
    try:
        return load_settings(**flags)
    except InvalidSettings as error:
        raise CliError(str(error), EXIT_USAGE) from None


def _fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    raise CliError(message, code)


def _checked(check: Callable[[], T]) -> T:
    """`check()`, whose `MnemoError` (a bad name, scope, category) is a usage error."""
    try:
        return check()
    except MnemoError as error:
        raise CliError(error.detail, EXIT_USAGE) from None


def _when(us: int | None) -> str:
    if us is None:
        return "-"
    return to_datetime(us).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        typer.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(metavar="HOST", help="Interface to bind (env MNEMO_HOST, default 127.0.0.1)"),
    ] = None,
    port: Annotated[
        str | None,
        typer.Option(
            metavar="PORT", help="Port, 0 for any free one (env MNEMO_PORT, default 8080)"
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    workers: Annotated[
        str | None,
        typer.Option(
            metavar="N",
            help="Worker processes sharing the database, 1-64 (env MNEMO_WORKERS, default 1)",
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            metavar="LEVEL",
            help="critical|error|warning|info|debug (env MNEMO_LOG_LEVEL, default info)",
        ),
    ] = None,
) -> None:
    """Run the HTTP service (migrating the database first).

    On the first start with no API key, creates user `default` and prints its key once.
    """
    from mnemo import serve as serving

    settings = _settings(
        host=host, port=port, database_url=database_url, workers=workers, log_level=log_level
    )
    sock = serving.bind(settings.host, settings.port)
    try:
        if settings.redis_url:
            serving.check_redis(settings.redis_url)

        async def prepare(store: Store) -> tuple[str | None, int, int]:
            queued = await store.count_pending()
            # Queued memories have no vector yet either; the others need a reindex.
            unindexed = max(await store.count_unindexed() - queued, 0)
            if await store.count_active_keys():
                return None, unindexed, queued
            _, secret = await issue_key(store, "default", name="first start")
            return secret, unindexed, queued

        first_key, unindexed, queued = with_store(settings, prepare)
    except BaseException:
        sock.close()
        raise
    bound_host, bound_port = serving.address(sock)
    local = "127.0.0.1" if bound_host in ("0.0.0.0", "::", "") else bound_host
    base = serving.url_of(local, bound_port)
    launcher = os.environ.get("MNEMO_LAUNCHER") or "mnemo"
    workers_text = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    typer.echo(f"mnemo {__version__} on {parse_database_url(settings.database_url).shown}")
    typer.echo(
        f"Listening on {serving.url_of(bound_host, bound_port)} ({workers_text}); "
        f"API docs at {base}/docs"
    )
    if first_key:
        typer.echo("First start: created user 'default' and this API key (shown only once):")
        typer.echo(f"    {first_key}")
        typer.echo("Try it:")
        typer.echo(f'    curl -H "Authorization: Bearer {first_key}" {base}/v1/dev/user/memories')
    typer.echo(f"Get an API key for a user: {launcher} keys create --user NAME")
    if queued:
        typer.echo(f"{queued} memories are queued for embedding: the server embeds them now")
    if unindexed:
        typer.echo(f"{unindexed} memories are not in the search index yet: run {launcher} reindex")
    sys.stdout.flush()
    serving.export_settings(settings, bound_port)
    code = serving.run(settings, sock)
    if code:
        raise typer.Exit(code)


def _sqlite_path(database_url: str | None) -> Path:
    """The SQLite file of the settings' database; PostgreSQL is a usage error (pg_dump)."""
    database = _checked_url(_settings(database_url=database_url).database_url)
    if database.kind != "sqlite":
        raise CliError(backups.PG_DUMP_HINT, EXIT_USAGE)
    return Path(database.path)


def _checked_url(url: str) -> ParsedUrl:
    try:
        return parse_database_url(url)
    except ValueError as error:
        raise CliError(str(error), EXIT_USAGE) from None


Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing file or database")]


@app.command("backup")
def backup_command(file: Path, force: Force = False, database_url: DatabaseUrl = None) -> None:
    """Copy the SQLite database to FILE, consistent even while the server runs."""
    version = backups.backup(_sqlite_path(database_url), file, force)
    typer.echo(f"backed up schema version {version} to {file}")


@app.command("restore")
def restore_command(file: Path, force: Force = False, database_url: DatabaseUrl = None) -> None:
    """Replace the SQLite database with the backup FILE (stop the server first)."""
    version = backups.restore(file, _sqlite_path(database_url), force)
    typer.echo(f"restored schema version {version} from {file}")


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the database schema, then print its version."""
    version = with_store(_settings(database_url=database_url), lambda s: s.schema_version())
    typer.echo(f"schema version {version}")


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option(help="The key's user (created if missing).")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    scopes: Annotated[str, typer.Option(help="Comma-separated scopes.")] = ",".join(ALL_SCOPES),
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key; its secret is printed once, alone on the last line of stdout."""
    settings = _settings(database_url=database_url)
    _checked(lambda: check_user_name(user))
    wanted = _checked(lambda: parse_scopes(scopes))
    _checked(lambda: check_key_name(name))
    record, secret = with_store(
        settings, lambda store: issue_key(store, user, name=name, scopes=wanted)
    )
    typer.echo(
        f"Created key {record.id} for user '{record.user_name}' "
        f"(scopes: {','.join(record.scopes)}). Shown only once:"
    )
    typer.echo(secret)


@keys_app.command("list")
def keys_list(
    user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List keys (never the secrets): id, user, name, scopes, created, last used, status."""

    keys = with_store(
        _settings(database_url=database_url), lambda store: accounts.list_keys(store, user)
    )
    _table(
        ["ID", "USER", "NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED", "STATUS"],
        [
            [
                k.id,
                k.user_name,
                k.name or "-",
                k.prefix + "...",
                ",".join(k.scopes),
                _when(k.created_at),
                _when(k.last_used_at),
                "revoked " + _when(k.revoked_at) if k.revoked_at else "active",
            ]
            for k in keys
        ],
    )


@keys_app.command("revoke")
def keys_revoke(key_id: str, database_url: DatabaseUrl = None) -> None:
    """Revoke a key: it stops working at once, in every worker."""

    with_store(
        _settings(database_url=database_url), lambda store: accounts.revoke_key(store, key_id)
    )
    typer.echo(f"Revoked key {key_id}")


@users_app.command("list")
def users_list(database_url: DatabaseUrl = None) -> None:
    """List users with their memory counts."""
    users = with_store(_settings(database_url=database_url), accounts.list_users)
    _table(
        ["NAME", "ID", "MEMORIES", "CREATED"],
        [[u.name, u.id, str(count), _when(u.created_at)] for u, count in users],
    )


@users_app.command("create")
def users_create(name: str, database_url: DatabaseUrl = None) -> None:
    """Create a user (without a key; `mnemo keys create --user NAME` makes one)."""
    settings = _settings(database_url=database_url)
    checked = _checked(lambda: check_user_name(name))
    user = with_store(settings, lambda store: accounts.create_user(store, checked))
    typer.echo(f"Created user '{user.name}' ({user.id})")


@users_app.command("delete")
def users_delete(
    name: str,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the user's data cannot be recovered.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Erase a user and everything of theirs: memories, search index, keys (needs --yes)."""
    settings = _settings(database_url=database_url)
    if not yes:
        _fail(
            f"deleting user '{name}' erases all their memories and keys for good:"
            " add --yes to confirm",
            EXIT_USAGE,
        )
    deleted = with_store(settings, lambda store: accounts.delete_user(store, name))
    typer.echo(f"Deleted user '{name}' and {deleted} memories")


@app.command("export")
def export_command(
    user: Annotated[str | None, typer.Option(help="Only this user (default: every user).")] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, or - for stdout.")
    ] = "-",
    database_url: DatabaseUrl = None,
) -> None:
    """Write users, key records (hashes, never keys) and memories as JSON Lines."""
    from mnemo.transfer import export_lines

    settings = _settings(database_url=database_url)
    sink = None if output == "-" else Output(output)  # a bad path fails before the store opens

    async def write(store: Store) -> int:
        if user is not None:
            await accounts.find_user(store, user)
        stream = sys.stdout if sink is None else sink.stream
        count = 0
        async for line in export_lines(store, user):
            stream.write(line + "\n")
            count += 1
        return count

    try:
        count = with_store(settings, write)
        if sink is not None:
            sink.commit()
    except OSError as error:  # the disk filled up, the pipe closed...
        target = "stdout" if output == "-" else output
        raise CliError(f"cannot write {target}: {os_reason(error)}", EXIT_UNAVAILABLE) from None
    finally:
        if sink is not None:
            sink.discard()
    typer.echo(f"exported {count} records", err=True)


@app.command("import")
def import_command(
    source: Annotated[str, typer.Argument(help="A file from `mnemo export`, or - for stdin.")],
    embeddings: Annotated[
        bool,
        typer.Option(
            help="Compute search embeddings while importing (~4 ms a memory); "
            "--no-embeddings imports faster, and `mnemo reindex` adds them later."
        ),
    ] = True,
    database_url: DatabaseUrl = None,
) -> None:
    """Import an export; running it again with the same file adds nothing twice."""
    from mnemo.retrieval import Retrieval
    from mnemo.transfer import import_lines

    settings = _settings(database_url=database_url)
    stream = open_stdin() if source == "-" else open_input(source)
    name = "stdin" if source == "-" else source

    async def load(store: Store) -> Any:
        embed = Retrieval(store).vectors if embeddings else None
        return await import_lines(store, utf8_lines(stream, name), embed)

    with stream:
        counts = with_store(settings, load)
    typer.echo(f"imported {counts.summary()}")


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    user: Annotated[str, typer.Option(help="Whose memories to search.")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many results.")] = 10,
    categories: Annotated[
        str | None, typer.Option(help="Comma-separated categories to search in.")
    ] = None,
    min_score: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Only results with a relevance_score of at least this."
        ),
    ] = 0.0,
    database_url: DatabaseUrl = None,
) -> None:
    """Search a user's memories by relevance; JSON Lines, best first."""
    from mnemo.models import MAX_QUERY_CHARS, MemoryCategory
    from mnemo.retrieval import Retrieval
    from mnemo.service import parse_categories

    settings = _settings(database_url=database_url)
    if not query.strip() or len(query) > MAX_QUERY_CHARS:
        _fail(f"the query must be 1-{MAX_QUERY_CHARS} characters", EXIT_USAGE)
    try:
        names = parse_categories(categories)
    except MnemoError:
        unknown = [c.strip() for c in (categories or "").split(",") if c.strip()]
        bad = next(c for c in unknown if c not in set(MemoryCategory))
        valid = ", ".join(c.value for c in MemoryCategory)
        _fail(f"unknown category '{bad}' in --categories: choose from {valid}", EXIT_USAGE)

    async def find(store: Store) -> list[tuple[Any, float]]:
        user_id = (await accounts.find_user(store, user)).id
        retrieval = Retrieval(store)
        found = await retrieval.search(user_id, query, limit, names, min_score)
        await retrieval.drain()  # the queued embeddings it computed, stored before closing
        return found

    for memory, score in with_store(settings, find):
        line = {
            "id": memory.id,
            "relevance_score": score,
            "category": memory.category,
            "content": memory.content,
        }
        typer.echo(json.dumps(line, ensure_ascii=False))


@app.command("reindex")
def reindex_command(
    user: Annotated[str | None, typer.Option(help="Only this user (default: everyone).")] = None,
    pending: Annotated[
        bool,
        typer.Option(
            "--pending",
            help="Only the memories queued for embedding now (a running server embeds them"
            " in the background too).",
        ),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Recompute the search embeddings of every memory (or one user's)."""
    from mnemo.jobs.embedder import embed_all_pending
    from mnemo.retrieval import Retrieval

    async def rebuild(store: Store) -> int:
        if user is None:
            users = [u for u, _ in await accounts.list_users(store)]
        else:
            users = [await accounts.find_user(store, user)]
        retrieval = Retrieval(store)
        if pending:
            return await embed_all_pending(retrieval, store, users[0].id if user else None)
        return sum([await retrieval.reindex(u.id) for u in users])

    count = with_store(_settings(database_url=database_url), rebuild)
    typer.echo(f"embedded {count} queued memories" if pending else f"reindexed {count} memories")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """mnemo: a self-hosted memory service speaking the Omi Developer Memories API."""


def main() -> None:
    """Run the command line; every error is one line on stderr and a documented code."""
    run_command(app)
