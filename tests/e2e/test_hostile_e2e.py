"""Hostile traffic at a real server: oversized headers, raw garbage, and secrets that
must never reach the logs."""

from __future__ import annotations

import socket

import httpx

from tests.e2e.server import run_cli, start_server
from tests.helpers import MEMORIES


def _raw(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def test_oversized_headers_and_garbage_are_refused_and_the_server_lives(tmp_path) -> None:
    server = start_server(f"sqlite:///{tmp_path}/h.db")
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}
        huge = _raw(
            server.port,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
            + b"a" * 200_000
            + b"\r\n\r\n",
        )
        assert huge.startswith(b"HTTP/1.1 431 ")
        assert huge.endswith(b'{"detail":"Request headers too large: the limit is 16384 bytes"}')
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
        answer = _raw(
            server.port,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + many + b"\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 431 ")
        for garbage in (
            b"\x00\x01\x02\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
            b"POST /v1/dev/user/memories HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"GET /%%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ):
            answer = _raw(server.port, garbage)
            assert b" 500 " not in answer
        long_key = httpx.get(
            f"{server.base}{MEMORIES}", headers={"Authorization": "Bearer " + "k" * 8000}
        )
        assert long_key.status_code == 401
        assert httpx.get(f"{server.base}{MEMORIES}", headers=headers).status_code == 200
    finally:
        server.stop()
    assert "Traceback" not in "\n".join(server.output)


def test_keys_never_reach_the_logs(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/l.db"
    # the access log too (off by default): no line of it may hold a key
    server = start_server(url, log_level="debug", extra_env={"MNEMO_ACCESS_LOG": "true"})
    second = run_cli("keys", "create", "--user", "eve", "--database-url", url)
    secret = second.stdout.strip().splitlines()[-1]
    try:
        for key in (server.first_key, secret, "omi_dev_" + "a" * 32):
            headers = {"Authorization": f"Bearer {key}"}
            httpx.get(f"{server.base}{MEMORIES}", headers=headers)
            httpx.post(f"{server.base}{MEMORIES}", json={"content": ""}, headers=headers)
            httpx.get(f"{server.base}{MEMORIES}?api_key_guess={key[:12]}x", headers=headers)
            httpx.delete(f"{server.base}{MEMORIES}/nope", headers=headers)
        metrics = httpx.get(f"{server.base}/metrics").text
    finally:
        server.stop()
    after_start = "\n".join(server.output).split("Get an API key for a user", 1)[1]
    assert "127.0.0.1" in after_start  # access lines were logged at debug level
    for key in (server.first_key, secret):
        assert key and key not in after_start and key not in metrics
        assert key[8:] not in after_start
