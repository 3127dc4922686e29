"""/metrics of a real `mnemo serve --workers 2`: every worker's counts, whichever worker
answers; a killed worker's counts kept and its live gauge dropped; each operator metric
moving when its event happens; the run's metrics directory removed at the end."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import Server, start_server, wait_for
from tests.helpers import MEMORIES, metric_samples
from tests.pg import fetch
from tests.tcpproxy import TcpProxy

LIST = 'mnemo_http_requests_total{method="GET",route="/v1/dev/user/memories",status="200"}'
SCRAPES = 'mnemo_http_requests_total{method="GET",route="/metrics",status="200"}'
IN_FLIGHT = "mnemo_http_requests_in_flight"
Samples = dict[str, float]


def scrape(server: Server) -> Samples:
    """/metrics on a new connection (so any worker may answer)."""
    answer = httpx.get(f"{server.base}/metrics", timeout=10)
    assert answer.status_code == 200
    return metric_samples(text_string_to_metric_families(answer.text))


def metrics_dir(tmp: Path) -> Path:
    """The run's metrics directory (the server's TMPDIR is `tmp`)."""
    (found,) = tmp.glob("mnemo-metrics-*")
    return found


def worker_pids(directory: Path) -> set[int]:
    return {int(p.stem.removeprefix("worker-")) for p in directory.glob("worker-*.pid")}


def per_worker(directory: Path, kind: str, name: str) -> dict[int, float]:
    """One metric's value in each worker's own file (`kind`: counter, gauge_livesum)."""
    values: dict[int, float] = {}
    for path in directory.glob(f"{kind}_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        found = metric_samples(MultiProcessCollector.merge([str(path)], accumulate=False))
        if name in found:
            values[pid] = found[name]
    return values


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[Server]:
    # (the held requests below wait for their body: longer than the test takes; a
    # directory named before the run is replaced by the run's own)
    chosen = tmp_path / "chosen-by-hand"
    chosen.mkdir()
    env = {
        "TMPDIR": str(tmp_path),
        "MNEMO_BODY_TIMEOUT_S": "600",
        "PROMETHEUS_MULTIPROC_DIR": str(chosen),
    }
    server = start_server(database_url, workers=2, extra_env=env)
    try:
        yield server
    finally:
        server.stop()


def _auth(server: Server) -> dict[str, str]:
    assert server.first_key, server.output
    return {"Authorization": f"Bearer {server.first_key}"}


def test_every_workers_requests_are_counted_whichever_answers(
    two_workers: Server, database_url: str, tmp_path: Path
) -> None:
    server, auth = two_workers, _auth(two_workers)
    directory = metrics_dir(tmp_path)
    wait_for(lambda: len(worker_pids(directory)) == 2)
    n = 40
    for _ in range(n):  # a new connection each: the kernel spreads them over the workers
        assert httpx.get(f"{server.base}{MEMORIES}", headers=auth).status_code == 200
    for _ in range(16):
        assert scrape(server)[LIST] == n
    lists = per_worker(directory, "counter", LIST)
    scrapes = per_worker(directory, "counter", SCRAPES)
    assert sum(lists.values()) == n and len(lists) == 2 and min(lists.values()) > 0, lists
    assert len(scrapes) == 2 and sum(scrapes.values()) >= 15, scrapes  # both answered

    for i in range(3):
        body = {"content": f"User keeps bees number {i}", "visibility": "private"}
        answer = httpx.post(f"{server.base}{MEMORIES}", headers=auth, json=body)
        assert answer.status_code == 200, answer.text
    stored = fetch(database_url, "SELECT count(*) FROM memories")[0][0]
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    assert stored == 3
    assert scrape(server)[f'mnemo_memories{{backend="{backend}"}}'] == stored

    server.stop()
    assert not directory.exists()
    assert not any((tmp_path / "chosen-by-hand").iterdir())


def _hold_request(server: Server) -> socket.socket:
    """A request in flight until its connection closes: a body announced, never sent."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(
        f"POST {MEMORIES} HTTP/1.1\r\nHost: x\r\nAuthorization: {_auth(server)['Authorization']}"
        "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
    )
    return sock


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_killed_workers_counts_stay_and_its_live_gauge_goes(
    two_workers: Server, tmp_path: Path
) -> None:
    server, auth = two_workers, _auth(two_workers)
    directory = metrics_dir(tmp_path)
    wait_for(lambda: len(worker_pids(directory)) == 2)
    n = 30
    for _ in range(n):
        assert httpx.get(f"{server.base}{MEMORIES}", headers=auth).status_code == 200
    held = [_hold_request(server) for _ in range(8)]
    try:
        wait_for(lambda: sum(per_worker(directory, "gauge_livesum", IN_FLIGHT).values()) == 8)
        in_flight = per_worker(directory, "gauge_livesum", IN_FLIGHT)
        victim = max(in_flight, key=lambda pid: in_flight[pid])
        lost = in_flight[victim]
        assert lost > 0
        assert scrape(server)[IN_FLIGHT] == 8 + 1  # the scrape itself is in flight
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in worker_pids(directory) or not _exists(victim))
        # The scrape marks the killed worker dead: its requests leave the live gauge.
        assert scrape(server)[IN_FLIGHT] == 8 - lost + 1
        assert victim not in worker_pids(directory)
        # Its counts stay in the sums; the worker that replaces it counts on top.
        assert scrape(server)[LIST] == n
        wait_for(lambda: len(worker_pids(directory)) == 2, timeout_s=60)
        for _ in range(n):
            assert httpx.get(f"{server.base}{MEMORIES}", headers=auth).status_code == 200
        assert scrape(server)[LIST] == 2 * n
    finally:
        for sock in held:
            sock.close()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _histogram_count(found: Samples, name: str, labels: str = "") -> float:
    return found.get(f"{name}_count{{{labels}}}" if labels else f"{name}_count", 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_search_embedding_and_rejection_metrics_move(database_url: str, tmp_path: Path) -> None:
    env = {"TMPDIR": str(tmp_path), "MNEMO_RATE_LIMIT_READS": "3"}
    server = start_server(database_url, workers=2, extra_env=env)
    try:
        auth = _auth(server)
        before = scrape(server)
        assert _histogram_count(before, "mnemo_search_duration_seconds") == 0
        embedding = "mnemo_embedding_duration_seconds"
        assert all(
            _histogram_count(before, embedding, f'kind="{k}"') == 0
            for k in ("batch", "background", "search")
        )
        body = {"content": "User keeps bees in the garden", "visibility": "private"}
        assert httpx.post(f"{server.base}{MEMORIES}", headers=auth, json=body).status_code == 200
        # The background embedder embeds it: one model call, counted as background work.
        wait_for(lambda: scrape(server).get("mnemo_embeddings_computed_total", 0) == 1)
        after = scrape(server)
        assert _histogram_count(after, embedding, 'kind="background"') >= 1
        assert _histogram_count(after, embedding, 'kind="batch"') >= 1
        assert _histogram_count(after, embedding, 'kind="search"') == 0

        found = httpx.get(f"{server.base}{MEMORIES}/search?query=bees", headers=auth)
        assert found.status_code == 200 and found.json()["items"], found.text
        searched = scrape(server)
        assert _histogram_count(searched, "mnemo_search_duration_seconds") == 1
        assert _histogram_count(searched, embedding, 'kind="search"') == 1
        assert searched["mnemo_search_duration_seconds_sum"] > 0

        # Reads past the limit (3 a minute per key in each worker, without Redis): 429s.
        statuses = [
            httpx.get(f"{server.base}{MEMORIES}", headers=auth).status_code for _ in range(12)
        ]
        refused = statuses.count(429)
        assert refused >= 12 - 2 * 3 + 1 and set(statuses) <= {200, 429}, statuses
        assert scrape(server)['mnemo_rejections_total{limit="reads"}'] == refused
    finally:
        server.stop()


class _ProxyThread:
    """A `TcpProxy` served by an event loop of its own thread, so that the test may block
    on HTTP calls while the server's database traffic goes through it."""

    def __init__(self, host: str, port: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = TcpProxy(host, port)
        self.call(self.proxy.restore())

    def call(self, work: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=30)

    def close(self) -> None:
        self.call(self.proxy.cut())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_database_errors_are_counted_when_the_connection_is_cut(
    database_url: str, tmp_path: Path
) -> None:
    upstream = urlsplit(database_url)
    proxied = _ProxyThread(upstream.hostname or "127.0.0.1", upstream.port or 5432)
    via_proxy = database_url.replace(upstream.netloc, f"postgres@127.0.0.1:{proxied.proxy.port}")
    server = start_server(via_proxy, workers=1, extra_env={"TMPDIR": str(tmp_path)})
    try:
        auth = _auth(server)
        errors = (
            'mnemo_database_errors_total{backend="postgresql",kind="unavailable",operation="read"}'
        )
        assert errors not in scrape(server)
        assert httpx.get(f"{server.base}{MEMORIES}", headers=auth).status_code == 200
        proxied.call(proxied.proxy.cut())
        assert httpx.get(f"{server.base}{MEMORIES}", headers=auth).status_code == 503
        down = scrape(server)  # still answers; the database's gauges are left out
        assert down[errors] >= 1
        assert not any(name.startswith("mnemo_memories") for name in down)
        proxied.call(proxied.proxy.restore())
        wait_for(lambda: httpx.get(f"{server.base}/readyz").status_code == 200)
        back = scrape(server)
        assert back[errors] >= down[errors]
        assert back['mnemo_memories{backend="postgresql"}'] == 0
    finally:
        server.stop()
        proxied.close()
