"""Prometheus metrics of one process: requests by route and status, and latency."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    """A registry of its own per app, so several apps in one process do not clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mnemo_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mnemo_http_request_duration_seconds",
            "Time from request to the start of the response, by method and route.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.embedded = Counter(
            "mnemo_embeddings_computed_total",
            "Queued memories whose embedding this process computed and stored.",
            registry=self.registry,
        )
        self.embedding_queue = Gauge(
            "mnemo_embedding_queue_depth",
            "Memories waiting in the embedding queue (all processes), when last scraped.",
            registry=self.registry,
        )
        self.webhook_deliveries = Counter(
            "mnemo_webhook_deliveries_total",
            "Webhook delivery attempts this process made, by outcome: delivered, retry (a"
            " failed attempt to be tried again), failed (the last one).",
            ["outcome"],
            registry=self.registry,
        )
        # HTTP requests being answered now, and when the last one started or ended
        # (time.monotonic()): the background embedder gives way to them.
        self.in_flight = 0
        self.last_request = 0.0

    def busy(self, quiet_s: float) -> bool:
        """Whether a request is in flight or one started or ended in the last `quiet_s`."""
        return self.in_flight > 0 or time.monotonic() - self.last_request < quiet_s


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
        self.metrics.in_flight += 1
        self.metrics.last_request = time.monotonic()

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            self.metrics.in_flight -= 1
            self.metrics.last_request = time.monotonic()
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
