"""Start and stop a real `mnemo serve` process for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

MNEMO = [sys.executable, "-m", "mnemo"]
_KEY = re.compile(r"omi_dev_[0-9a-f]{32}")


def wait_for(check: Callable[[], object], timeout_s: float = 30) -> None:
    """Poll `check()` until it is true; fail the test if it is not within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a `mnemo` command to completion (stdin empty; `timeout` fails a hang)."""
    return subprocess.run(
        [*MNEMO, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    database_url: str
    output: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def first_key(self) -> str | None:
        found = _KEY.search("\n".join(self.output))
        return found.group(0) if found else None

    def kill(self) -> None:
        """SIGKILL the server and all its workers, at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    database_url: str,
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    via_env: bool = False,
    log_level: str = os.environ.get("MNEMO_TEST_LOG_LEVEL", "warning"),
) -> Server:
    """Start `mnemo serve` on a free port and wait until /readyz answers.

    The settings go on the command line, or with `via_env` in `MNEMO_*` variables."""
    port = free_port()
    settings = {
        "port": str(port),
        "database-url": database_url,
        "workers": str(workers),
        "log-level": log_level,
    }
    env = {**os.environ, **(extra_env or {})}
    command = [*MNEMO, "serve"]
    for name, value in settings.items():
        if via_env:
            env["MNEMO_" + name.upper().replace("-", "_")] = value
        else:
            command += [f"--{name}", value]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    server = Server(process, port, database_url)
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            server.output.append(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("mnemo serve exited:\n" + "\n".join(server.output))
        try:
            if httpx.get(f"{server.base}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("mnemo serve did not become ready:\n" + "\n".join(server.output))
