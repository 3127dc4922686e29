"""`mnemo serve`'s start-up: bind the port and check Redis before anything is printed,
then hand the bound socket to uvicorn (one worker in this process, or uvicorn's
`Multiprocess` supervisor for several).

Because the CLI binds the socket itself, "Listening on ..." is printed only once the
port is bound and listening, with the address actually bound (`--port 0` shows the
port the system chose), and a busy port is one line before any key is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
from typing import Any

from mnemo.cli_support import EXIT_UNAVAILABLE, EXIT_USAGE, CliError, os_reason
from mnemo.config import Settings
from mnemo.logs import configure as configure_logs
from mnemo.urls import mask_url

APP = "mnemo.app:create_app_from_env"
BACKLOG = 2048  # uvicorn's default
# uvicorn kills a worker that does not answer its health check in time (5 s by
# default). A worker's start (spawning Python, importing the app, loading the
# embedding model) can take longer than that on a loaded machine, and a worker that is
# busy (but alive) is not stuck: 60 s keeps slow starts alive; a worker that exits is
# still noticed at once.
WORKER_HEALTHCHECK_TIMEOUT_S = 60
REDIS_TIMEOUT_S = 5


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port`, or `CliError` (exit 3) saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # as uvicorn does: restart at once after a stop
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise CliError(_bind_failure(host, port, error), EXIT_UNAVAILABLE) from None
    return sock


def _bind_failure(host: str, port: int, error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return f"cannot listen on {host!r}: no such host (set --host or MNEMO_HOST)"
    if error.errno == errno.EADDRINUSE:
        return f"port {port} is in use: choose another with --port or MNEMO_PORT"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: not an address of this machine (--host or MNEMO_HOST)"
    if error.errno == errno.EACCES and port < 1024:
        return f"cannot listen on port {port}: ports below 1024 need privileges"
    return f"cannot listen on {host}:{port}: {os_reason(error)}"


def address(sock: socket.socket) -> tuple[str, int]:
    """The host and port `sock` is bound to."""
    bound: Any = sock.getsockname()
    return str(bound[0]), int(bound[1])


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def check_redis(url: str) -> None:
    """Ping the Redis server at `url`; `CliError` (exit 3) naming it if it does not answer."""
    import redis.asyncio as redis
    from redis.exceptions import RedisError

    async def ping() -> None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        )
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except ValueError as error:  # a URL redis-py still refuses
        raise CliError(f"invalid MNEMO_REDIS_URL {mask_url(url)!r}: {error}", EXIT_USAGE) from None
    except (RedisError, OSError) as error:
        reason = os_reason(error) if isinstance(error, OSError) else str(error) or "no answer"
        raise CliError(
            f"cannot reach Redis at {mask_url(url)}: {reason}", EXIT_UNAVAILABLE
        ) from None


def export_settings(settings: Settings, port: int) -> None:
    """Put the resolved settings in `MNEMO_*` variables: workers are new processes that
    read their settings from the environment."""
    from pydantic import SecretStr

    for name, value in settings.model_dump().items():
        variable = f"MNEMO_{name.upper()}"
        if name == "port":
            value = port
        if value is None:
            os.environ.pop(variable, None)
        else:
            secret = isinstance(value, SecretStr)
            os.environ[variable] = value.get_secret_value() if secret else str(value)


def run(settings: Settings, sock: socket.socket) -> int:
    """Serve on `sock` until stopped; the exit code (3 if a worker could not start)."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    configure_logs(settings.log_level)  # the supervisor's lines; workers: the factory
    config = uvicorn.Config(
        APP,
        factory=True,
        workers=settings.workers,
        log_config=None,  # uvicorn's loggers propagate to mnemo.logs' handler
        log_level=settings.log_level,
        access_log=settings.access_log,
        timeout_graceful_shutdown=10,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_TIMEOUT_S,
    )
    if settings.workers == 1:
        server = uvicorn.Server(config)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn stopped gracefully
            server.run(sockets=[sock])
        return 0 if server.started else EXIT_UNAVAILABLE
    supervisor = Multiprocess(config, sockets=[sock])
    with contextlib.suppress(KeyboardInterrupt):
        supervisor.run()
    failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    return EXIT_UNAVAILABLE if failed else 0
