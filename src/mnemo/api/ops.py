"""Operational routes: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mnemo.api.deps import App
from mnemo.errors import StoreError

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
    summary="Prometheus metrics of this process",
    operation_id="metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(app: App) -> Response:
    with contextlib.suppress(StoreError):  # the gauge keeps its last value then
        app.metrics.embedding_queue.set(await app.store.count_pending())
    return PlainTextResponse(generate_latest(app.metrics.registry), media_type=CONTENT_TYPE_LATEST)
