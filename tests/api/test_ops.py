"""/healthz, /readyz, /metrics, /openapi.json and the offline /docs page."""

from __future__ import annotations

import re

import httpx

from tests.helpers import MEMORIES, create


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_openapi_documents_every_route_and_bearer_auth(client) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    assert set(paths[MEMORIES]) == {"get", "post", "delete"}
    assert set(paths[f"{MEMORIES}/batch"]) == {"post"}
    assert set(paths[f"{MEMORIES}/{{memory_id}}"]) == {"get", "patch", "delete"}
    patch_body = paths[f"{MEMORIES}/{{memory_id}}"]["patch"]["requestBody"]
    assert patch_body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MemoryUpdate"
    }
    schemas = document["components"]["schemas"]
    assert {"MemoryUpdate", "MemoryCreate", "Memory", "MemoryCategory"} <= set(schemas)
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_docs_page_works_offline(client) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page.text)
    assert assets and all(asset.startswith("/") for asset in assets), assets
    for asset in assets:
        assert (await client.get(asset)).status_code == 200, asset


async def test_metrics_count_requests_by_route(client, alice) -> None:
    await create(client, alice)
    await client.get(f"{MEMORIES}/missing", headers=alice)
    text = (await client.get("/metrics")).text
    assert (
        'mnemo_http_requests_total{method="POST",route="/v1/dev/user/memories",status="200"} 1.0'
        in text
    )
    assert (
        'mnemo_http_requests_total{method="GET",route="/v1/dev/user/memories/{memory_id}",'
        'status="404"} 1.0'
    ) in text
    assert "omi_dev_" not in text
