"""Prometheus metrics: what every worker counts, and the page `/metrics` answers.

Under `mnemo serve` each worker is a process of its own, and the metrics are those of
all of them: `mnemo serve` gives the workers a directory of its own for the run
(`mnemo.metrics_dir`, in `PROMETHEUS_MULTIPROC_DIR`), prometheus_client's multiprocess
mode keeps each worker's counters and histograms in files there, and a scrape, on
whichever worker answers it, sums the files of every worker (`MultiProcessCollector`).
Without that variable (an app built in a test, or by another ASGI server) the metrics
are those of this process, in a registry of the app's own, as before.

Every metric and its labels are listed in docs/metrics.md; labels take values from
fixed sets (route templates, policy names...), never a user, a key or an id.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mnemo import metrics_dir

__all__ = ["CONTENT_TYPE_LATEST", "WEBHOOK_OUTCOMES", "Metrics", "MetricsMiddleware", "Scraped"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
# Embedding calls take from ~5 ms (a query) to seconds (a backlog behind a crowd).
_EMBEDDING_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
EMBEDDING_KINDS = ("batch", "background", "search")
DATABASE_OPERATIONS = ("connect", "read", "write")
# What became of one delivery attempt of a webhook event: answered 2xx; failed and to be
# tried again; failed for the last time (the event is kept as failed).
WEBHOOK_OUTCOMES = ("delivered", "retried", "failed")
# A request's method as a label; any other (a client may send any token) is "other".
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass
class Scraped:
    """The gauges a scrape reads from the database (shared by every worker, so the
    answering worker's reading is everyone's); None: not read (the database is away)."""

    backend: str
    memories: int | None = None
    embedding_queue: int | None = None


class _ScrapedCollector(Collector):
    """Yields the last `Scraped` values: collected by the worker that answers a scrape,
    never written to the multiprocess files."""

    def __init__(self, scraped: Scraped) -> None:
        self.scraped = scraped

    def collect(self) -> Iterator[GaugeMetricFamily]:
        memories = GaugeMetricFamily(
            "mnemo_memories",
            "Memories stored, by backend, when scraped (docs/metrics.md: exact, or on"
            " PostgreSQL past 100,000 rows the planner's estimate).",
            labels=["backend"],
        )
        queue = GaugeMetricFamily(
            "mnemo_embedding_queue_depth",
            "Memories waiting in the embedding queue (all processes), when scraped.",
        )
        if self.scraped.memories is not None:
            memories.add_metric([self.scraped.backend], self.scraped.memories)
        if self.scraped.embedding_queue is not None:
            queue.add_metric([], self.scraped.embedding_queue)
        yield memories
        yield queue


class Metrics:
    """The metrics of one app: a registry of its own, so several apps in one process do
    not clash; with `PROMETHEUS_MULTIPROC_DIR` set (as `mnemo serve` does), the values
    are also those of every worker (module docstring)."""

    def __init__(self, backend: str) -> None:
        self.multiprocess_dir = metrics_dir.current()
        self.registry = CollectorRegistry()
        self.scraped = Scraped(backend)
        self._scraped = _ScrapedCollector(self.scraped)
        registry = self.registry
        self.requests = Counter(
            "mnemo_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "mnemo_http_request_duration_seconds",
            "Time from request to the start of the response, by method and route.",
            ["method", "route"],
            registry=registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.in_flight = Gauge(
            "mnemo_http_requests_in_flight",
            "HTTP requests being answered now (of the workers alive).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.search_latency = Histogram(
            "mnemo_search_duration_seconds",
            "Time of a search (hybrid: keyword and semantic rankings fused), start to"
            " ranked memories.",
            registry=registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.embedding_latency = Histogram(
            "mnemo_embedding_duration_seconds",
            "Time of embeddings: one model call (batch), the background embedder's"
            " texts (background), a request's texts (search), waits included.",
            ["kind"],
            registry=registry,
            buckets=_EMBEDDING_BUCKETS,
        )
        self.embedded = Counter(
            "mnemo_embeddings_computed_total",
            "Queued memories whose embedding was computed and stored.",
            registry=registry,
        )
        self.database_errors = Counter(
            "mnemo_database_errors_total",
            "Database failures, by backend, operation (connect, read, write) and kind"
            " (unavailable: lost or refused; error: anything else).",
            ["backend", "operation", "kind"],
            registry=registry,
        )
        self.rejections = Counter(
            "mnemo_rejections_total",
            "Requests refused by a rate limit or a queue bound, by limit.",
            ["limit"],
            registry=registry,
        )
        self.webhook_deliveries = Counter(
            "mnemo_webhook_deliveries_total",
            "Webhook delivery attempts, by outcome (delivered, retried, failed).",
            ["outcome"],
            registry=registry,
        )
        for kind in EMBEDDING_KINDS:  # each series shown from the start, at zero
            self.embedding_latency.labels(kind)
        for outcome in WEBHOOK_OUTCOMES:
            self.webhook_deliveries.labels(outcome)
        registry.register(self._scraped)
        # HTTP requests this process is answering now, and when the last one started
        # or ended (time.monotonic()): the background embedder gives way to them.
        self.answering = 0
        self.last_request = 0.0
        if self.multiprocess_dir is not None:
            metrics_dir.register_worker(self.multiprocess_dir)

    def busy(self, quiet_s: float) -> bool:
        """Whether a request is in flight or one started or ended in the last `quiet_s`."""
        return self.answering > 0 or time.monotonic() - self.last_request < quiet_s

    def embedding(self, kind: str, seconds: float) -> None:
        self.embedding_latency.labels(kind).observe(seconds)

    def database_error(self, backend: str, operation: str, unavailable: bool) -> None:
        kind = "unavailable" if unavailable else "error"
        self.database_errors.labels(backend, operation, kind).inc()

    def rejected(self, limit: str) -> None:
        self.rejections.labels(limit).inc()

    def webhook_delivery(self, outcome: str) -> None:
        """Count one delivery attempt; `outcome` is one of `WEBHOOK_OUTCOMES`."""
        if outcome not in WEBHOOK_OUTCOMES:
            raise ValueError(f"unknown webhook delivery outcome {outcome!r}")
        self.webhook_deliveries.labels(outcome).inc()

    def exposition(self) -> bytes:
        """The Prometheus text of every worker's metrics (of this process's without a
        multiprocess directory), with the last `scraped` gauges."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        metrics_dir.mark_dead_workers(self.multiprocess_dir)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        registry.register(self._scraped)
        return generate_latest(registry)

    def close(self) -> None:
        """This worker stops: its live gauges leave the sums (its counters stay)."""
        if self.multiprocess_dir is not None:
            metrics_dir.worker_exited(self.multiprocess_dir, os.getpid())


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        metrics = self.metrics
        metrics.answering += 1
        metrics.in_flight.inc()
        metrics.last_request = time.monotonic()

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            metrics.answering -= 1
            metrics.in_flight.dec()
            metrics.last_request = time.monotonic()
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"] if scope["method"] in _METHODS else "other"
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.latency.labels(method, route).observe(time.perf_counter() - started)
