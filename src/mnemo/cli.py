"""The `mnemo` command: run the service and administer users and keys."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC
from typing import Annotated, Any, NoReturn, TextIO, TypeVar

import typer
from pydantic import SecretStr

from mnemo import __version__
from mnemo.auth import issue_key
from mnemo.categorize.command import categorize
from mnemo.clock import now_us, to_datetime
from mnemo.config import Settings
from mnemo.errors import MnemoError
from mnemo.models import MAX_QUERY_CHARS
from mnemo.retrieval import Retrieval
from mnemo.store import ALL_SCOPES, Store, store_for

T = TypeVar("T")

app = typer.Typer(
    help="mnemo: a self-hosted memory service speaking the Omi Developer Memories API.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
users_app = typer.Typer(help="List and create users.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.command("categorize")(categorize)
app.add_typer(users_app, name="users")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///PATH or postgresql://... [env: MNEMO_DATABASE_URL; "
        "default: sqlite:///./data/mnemo.db]",
        show_default=False,
    ),
]


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line flags taking precedence."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as error:
        _fail(f"invalid setting: {error}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store (applying migrations), run `work`, close it; errors exit 1."""

    async def run() -> T:
        try:
            store = store_for(settings)
        except ValueError as error:
            _fail(str(error))
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except MnemoError as error:
        _fail(error.detail)


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
        str | None, typer.Option(help="Interface to bind [env: MNEMO_HOST; default: 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [env: MNEMO_PORT; default: 8080]")] = None,
    database_url: DatabaseUrl = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes sharing the database [env: MNEMO_WORKERS; default: 1]"),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="critical|error|warning|info|debug [env: MNEMO_LOG_LEVEL]")
    ] = None,
) -> None:
    """Run the HTTP service (migrating the database first).

    On the first start with no API key, creates user `default` and prints its key once.
    """
    import uvicorn

    settings = _settings(
        host=host, port=port, database_url=database_url, workers=workers, log_level=log_level
    )

    async def prepare(store: Store) -> tuple[str | None, int]:
        unindexed = await store.count_unindexed()
        if await store.count_active_keys():
            return None, unindexed
        _, secret = await issue_key(store, "default", name="first start")
        return secret, unindexed

    first_key, unindexed = _with_store(settings, prepare)
    local = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = f"http://{local}:{settings.port}"
    typer.echo(f"mnemo {__version__} on {settings.database_url}")
    typer.echo(
        f"Listening on http://{settings.host}:{settings.port} "
        f"({settings.workers} worker{'s' if settings.workers > 1 else ''}); API docs at {base}/docs"
    )
    if first_key:
        typer.echo("First start: created user 'default' and this API key (shown only once):")
        typer.echo(f"    {first_key}")
        typer.echo("Try it:")
        typer.echo(f'    curl -H "Authorization: Bearer {first_key}" {base}/v1/dev/user/memories')
    typer.echo("Get an API key for a user: mnemo keys create --user NAME")
    if unindexed:
        typer.echo(f"{unindexed} memories are not in the search index yet: run mnemo reindex")
    sys.stdout.flush()
    # Workers are separate processes: hand them the resolved settings.
    for name, value in settings.model_dump().items():
        variable = f"MNEMO_{name.upper()}"
        if value is None:
            os.environ.pop(variable, None)
        else:
            secret = isinstance(value, SecretStr)
            os.environ[variable] = value.get_secret_value() if secret else str(value)
    uvicorn.run(
        "mnemo.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
    )


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the database schema, then print its version."""
    version = _with_store(_settings(database_url=database_url), lambda s: s.schema_version())
    typer.echo(f"schema version {version}")


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option(help="The key's user (created if missing).")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    scopes: Annotated[str, typer.Option(help="Comma-separated scopes.")] = ",".join(ALL_SCOPES),
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key; its secret is printed once, alone on the last line of stdout."""
    record, secret = _with_store(
        _settings(database_url=database_url),
        lambda store: issue_key(store, user, name=name, scopes=scopes.split(",")),
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

    async def fetch(store: Store) -> list[Any]:
        user_id = None
        if user is not None:
            found = await store.get_user(user)
            if found is None:
                _fail(f"no user named '{user}'")
            user_id = found.id
        return await store.list_keys(user_id)

    keys = _with_store(_settings(database_url=database_url), fetch)
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
    revoked = _with_store(
        _settings(database_url=database_url), lambda store: store.revoke_key(key_id, now_us())
    )
    if not revoked:
        _fail(f"no active key with id '{key_id}'")
    typer.echo(f"Revoked key {key_id}")


@users_app.command("list")
def users_list(database_url: DatabaseUrl = None) -> None:
    """List users with their memory counts."""
    users = _with_store(_settings(database_url=database_url), lambda store: store.list_users())
    _table(
        ["NAME", "ID", "MEMORIES", "CREATED"],
        [[u.name, u.id, str(count), _when(u.created_at)] for u, count in users],
    )


@users_app.command("create")
def users_create(name: str, database_url: DatabaseUrl = None) -> None:
    """Create a user (without a key; `mnemo keys create --user NAME` makes one)."""
    from mnemo.auth import check_user_name
    from mnemo.clock import new_id
    from mnemo.store import User

    def create(store: Store) -> Awaitable[User]:
        return store.create_user(User(id=new_id(), name=check_user_name(name), created_at=now_us()))

    user = _with_store(_settings(database_url=database_url), create)
    typer.echo(f"Created user '{user.name}' ({user.id})")


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

    async def write(store: Store) -> int:
        count = 0
        with _open_output(output) as sink:
            async for line in export_lines(store, user):
                sink.write(line + "\n")
                count += 1
        return count

    count = _with_store(_settings(database_url=database_url), write)
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
    from mnemo.transfer import import_lines

    if source != "-" and not os.path.isfile(source):
        _fail(f"no such file: {source}")

    async def load(store: Store) -> Any:
        embed = Retrieval(store).vectors if embeddings else None
        if source == "-":
            return await import_lines(store, sys.stdin, embed)
        with open(source, encoding="utf-8") as stream:  # noqa: ASYNC230 (a CLI, one task)
            return await import_lines(store, stream, embed)

    counts = _with_store(_settings(database_url=database_url), load)
    typer.echo(f"imported {counts.summary()}")


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    user: Annotated[str, typer.Option(help="Whose memories to search.")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many results.")] = 10,
    categories: Annotated[
        str | None, typer.Option(help="Comma-separated categories to search in.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Search a user's memories by relevance; JSON Lines, best first."""
    from mnemo.service import parse_categories

    async def find(store: Store) -> list[tuple[Any, float]]:
        found = await store.get_user(user)
        if found is None:
            _fail(f"no user named '{user}'")
        names = parse_categories(categories)
        return await Retrieval(store).search(found.id, query, limit, names)

    if not query.strip() or len(query) > MAX_QUERY_CHARS:
        _fail(f"the query must be 1-{MAX_QUERY_CHARS} characters")
    for memory, score in _with_store(_settings(database_url=database_url), find):
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
    database_url: DatabaseUrl = None,
) -> None:
    """Recompute the search embeddings of every memory (or one user's)."""

    async def rebuild(store: Store) -> int:
        users = [u for u, _ in await store.list_users() if user is None or u.name == user]
        if user is not None and not users:
            _fail(f"no user named '{user}'")
        retrieval = Retrieval(store)
        return sum([await retrieval.reindex(u.id) for u in users])

    count = _with_store(_settings(database_url=database_url), rebuild)
    typer.echo(f"reindexed {count} memories")


@contextlib.contextmanager
def _open_output(output: str) -> Iterator[TextIO]:
    if output == "-":
        yield sys.stdout
        return
    with open(output, "w", encoding="utf-8") as sink:
        yield sink


def _print_version(value: bool) -> None:
    # an option callback runs while the options are parsed, before a command is required
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback(invoke_without_command=False)
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    pass


def main() -> None:
    app()
