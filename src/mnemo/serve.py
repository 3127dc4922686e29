"""`mnemo serve`'s start-up: bind the port and check Redis before anything is printed,
then serve with Granian (docs/architecture.md, "HTTP server", says why Granian).

Because the CLI binds the socket itself first, "Listening on ..." shows the address
actually bound (`--port 0` shows the port the system chose), and a busy port is one
line before any key is made.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from typing import Any

from mnemo import metrics_dir
from mnemo.cli_support import EXIT_UNAVAILABLE, EXIT_USAGE, CliError, os_reason
from mnemo.config import Settings
from mnemo.logs import configure as configure_logs
from mnemo.urls import mask_url

APP = "mnemo.app:create_app_from_env"
BACKLOG = 2048  # connections the kernel queues before one is accepted
GRACEFUL_SHUTDOWN_S = 10  # after SIGTERM/Ctrl-C, requests in flight get this long
# Where the hard limit on open files is "unlimited", the soft limit is raised to this
# (macOS's hard limit is often unlimited while the kernel allows about 10,240).
FD_LIMIT_UNBOUNDED = 10_240
REDIS_TIMEOUT_S = 5
# Granian's loggers get no handlers of their own: their records go up to the root
# logger, where `mnemo.logs` writes every line in one format.
GRANIAN_LOGS: dict[str, Any] = {
    "formatters": {},
    "handlers": {},
    "loggers": {"_granian": {"handlers": [], "propagate": True}},
}


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


def raise_fd_limit() -> None:
    """Raise this process's soft limit on open files to its hard limit (where the OS has
    such limits: not on Windows), so that idle connections, each an open file until the
    header timeout closes it, do not make the server refuse every new one at 1024. The
    workers inherit it."""
    try:
        import resource
    except ImportError:  # Windows: no such per-process limit
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FD_LIMIT_UNBOUNDED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        for limit in (wanted, min(wanted, FD_LIMIT_UNBOUNDED)):  # macOS: at most OPEN_MAX
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
                return
            except (ValueError, OSError):
                continue


def serve_app(target: str, settings: Settings, port: int) -> int:
    """Serve ASGI app factory `target` ("module:function") with Granian on
    `settings.host:port`, with `settings`' workers, connection timeouts and log level,
    and a metrics directory for the run (mnemo.metrics_dir), until stopped; the exit
    code (3 if it could not start). `mnemo serve` serves mnemo with it, and the
    benchmark serves its floors (bench/floor.py) with it, so that both run under the
    same server and settings."""
    import multiprocessing

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    raise_fd_limit()
    # Workers start as fresh interpreters (as on Windows and macOS), never as forks of
    # this process, which has opened the database and run an event loop.
    multiprocessing.set_start_method("spawn", force=True)
    server = Granian(
        target,
        address=settings.host,
        port=port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=settings.workers,
        http=HTTPModes.http1,
        websockets=False,
        backlog=BACKLOG,
        backpressure=settings.max_concurrent_requests,
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.header_timeout_s * 1000)),
        log_level=LogLevels(settings.log_level),
        log_access=False,  # mnemo writes its own access lines, with request ids (mnemo.logs)
        log_dictconfig=GRANIAN_LOGS,
        workers_kill_timeout=GRACEFUL_SHUTDOWN_S,
        respawn_failed_workers=True,  # a worker that dies is replaced (not in a crash loop)
    )
    configure_logs(settings.log_level)  # after Granian's own set-up; workers: the factory
    try:
        with metrics_dir.for_run():  # the workers' metrics, summed by /metrics
            server.serve()
    except KeyboardInterrupt:  # Ctrl-C: Granian stopped its workers gracefully
        return 0
    except SystemExit as stop:  # non-zero when workers fail to start (or keep dying)
        return EXIT_UNAVAILABLE if stop.code else 0
    return 0


def run(settings: Settings, sock: socket.socket) -> int:
    """Serve mnemo on the address `sock` was bound to until stopped; the exit code.
    Granian binds its own listening socket (one per worker on Linux), so `sock`, which
    proved the address free and chose the port for `--port 0`, is closed just before."""
    _, port = address(sock)
    sock.close()
    return serve_app(APP, settings, port)
