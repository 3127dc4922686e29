"""Operational routes: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from mnemo.api.deps import App
from mnemo.errors import StoreError
from mnemo.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="The process is up",
    operation_id="healthz",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers",
    operation_id="readyz",
    responses={
        200: {
            "description": "The database answers",
            "content": {"application/json": {"example": {"status": "ready"}}},
        },
        503: {
            "description": "The database cannot be reached",
            "content": {"application/json": {"example": {"detail": "Database unavailable"}}},
        },
    },
)
async def readyz(app: App) -> Response:
    try:
        await app.store.ping()
    except StoreError:
        return JSONResponse({"detail": "Database unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get(
    "/metrics",
    summary="Prometheus metrics of every worker",
    operation_id="metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(app: App) -> Response:
    scraped = app.metrics.scraped
    try:
        scraped.memories = await app.store.count_all_memories()
        scraped.embedding_queue = await app.store.count_pending()
    except StoreError:  # the database is away: its gauges are left out of this scrape
        scraped.memories = scraped.embedding_queue = None
    return PlainTextResponse(app.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
