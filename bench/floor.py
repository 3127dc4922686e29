"""The floor: a minimal FastAPI app and a minimal Starlette app answering a fixed JSON
body, served exactly as `mnemo serve` serves mnemo (uvicorn.run with the same
arguments: factory, workers, log level, graceful-shutdown timeout; uvicorn's default
`auto` loop and HTTP implementations, i.e. uvloop and httptools from uvicorn[standard]).

    .venv/bin/python bench/floor.py fastapi|starlette --port P [--workers N]

Every mnemo figure is reported as a ratio to the FastAPI floor measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

BODY = {"status": "ok"}


def fastapi_app():  # type: ignore[no-untyped-def]
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return BODY

    return app


def starlette_app():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def root(request):  # type: ignore[no-untyped-def]
        return JSONResponse(BODY)

    return Starlette(routes=[Route("/", root)])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("app", choices=("fastapi", "starlette"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    # The same call as mnemo.cli.serve, with this module's factory instead of mnemo's.
    uvicorn.run(
        f"floor:{args.app}_app",
        factory=True,
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    sys.exit(main())
