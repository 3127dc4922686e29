"""Fixtures shared by every suite: a database per test, an app, a client, keys.

`database_url` is parametrised over every storage backend, so each test that uses
it (directly or through `store`, `app` or `client`) runs once per backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator

import httpx
import pytest
from fastapi import FastAPI

from mnemo import Settings, create_app
from mnemo.accounts import issue_key
from mnemo.store import ALL_SCOPES, Store, store_for
from tests import pg

BACKENDS = ["sqlite", "postgres"]

Headers = dict[str, str]
MakeKey = Callable[..., Awaitable[Headers]]


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new schema on the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/mnemo.db"
        return
    schema, url = pg.create_schema()
    try:
        yield url
    finally:
        pg.drop_schema(schema)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    opened = store_for(settings)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as c:
        yield c


@pytest.fixture
def make_key(app: FastAPI) -> MakeKey:
    """Issue a key for a user; returns the request headers that carry it."""

    async def make(user: str = "alice", scopes: Iterable[str] = ALL_SCOPES) -> Headers:
        _, secret = await issue_key(app.state.mnemo.store, user, scopes=scopes)
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
async def alice(make_key: MakeKey) -> Headers:
    return await make_key("alice")


@pytest.fixture
async def bob(make_key: MakeKey) -> Headers:
    return await make_key("bob")
