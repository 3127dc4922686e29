"""`mnemo mcp --user NAME`: the MCP tools on one database, with no server running.

For one person on one machine. The process runs mnemo's whole app in itself (the store,
the categoriser, the embedder, every route and its rules) and the tools call it in process
(httpx's ASGI transport) through the SDK's `AsyncClient`, as `/mcp` does: the same routes,
the same service layer, no second implementation of a rule. Instead of looking up API
keys, the app is given `OneUser`: the one token this process made is the named user's,
with every scope; any other is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from mnemo.app import create_app
from mnemo.auth import INVALID_KEY, Authenticator, Lookup
from mnemo.clock import now_us
from mnemo.config import Settings
from mnemo.errors import Unauthorized
from mnemo.store import ALL_SCOPES, ApiKey, Store, User
from mnemo_client import AsyncClient

_LOCAL = "http://mnemo.local"  # the in-process calls' base URL: never resolved


class OneUser(Authenticator):
    """The authenticator of a local process: `token` is `user`'s key, with every scope."""

    def __init__(self, store: Store, user: User, token: str) -> None:
        super().__init__(store)
        self._expected = f"Bearer {token}"
        self._key = ApiKey(
            id=f"mcp-local-{user.id}",
            user_id=user.id,
            user_name=user.name,
            name="mnemo mcp",
            prefix="",
            scopes=ALL_SCOPES,
            created_at=now_us(),
            last_used_at=None,
            revoked_at=None,
        )

    async def authenticate(
        self, authorization: str | None, scope: str | None, lookup: Lookup | None = None
    ) -> ApiKey:
        # `lookup` is never needed: the token is not key-shaped, so the fast path, the
        # only caller that passes one, leaves these requests to FastAPI's routes.
        if authorization is None or not secrets.compare_digest(authorization, self._expected):
            raise Unauthorized(INVALID_KEY)
        return self._key


@asynccontextmanager
async def local_client(settings: Settings, user: User) -> AsyncIterator[AsyncClient]:
    """A client of a mnemo app running in this process on `settings`' database, acting
    as `user`; the app starts before and stops after."""
    app = create_app(settings)
    token = secrets.token_hex(32)
    async with app.router.lifespan_context(app):
        components = app.state.mnemo
        components.authenticator = OneUser(components.store, user, token)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
        async with (
            httpx.AsyncClient(transport=transport) as http,
            AsyncClient(base_url=_LOCAL, api_key=token, max_retries=0, http_client=http) as sdk,
        ):
            yield sdk
