"""`create_app(settings)`: routers, middleware, error handlers and the store's lifespan."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from mnemo import mcp_http, ui
from mnemo.api import (
    action_items,
    admin,
    conversations,
    fast,
    key,
    memories,
    omi_mcp,
    ops,
    webhooks,
)
from mnemo.api.deps import Components
from mnemo.api.fast import FastPath
from mnemo.api.limits import RateLimitHeaders, RequestSizeLimits
from mnemo.api.methods import HeadAsGet, allow_header
from mnemo.auth import Authenticator
from mnemo.categorize import Categorizer, close_categorizer, default_categorizer
from mnemo.config import Settings
from mnemo.errors import MnemoError, StoreError
from mnemo.idempotency import REPLAYED_HEADER, Replay
from mnemo.jobs.embedder import QUIET_S, Embedder
from mnemo.jobs.history import HistoryPruner
from mnemo.jobs.webhooks import Deliverer
from mnemo.logs import RequestId
from mnemo.logs import configure as configure_logs
from mnemo.metrics import Metrics, MetricsMiddleware
from mnemo.models import MemoryUpdate
from mnemo.ratelimit import limiter_from_settings
from mnemo.retrieval import Retrieval, warm
from mnemo.service import MemoryService
from mnemo.store import store_for
from mnemo.urls import parse_database_url

log = logging.getLogger("mnemo")


async def _project_error(request: Request, error: Exception) -> JSONResponse:
    """A store error's detail (what failed, naming the database) is for the log and the
    command line: over HTTP it answers with its class's fixed words."""
    assert isinstance(error, MnemoError)
    found = getattr(request.app.state, "mnemo", None)
    if error.limit is not None and found is not None:
        found.metrics.rejected(error.limit)
    # A store failure is logged; a refusal by design (a full queue, a busy rate
    # limiter: 503 with Retry-After) is not, one line per refused request being what a
    # flood would make of it: /metrics counts them by status and by limit.
    if isinstance(error, StoreError):
        cause = f" ({error.__cause__!r})" if error.__cause__ is not None else ""
        log.error("%s %s failed: %s%s", request.method, request.url.path, error.detail, cause)
    detail = type(error).default_detail if isinstance(error, StoreError) else error.detail
    return JSONResponse({"detail": detail}, status_code=error.status_code, headers=error.headers)


async def _replay(request: Request, error: Exception) -> Response:
    """The stored answer of an earlier request with the same `Idempotency-Key`."""
    assert isinstance(error, Replay)
    return Response(
        error.body,
        status_code=error.status,
        media_type="application/json",
        headers={REPLAYED_HEADER: "true"},
    )


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: safe even when it echoes a lone surrogate."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


_JSON_REQUIRED = "The body must be JSON sent with Content-Type: application/json"


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's validation body, rendered so any echoed input can be encoded. FastAPI
    parses a body as JSON only under a JSON Content-Type (`application/json`,
    `application/*+json`) and otherwise validates the raw bytes, which fail as a whole:
    that error's message says why."""
    assert isinstance(error, RequestValidationError)
    # An echoed body FastAPI did not parse is bytes, not always UTF-8: shown as text,
    # with what is not UTF-8 escaped (`\\x80`), never a 500.
    errors = jsonable_encoder(error.errors(), custom_encoder={bytes: _as_text})
    if isinstance(error.body, bytes):  # a body FastAPI did not parse
        sent = request.headers.get("content-type")
        why = f"this request's is {sent[:100]!r}" if sent else "this request has none"
        for item in errors:
            if item.get("loc") == ["body"]:
                item["msg"] = f"{_JSON_REQUIRED}; {why}"
    return _AsciiJSONResponse({"detail": errors}, status_code=422)


def _as_text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


_UNPARSABLE_BODY = "There was an error parsing the body"  # FastAPI's words


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's HTTP errors as FastAPI answers them, except that a body FastAPI could
    not even decode (e.g. invalid UTF-8) is malformed JSON: 422, like any other; and a
    405's `Allow` names every method the path allows (mnemo.api.methods)."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405 and admin_off(request):
        error = StarletteHTTPException(404)
    elif error.status_code == 405:
        allow = allow_header(request.app.state.routes, request.scope)
        error = StarletteHTTPException(405, error.detail, headers={"Allow": allow})
    if error.status_code == 400 and error.detail == _UNPARSABLE_BODY:
        invalid = {
            "type": "json_invalid",
            "loc": ["body"],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "the body is not valid UTF-8 JSON"},
        }
        return _AsciiJSONResponse({"detail": [invalid]}, status_code=422)
    return await http_exception_handler(request, error)


def admin_off(request: Request) -> bool:
    """A request of the admin API's paths while it is off (no admin token): those paths
    do not exist then, for any method."""
    mnemo = getattr(request.app.state, "mnemo", None)
    off = mnemo is None or mnemo.settings.admin_token is None
    return off and request.url.path.startswith(admin.PREFIX + "/")


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


_DESCRIPTION = """\
Short, timeless facts about each user ("User is vegetarian"), served over the Omi
Developer Memories API: an Omi client works against mnemo by changing only its base URL
and key. The full reference (every status, error string,
limit and ordering rule) is `docs/api.md` in mnemo's repository.

**Authentication.** Every `/v1/dev/` route needs `Authorization: Bearer omi_dev_...`.
GET routes need the scope `memories:read`, the others `memories:write`. Another
user's memory answers exactly like an unknown id (404).

**Rate limits.** Each response to a request with a valid key carries
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds) for its
policy (reads, writes or batches); over the limit: 429 with `Retry-After`.

**Errors** are JSON `{"detail": ...}`: a sentence, or FastAPI's list of validation
issues (422). A body over the size limit (1 MiB by default) is a 413, headers over
16 KiB in all a 431.
"""
_TAGS = [
    {"name": "memories", "description": "A user's memories (the Omi Developer API, and more)"},
    {
        "name": "omi-mcp",
        "description": "The routes Omi's own MCP server calls, in Omi's shapes"
        " (docs/api.md); the same keys and scopes",
    },
    {
        "name": "conversations",
        "description": "A user's conversations, and what is extracted from them (the Omi"
        " Developer API)",
    },
    {"name": "action items", "description": "A user's action items (the Omi Developer API)"},
    {
        "name": "webhooks",
        "description": "Endpoints that receive signed events of the user's memories"
        " (docs/webhooks.md)",
    },
    {"name": "operations", "description": "Liveness, readiness and metrics (no key needed)"},
    {"name": "keys", "description": "The calling key's own record (any scope)"},
    {
        "name": "admin",
        "description": "The operator's API, with `Authorization: Bearer <MNEMO_ADMIN_TOKEN>`;"
        " every route answers 404 when no admin token is set",
    },
]


def create_app(
    settings: Settings | None = None, *, categorizer: Categorizer | None = None
) -> FastAPI:
    """Build a mnemo app; its store is opened on start-up and closed on shutdown."""
    settings = settings or Settings()
    metrics = Metrics(parse_database_url(settings.database_url).kind)
    mcp = mcp_http.McpEndpoint()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = store_for(settings, on_error=metrics.database_error)
        await store.open()
        await asyncio.to_thread(warm)  # load the embedding model before the first request
        chosen = categorizer or default_categorizer(settings)
        limiter = limiter_from_settings(settings)
        retrieval = Retrieval(store, metrics=metrics)
        embedder = Embedder(
            store,
            retrieval,
            lease_s=settings.embed_lease_s,
            poll_s=settings.embed_poll_s,
            busy=lambda: metrics.busy(QUIET_S),
        )
        service = MemoryService(
            store, chosen, retrieval, dedup=settings.dedup_enabled, on_queued=embedder.wake
        )
        embedder.start()
        pruner = HistoryPruner(store, settings.history_retention_days)
        pruner.start()
        deliverer = Deliverer(
            store,
            allow_private=settings.webhooks_allow_private,
            timeout_s=settings.webhooks_timeout_s,
            retry_s=settings.webhooks_retry_s,
            backoff_s=settings.webhooks_backoff_s,
            backoff_max_s=settings.webhooks_backoff_max_s,
            poll_s=settings.webhooks_poll_s,
            keep_days=settings.webhooks_keep_days,
            on_outcome=lambda status: metrics.webhook_delivery(
                "retried" if status == "pending" else status
            ),
        )
        deliverer.start()
        app.state.mnemo = Components(
            settings=settings,
            store=store,
            service=service,
            authenticator=Authenticator(store, settings.key_touch_interval_s),
            metrics=metrics,
            limiter=limiter,
        )
        try:
            async with mcp.running():
                yield
        finally:
            await deliverer.stop()
            await pruner.stop()
            await embedder.stop()
            await retrieval.drain()
            if categorizer is None:  # only what the app made itself
                await close_categorizer(chosen)
            if limiter is not None:
                await limiter.aclose()
            await app.state.mnemo.authenticator.drain()
            await store.close()
            metrics.close()

    from mnemo import __version__

    app = FastAPIOffline(
        title="mnemo",
        version=__version__,
        summary="Self-hosted memories for AI assistants, Omi-compatible",
        description=_DESCRIPTION,
        openapi_tags=_TAGS,
        lifespan=lifespan,
        redoc_url=None,
        # `/v1/dev/user/memories/` is a 404, not a redirect built from the Host header.
        redirect_slashes=False,
    )
    routers = (
        memories.router,
        conversations.router,
        action_items.router,
        webhooks.router,
        omi_mcp.router,
        key.router,
        admin.router,
        webhooks.admin_router,
        ops.router,
    )
    for router in routers:
        app.include_router(router)
    app.router.routes.append(Route(mcp_http.PATH, mcp, methods=["POST"], include_in_schema=False))
    ui.mount(app)
    # Every route, for the `Allow` header of a 405.
    app.state.routes = [*app.routes, *(route for r in routers for route in r.routes)]
    app.add_exception_handler(MnemoError, _project_error)
    app.add_exception_handler(Replay, _replay)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    if settings.fast_path:  # innermost: see mnemo.api.fast for why
        app.add_middleware(
            FastPath,
            list_route=_route(memories.router, fast.PREFIX),
            get_route=_route(memories.router, fast.PREFIX + "/{memory_id}"),
            create_route=_route(memories.router, fast.PREFIX, "POST"),
            on_error=_project_error,
        )
    app.add_middleware(HeadAsGet)  # outside the fast path, so it answers HEAD too
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(
        RequestSizeLimits,
        max_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
        body_timeout_s=settings.body_timeout_s,
        larger={
            admin.IMPORT_PATH: settings.admin_import_max_bytes,
            ui.IMPORT_PATH: settings.admin_import_max_bytes,
        },
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    _outermost(app, lambda inner: RequestId(inner, access_log=settings.access_log))
    _document_update_body(app)
    return app


def _outermost(app: FastAPI, middleware: Callable[[ASGIApp], ASGIApp]) -> None:
    """Wrap the whole app in `middleware`, outside even Starlette's server-error layer
    (which `add_middleware` cannot reach), so it sees every answer, a 500 included."""
    build = app.build_middleware_stack

    def build_with_outer() -> ASGIApp:
        return middleware(build())

    app.build_middleware_stack = build_with_outer  # type: ignore[method-assign]


def _route(router: APIRouter, path: str, method: str = "GET") -> BaseRoute:
    """The router's route of that method with this template: the one FastAPI puts in
    `scope["route"]`, so the fast path's requests are labelled alike in metrics."""
    for route in router.routes:
        if getattr(route, "path", None) == path and method in getattr(route, "methods", ()):
            return route
    raise LookupError(f"no {method} route {path}")


def create_app_from_env() -> FastAPI:
    """The app factory `mnemo serve`'s workers call (each reads `MNEMO_*` itself, and
    writes its log lines in mnemo's format: mnemo.logs): the app behind
    `X-Forwarded-For`/`-Proto` handling, trusted from 127.0.0.1 only (a proxy on this
    machine), as before the HTTP server was Granian (which does none)."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    settings = Settings()
    configure_logs(settings.log_level)
    app = create_app(settings)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts="127.0.0.1")  # outermost
    return app


def _document_update_body(app: FastAPI) -> None:
    """Describe the PATCH body (taken as a plain object) as `MemoryUpdate` in OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schema = MemoryUpdate.model_json_schema(ref_template="#/components/schemas/{model}")
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(schema.pop("$defs", {}))
            components["MemoryUpdate"] = schema
            operation = document["paths"][f"{memories.router.prefix}/{{memory_id}}"]["patch"]
            operation["requestBody"]["content"]["application/json"]["schema"] = {
                "$ref": "#/components/schemas/MemoryUpdate"
            }
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
