"""The floors: minimal FastAPI and Starlette apps with the same route shapes as mnemo's
hot routes, served exactly as `mnemo serve` serves mnemo (`mnemo.serve.serve_app`: the same
Granian server with the same settings, factory, workers, log level, timeouts).

    .venv/bin/python bench/floor.py fastapi|starlette --port P [--workers N]

Each app answers, on mnemo's own paths so that the bench replays the very same request
plans against it (the floors ignore the Authorization header):

- `GET /`: hello-world, `{"status": "ok"}`;
- `GET /v1/dev/user/memories?limit=25&offset=0`: a fixed list of 25 memory-shaped
  objects (mnemo's fields, realistic texts from bench/datagen.py, so about the size of
  a mnemo page); `limit` and `offset` are parsed and checked as integers, not applied;
- `GET /v1/dev/user/memories/{id}`: one memory-shaped object (the first of the list);
- `POST /v1/dev/user/memories`: reads a create's JSON body, validates it with a small
  pydantic model (content 1-500 characters, optional category, visibility, tags) and
  answers a memory-shaped object carrying the body's fields (a 422 for a bad body).

FastAPI's routes are written as a FastAPI user writes them (typed query and path
parameters, a pydantic body); Starlette's as a Starlette user does. No database, no
auth: what the framework alone costs for each shape. The fixed answers (the list, the
one memory) are JSON rendered once at start-up and sent as bytes, as mnemo sends a page
it stored as JSON; the echo is a `JSONResponse` of its dict. None goes through FastAPI's
`jsonable_encoder` (1.9 ms for the 25 memories on the development machine, ~8× a
hello-world request: a floor that slow would flatter every route compared with it).
Hello-world keeps its `-> dict[str, str]`, as in every earlier run. Every mnemo route is
reported as a ratio to the floor of its shape and to the hello-world floor, both
measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import datagen  # noqa: E402

HELLO = {"status": "ok"}
PAGE_SIZE = 25


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """An import record as mnemo answers it: the Memory fields, in the API's order."""
    return {k: v for k, v in record.items() if k not in ("kind", "user")}


# The same generator as the memories the bench imports into mnemo (one user's, seeded).
_rnd = random.Random("floor")
PAGE: list[dict[str, Any]] = [
    _public(datagen.memory_record("floor", _rnd)) for _ in range(PAGE_SIZE)
]
ONE = PAGE[0]
# pydantic's compact JSON, as mnemo's answers are.
PAGE_JSON = json.dumps(PAGE, ensure_ascii=False, separators=(",", ":")).encode()
ONE_JSON = json.dumps(ONE, ensure_ascii=False, separators=(",", ":")).encode()
LIST_PATH = "/v1/dev/user/memories"


class MemoryIn(BaseModel):
    """A create's body (a small model: the shape of mnemo's, not its rules)."""

    content: str = Field(min_length=1, max_length=500)
    category: str | None = None
    visibility: str = "private"
    tags: list[str] = Field(default_factory=list, max_length=20)


def _created(body: dict[str, Any]) -> dict[str, Any]:
    return {**ONE, **body, "category": body.get("category") or ONE["category"]}


def fastapi_app():  # type: ignore[no-untyped-def]
    from fastapi import FastAPI, Query
    from fastapi.responses import JSONResponse, Response

    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return HELLO

    @app.get(LIST_PATH)
    async def list_memories(  # type: ignore[no-untyped-def]
        limit: int = Query(25, ge=1, le=1000), offset: int = Query(0, ge=0)
    ):
        return Response(PAGE_JSON, media_type="application/json")

    @app.get(LIST_PATH + "/{memory_id}")
    async def get_memory(memory_id: str):  # type: ignore[no-untyped-def]
        return Response(ONE_JSON, media_type="application/json")

    @app.post(LIST_PATH)
    async def create_memory(body: MemoryIn):  # type: ignore[no-untyped-def]
        return JSONResponse(_created(body.model_dump()))

    return app


def starlette_app():  # type: ignore[no-untyped-def]
    from pydantic import ValidationError
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def root(request):  # type: ignore[no-untyped-def]
        return JSONResponse(HELLO)

    async def memories(request):  # type: ignore[no-untyped-def]
        if request.method == "POST":
            try:
                body = MemoryIn.model_validate_json(await request.body())
            except ValidationError as error:
                return JSONResponse({"detail": error.errors(include_url=False)}, 422)
            return JSONResponse(_created(body.model_dump()))
        try:
            limit = int(request.query_params.get("limit", 25))
            offset = int(request.query_params.get("offset", 0))
        except ValueError:
            return JSONResponse({"detail": "limit and offset must be integers"}, 422)
        if not 1 <= limit <= 1000 or offset < 0:
            return JSONResponse({"detail": "limit or offset out of range"}, 422)
        return Response(PAGE_JSON, media_type="application/json")

    async def one(request):  # type: ignore[no-untyped-def]
        return Response(ONE_JSON, media_type="application/json")

    return Starlette(
        routes=[
            Route("/", root),
            Route(LIST_PATH, memories, methods=["GET", "POST"]),
            Route(LIST_PATH + "/{memory_id}", one),
        ]
    )


def main() -> int:
    from mnemo.config import Settings
    from mnemo.serve import serve_app

    parser = argparse.ArgumentParser()
    parser.add_argument("app", choices=("fastapi", "starlette"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    # The workers import this module by name: they are new interpreters.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])
    )
    settings = Settings(host=args.host, workers=args.workers, log_level=args.log_level)
    # The same call as mnemo.serve.run, with this module's factory instead of mnemo's.
    return serve_app(f"floor:{args.app}_app", settings, args.port)


if __name__ == "__main__":
    sys.exit(main())
