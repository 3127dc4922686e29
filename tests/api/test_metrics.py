"""/metrics in one process (the app's own registry): the memories gauge against the
stores' counts, rejections by limit, a real SQLite failure counted, bounded labels, and
the webhook delivery counter. tests/e2e/test_metrics_e2e.py covers several workers."""

from __future__ import annotations

import asyncio
from contextlib import closing

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlean import dbapi2 as sqlite3

from mnemo.config import Settings
from mnemo.metrics import Metrics
from tests.helpers import MEMORIES, create, metric_samples, serving
from tests.pg import fetch, run_sql


def samples(text: str) -> dict[str, float]:
    return metric_samples(text_string_to_metric_families(text))


async def scrape(client: httpx.AsyncClient) -> dict[str, float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    return samples(answer.text)


def _backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


async def test_the_memories_gauge_matches_the_store(client, alice, bob, database_url) -> None:
    gauge = f'mnemo_memories{{backend="{_backend(database_url)}"}}'
    assert (await scrape(client))[gauge] == 0
    made = [await create(client, alice, content=f"User likes tea number {i}") for i in range(3)]
    await create(client, bob, content="User likes coffee")
    assert (await client.delete(f"{MEMORIES}/{made[0]['id']}", headers=alice)).status_code == 200
    stored = fetch(database_url, "SELECT count(*) FROM memories")[0][0]
    assert stored == 3
    assert (await scrape(client))[gauge] == stored


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_reports_the_planners_estimate_past_the_exact_count_bound(
    client, alice, database_url
) -> None:
    """Past 100,000 rows no count(*) runs at each scrape: the planner's estimate is shown
    (set here as ANALYZE would on a large table)."""
    await create(client, alice, content="User likes tea")
    schema = database_url.split("search_path=")[1].split("&")[0]
    run_sql(schema, "UPDATE pg_class SET reltuples = 250000 WHERE oid = 'memories'::regclass")
    assert (await scrape(client))['mnemo_memories{backend="postgresql"}'] == 250_000
    run_sql(schema, "ANALYZE memories")  # the estimate is 1 row again: counted exactly
    assert (await scrape(client))['mnemo_memories{backend="postgresql"}'] == 1


async def test_rejections_are_counted_by_limit(database_url) -> None:
    settings = Settings(database_url=database_url, embed_queue_user_limit=1)
    async with serving(settings) as (app, client, alice):
        app.state.mnemo.service.retrieval.embed_queued = _never  # the queue stays full
        await create(client, alice, content="User likes tea")
        refused = await client.post(MEMORIES, headers=alice, json={"content": "User jams"})
        assert refused.status_code == 429, refused.text
        found = await scrape(client)
        assert found['mnemo_rejections_total{limit="embedding_queue_user"}'] == 1
        assert 'mnemo_rejections_total{limit="reads"}' not in found


async def _never(*args: object, **kwargs: object) -> None:
    """The background embedder's work, held until it is stopped."""
    await asyncio.Event().wait()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_real_sqlite_failure_is_counted(client, alice, database_url) -> None:
    errors = 'mnemo_database_errors_total{backend="sqlite",kind="error",operation="read"}'
    assert errors not in await scrape(client)
    with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
        conn.execute("DROP TABLE action_items")  # the store's next read of it fails
        conn.commit()
    answer = await client.get("/v1/dev/user/action-items", headers=alice)
    assert answer.status_code == 500
    assert (await scrape(client))[errors] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_labels_stay_bounded_whatever_the_request(client) -> None:
    """A made-up method or path adds no series of its own."""
    for i in range(5):
        await client.request(f"BREW{i}", f"/no/such/path/{i}")
    text = (await client.get("/metrics")).text
    found = samples(text)
    assert found['mnemo_http_requests_total{method="other",route="unmatched",status="404"}'] == 5
    assert "BREW" not in text and "/no/such" not in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_webhook_deliveries_are_counted_by_outcome(app: FastAPI, client) -> None:
    metrics: Metrics = app.state.mnemo.metrics
    found = await scrape(client)
    for outcome in ("delivered", "retried", "failed"):
        assert found[f'mnemo_webhook_deliveries_total{{outcome="{outcome}"}}'] == 0
    metrics.webhook_delivery("delivered")
    metrics.webhook_delivery("failed")
    found = await scrape(client)
    assert found['mnemo_webhook_deliveries_total{outcome="delivered"}'] == 1
    assert found['mnemo_webhook_deliveries_total{outcome="failed"}'] == 1
    with pytest.raises(ValueError, match="unknown webhook delivery outcome"):
        metrics.webhook_delivery("user-42")
