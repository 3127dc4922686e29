"""`mnemo serve` start-up: the address printed is the one bound, and every failure to
start (Redis, the database, the port) is one line before anything says "Listening"."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mnemo.cli_support import EXIT_UNAVAILABLE, EXIT_USAGE
from tests.e2e.server import MNEMO, free_port, run_cli, wait_for
from tests.e2e.test_cli_errors import TIMEOUT_S, assert_one_line_error

_LISTENING = re.compile(r"^Listening on http://127\.0\.0\.1:(\d+) \((\d+) workers?\)")


def _start(
    *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], list[str]]:
    """Start `mnemo serve ARGS`; return it and its stdout lines up to "Listening"."""
    process = subprocess.Popen(
        [*MNEMO, "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "MNEMO_LOG_LEVEL": "warning", **(env or {})},
        start_new_session=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:  # the banner comes before the server starts
        lines.append(line.rstrip("\n"))
        if line.startswith("Get an API key"):
            break
    return process, lines


def _ready(port: int) -> bool:
    """Whether /readyz on `port` answers 200 within the tests' timeout."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=TIMEOUT_S).is_success
        except httpx.TransportError:
            time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=TIMEOUT_S)


def test_port_0_prints_the_port_that_was_bound(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    process, lines = _start("--port", "0", "--database-url", url)
    try:
        found = [m for m in map(_LISTENING.match, lines) if m]
        assert len(found) == 1, lines
        port = int(found[0].group(1))
        assert port != 0
        # The server listens on that port a moment after the banner (README).
        assert _ready(port)
        assert f"API docs at http://127.0.0.1:{port}/docs" in lines[1]
    finally:
        _stop(process)


def test_workers_serve_the_port_the_command_chose(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    process, lines = _start("--port", "0", "--workers", "2", "--database-url", url)
    try:
        found = [m for m in map(_LISTENING.match, lines) if m]
        assert len(found) == 1 and found[0].group(2) == "2", lines
        port = int(found[0].group(1))
        assert _ready(port)
        for _ in range(6):  # new connections, spread over the workers by the kernel
            with httpx.Client() as client:
                assert client.get(f"http://127.0.0.1:{port}/readyz", timeout=TIMEOUT_S).is_success
    finally:
        _stop(process)


def _workers(main: int) -> set[int]:
    """The worker processes of the server whose main process is `main` (its children
    started by multiprocessing's spawn, not its resource tracker)."""
    children = Path(f"/proc/{main}/task/{main}/children").read_text("ascii").split()
    found = set()
    for pid in map(int, children):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:  # it just ended
            pass
    return found


def _listening(port: int) -> int:
    """How many sockets listen on `port` (one per worker: each binds its own)."""
    rows = Path("/proc/net/tcp").read_text("ascii").splitlines()[1:]
    return sum(
        1 for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A"
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    process, lines = _start("--port", "0", "--workers", "2", "--database-url", url)
    try:
        port = int(next(m for m in map(_LISTENING.match, lines) if m).group(1))
        assert _ready(port)
        # Both listen before one is killed (a loaded machine starts them seconds apart;
        # killing the only one listening would leave none for a moment).
        wait_for(lambda: _listening(port) == 2, TIMEOUT_S)
        workers = _workers(process.pid)
        assert len(workers) == 2, workers
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in (now := _workers(process.pid)) and len(now) == 2, TIMEOUT_S)
        wait_for(lambda: _listening(port) == 2, TIMEOUT_S)  # the new worker listens too
        assert process.poll() is None
        for _ in range(6):
            with httpx.Client() as client:
                assert client.get(f"http://127.0.0.1:{port}/readyz", timeout=TIMEOUT_S).is_success
    finally:
        _stop(process)


def test_the_banner_hint_names_the_launcher(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    process, lines = _start("--port", "0", "--database-url", url, env={"MNEMO_LAUNCHER": "./run"})
    try:
        assert "Get an API key for a user: ./run keys create --user NAME" in lines
    finally:
        _stop(process)


def test_a_redis_url_without_a_scheme_is_refused_before_listening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    result = run_cli(
        "serve", "--port", "0", "--database-url", url,
        env={"MNEMO_REDIS_URL": "127.0.0.1:6379"}, timeout=TIMEOUT_S,
    )  # fmt: skip
    assert_one_line_error(result, EXIT_USAGE, "invalid MNEMO_REDIS_URL: Redis URL '127.0.0.1:6379'")
    assert not (tmp_path / "mnemo.db").exists()


def test_an_unreachable_redis_is_refused_before_listening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    redis = f"redis://:secret@127.0.0.1:{free_port()}/0"
    result = run_cli(
        "serve", "--port", "0", "--database-url", url,
        env={"MNEMO_REDIS_URL": redis}, timeout=TIMEOUT_S,
    )  # fmt: skip
    assert_one_line_error(result, EXIT_UNAVAILABLE, "cannot reach Redis at redis://:***@127.0.0.1:")
    assert not (tmp_path / "mnemo.db").exists()  # no key was made either


def test_a_reachable_redis_is_accepted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    process, lines = _start(
        "--port", "0", "--database-url", url, env={"MNEMO_REDIS_URL": "redis://127.0.0.1:6379/0"}
    )
    try:
        assert any(_LISTENING.match(line) for line in lines), lines
    finally:
        _stop(process)


def test_bad_settings_of_serve_name_the_flag_or_the_variable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    cases = [
        (
            [],
            {"MNEMO_PORT": "abc"},
            "invalid MNEMO_PORT 'abc': expected an integer from 0 to 65535",
        ),
        (["--port", "abc"], {}, "invalid --port 'abc': expected an integer from 0 to 65535"),
        (["--workers", "0"], {}, "invalid --workers '0': expected an integer from 1 to 64"),
        (
            ["--log-level", "verbose"],
            {},
            "invalid --log-level 'verbose': expected one of critical, error, warning, info, debug",
        ),
    ]
    for args, env, text in cases:
        result = run_cli("serve", *args, "--database-url", url, env=env, timeout=TIMEOUT_S)
        assert_one_line_error(result, EXIT_USAGE, text)
    assert not (tmp_path / "mnemo.db").exists()
