"""Slow and idle connections against a real server with short timeouts (docs/security.md,
"Connections"): each is closed or answered within its timeout, and other clients are
served all the while."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, start_server
from tests.helpers import MEMORIES

HEADER_TIMEOUT_S = 1
BODY_TIMEOUT_S = 1
MAX_CONCURRENT = 4
# A connection the server should close after a 1 s timeout must be closed well before
# this; the bound only keeps a broken server from hanging the test.
CLOSED_WITHIN_S = 15
LOW_SOFT_FD_LIMIT = 512


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("connections") / "c.db"
    with _low_soft_fd_limit():  # the server inherits it, and must raise it
        running = start_server(
            f"sqlite:///{path}",
            extra_env={
                "MNEMO_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
                "MNEMO_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
                "MNEMO_MAX_CONCURRENT_REQUESTS": str(MAX_CONCURRENT),
            },
        )
    try:
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def _low_soft_fd_limit() -> Iterator[None]:
    try:
        import resource
    except ImportError:  # Windows: no such limit
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, LOW_SOFT_FD_LIMIT), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def auth(server: Server) -> dict[str, str]:
    assert server.first_key, server.output
    return {"Authorization": f"Bearer {server.first_key}"}


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=CLOSED_WITHIN_S)
    return sock


def _read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long the
    server took to close it; fails if it is still open after CLOSED_WITHIN_S."""
    started = time.monotonic()
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"still open after {CLOSED_WITHIN_S} s")
    return b"".join(chunks), time.monotonic() - started


def _served(server: Server, auth: dict[str, str]) -> bool:
    response = httpx.get(f"{server.base}{MEMORIES}", headers=auth, timeout=CLOSED_WITHIN_S)
    return response.status_code == 200


def test_a_connection_that_never_sends_a_byte_is_closed(server: Server, auth) -> None:
    with _connect(server) as sock:
        assert _served(server, auth)  # others are served meanwhile
        answer, _ = _read_until_closed(sock)
    assert answer == b""


def test_trickled_headers_are_closed_after_the_header_timeout(server: Server, auth) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    socks = [_connect(server) for _ in range(10)]
    stop = threading.Event()

    def trickle(sock: socket.socket) -> None:  # a byte every 50 ms: never a whole head
        for byte in head:
            if stop.wait(0.05):
                return
            try:
                sock.send(bytes([byte]))
            except OSError:  # closed by the server: what the test waits for
                return

    threads = [threading.Thread(target=trickle, args=(sock,), daemon=True) for sock in socks]
    for thread in threads:
        thread.start()
    try:
        assert _served(server, auth)
        for sock in socks:
            answer, _ = _read_until_closed(sock)
            assert b"200 OK" not in answer
    finally:
        stop.set()
        for sock in socks:
            sock.close()


def test_an_idle_keep_alive_connection_is_closed(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        rest, _ = _read_until_closed(sock)  # no second request: closed when idle
    assert rest == b""


def test_a_body_shorter_than_its_content_length_is_a_408(server: Server, auth) -> None:
    before = httpx.get(f"{server.base}{MEMORIES}", headers=auth).json()
    with _connect(server) as sock:
        sock.sendall(
            b"POST " + MEMORIES.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: " + auth["Authorization"].encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"content": "never finis'
        )
        answer, _ = _read_until_closed(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in head.lower()
    assert body == b'{"detail":"Request body not received within 1 s"}'
    assert httpx.get(f"{server.base}{MEMORIES}", headers=auth).json() == before


def test_a_trickled_body_is_a_408_within_the_body_timeout(server: Server, auth) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST " + MEMORIES.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: " + auth["Authorization"].encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
        )
        for _ in range(100):  # a byte every 50 ms would take 200 s for the whole body
            try:
                sock.send(b" ")
            except OSError:
                break
            time.sleep(0.05)
        answer, _ = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_idle_sockets_beyond_the_cap_do_not_stop_a_normal_client(server: Server, auth) -> None:
    idle = [_connect(server) for _ in range(MAX_CONCURRENT * 10)]
    try:
        for _ in range(3):
            assert _served(server, auth)
        with httpx.Client(headers=auth, timeout=CLOSED_WITHIN_S) as client:  # keep-alive
            assert all(client.get(f"{server.base}{MEMORIES}").is_success for _ in range(5))
    finally:
        for sock in idle:
            sock.close()


def test_malformed_http_is_a_400_and_the_connection_is_closed(server: Server, auth) -> None:
    """The HTTP server's parser answers these itself, before mnemo sees a request: a
    400 with no body (docs/security.md says why it is not JSON)."""
    for garbage in (
        b"GET / HTTP/1.1\r\nHost x\r\n\r\n",  # a header without its colon
        b"\x00\x01\x02\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    ):
        with _connect(server) as sock:
            sock.sendall(garbage)
            answer, _ = _read_until_closed(sock)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 "), (garbage, answer)
        assert body == b""
    with _connect(server) as sock:  # a head over the server's 408 KiB buffer
        # the server may answer and close before it has read it all
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 600_000)
        answer, _ = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 ") and answer.endswith(b"\r\n\r\n"), answer
    assert _served(server, auth)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_open_files_limit_is_raised_to_the_hard_limit(server: Server) -> None:
    """Started with a soft limit of 512, the server and its worker run with the hard one."""
    main = server.process.pid
    children = Path(f"/proc/{main}/task/{main}/children").read_text("ascii").split()
    assert children
    for pid in [main, *map(int, children)]:
        text = Path(f"/proc/{pid}/limits").read_text("ascii")
        limits = [line.split() for line in text.splitlines()]
        soft, hard = next(words[3:5] for words in limits if words[:3] == ["Max", "open", "files"])
        assert int(soft) > LOW_SOFT_FD_LIMIT and soft == hard, (pid, soft, hard)


def test_failed_authentications_count_per_address_a_local_proxy_forwards(server: Server) -> None:
    """Behind a proxy on this machine, the client's address is the one it forwards
    (README, "Limits and defaults"): one forwarded address reaching the failed-
    authentication limit does not lock out another."""
    url = f"{server.base}{MEMORIES}"
    bad = {"Authorization": "Bearer omi_dev_" + "0" * 32}
    statuses = [
        httpx.get(url, headers={**bad, "X-Forwarded-For": "203.0.113.7"}).status_code
        for _ in range(31)
    ]
    assert statuses[:30] == [401] * 30 and statuses[30] == 429
    other = httpx.get(url, headers={**bad, "X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 401
