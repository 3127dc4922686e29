"""The OpenAPI document reads well in generated clients: every operation has a unique
lowerCamelCase `operationId`, bodies and answers carry examples, and the examples are
real: each request example, sent to a real app, is accepted and answered in the shape
its documented answer shows; each documented error sentence is one docs/api.md lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from mnemo import Settings, create_app
from tests.helpers import MEMORIES, create

ACTION_ITEMS = "/v1/dev/user/action-items"
CONVERSATIONS = "/v1/dev/user/conversations"
HOOK = "/v1/dev/user/webhooks"
ADMIN_HOOK = "/v1/admin/webhooks"

DOCUMENT = create_app(Settings()).openapi()
REFERENCE = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
OPERATIONS = [
    (method, path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
BY_ID = {operation["operationId"]: (method, path) for method, path, operation in OPERATIONS}

# Generated clients' method names: renaming one breaks their users.
EXPECTED_IDS = {
    "listMemories": ("get", MEMORIES),
    "createMemory": ("post", MEMORIES),
    "createMemories": ("post", f"{MEMORIES}/batch"),
    "getMemory": ("get", f"{MEMORIES}/{{memory_id}}"),
    "updateMemory": ("patch", f"{MEMORIES}/{{memory_id}}"),
    "deleteMemory": ("delete", f"{MEMORIES}/{{memory_id}}"),
    "getMemoryHistory": ("get", f"{MEMORIES}/{{memory_id}}/history"),
    "searchMemories": ("get", f"{MEMORIES}/search"),
    "vectorSearchMemories": ("get", f"{MEMORIES}/vector/search"),
    "deleteAllMemories": ("delete", MEMORIES),
    "mcpListMemories": ("get", "/v1/mcp/memories"),
    "mcpCreateMemory": ("post", "/v1/mcp/memories"),
    "mcpSearchMemories": ("get", "/v1/mcp/memories/search"),
    "mcpEditMemory": ("patch", "/v1/mcp/memories/{memory_id}"),
    "mcpDeleteMemory": ("delete", "/v1/mcp/memories/{memory_id}"),
    "getCurrentKey": ("get", "/v1/dev/key"),
    "createUser": ("post", "/v1/admin/users"),
    "listUsers": ("get", "/v1/admin/users"),
    "getUser": ("get", "/v1/admin/users/{name}"),
    "deleteUser": ("delete", "/v1/admin/users/{name}"),
    "createUserKey": ("post", "/v1/admin/users/{name}/keys"),
    "listUserKeys": ("get", "/v1/admin/users/{name}/keys"),
    "listKeys": ("get", "/v1/admin/keys"),
    "revokeUserKey": ("delete", "/v1/admin/users/{name}/keys/{key_id}"),
    "exportData": ("get", "/v1/admin/export"),
    "importData": ("post", "/v1/admin/import"),
    "createConversation": ("post", CONVERSATIONS),
    "createConversationFromSegments": ("post", f"{CONVERSATIONS}/from-segments"),
    "listConversations": ("get", CONVERSATIONS),
    "getConversation": ("get", f"{CONVERSATIONS}/{{conversation_id}}"),
    "updateConversation": ("patch", f"{CONVERSATIONS}/{{conversation_id}}"),
    "deleteConversation": ("delete", f"{CONVERSATIONS}/{{conversation_id}}"),
    "listActionItems": ("get", ACTION_ITEMS),
    "createActionItem": ("post", ACTION_ITEMS),
    "createActionItems": ("post", f"{ACTION_ITEMS}/batch"),
    "updateActionItem": ("patch", f"{ACTION_ITEMS}/{{action_item_id}}"),
    "deleteActionItem": ("delete", f"{ACTION_ITEMS}/{{action_item_id}}"),
    **{
        prefix + name: (method, base + path)
        for prefix, base in (("", HOOK), ("admin", ADMIN_HOOK))
        for name, method, path in (
            ("createWebhook", "post", ""),
            ("listWebhooks", "get", ""),
            ("getWebhook", "get", "/{endpoint_id}"),
            ("updateWebhook", "patch", "/{endpoint_id}"),
            ("deleteWebhook", "delete", "/{endpoint_id}"),
            ("listWebhookDeliveries", "get", "/{endpoint_id}/deliveries"),
            ("replayWebhookDelivery", "post", "/{endpoint_id}/deliveries/{delivery_id}/replay"),
        )
        for name in [name if not prefix else name[0].upper() + name[1:]]
    },
    "healthz": ("get", "/healthz"),
    "readyz": ("get", "/readyz"),
    "metrics": ("get", "/metrics"),
}


def _examples(media: dict[str, Any]) -> list[Any]:
    """The example values of one media type (`example` or named `examples`)."""
    values = [example["value"] for example in media.get("examples", {}).values()]
    return values + ([media["example"]] if "example" in media else [])


def test_operation_ids_are_unique_lower_camel_case_and_stable() -> None:
    ids = [operation.get("operationId") for _, _, operation in OPERATIONS]
    assert all(isinstance(i, str) and re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i) for i in ids)
    assert len(ids) == len(set(ids)), ids
    assert BY_ID == EXPECTED_IDS


def test_the_document_describes_the_api() -> None:
    info = DOCUMENT["info"]
    assert info["title"] == "mnemo" and "docs/api.md" in info["description"]
    assert {tag["name"] for tag in DOCUMENT["tags"]} == {
        "memories",
        "omi-mcp",
        "conversations",
        "action items",
        "webhooks",
        "keys",
        "admin",
        "operations",
    }
    for _, _, operation in OPERATIONS:
        assert operation.get("summary"), operation["operationId"]


def test_bodies_and_answers_have_examples() -> None:
    """Every request body, and every JSON answer (the 422 of an operation that takes
    neither a body nor a query is FastAPI's generic one and cannot happen)."""
    for _, _, operation in OPERATIONS:
        name = operation["operationId"]
        if "requestBody" in operation:  # JSON, or JSON Lines (the admin API's import)
            (body,) = operation["requestBody"]["content"].values()
            assert _examples(body), name
        queries = any(p["in"] == "query" for p in operation.get("parameters", []))
        for status, answer in operation["responses"].items():
            media = answer.get("content", {}).get("application/json")
            if media is None:
                continue
            if status == "422" and not queries and "requestBody" not in operation:
                continue
            assert _examples(media), (name, status)


def test_every_error_example_is_in_the_reference() -> None:
    for _, _, operation in OPERATIONS:
        for status, answer in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            for media in answer.get("content", {}).values():
                for value in _examples(media):
                    detail = value["detail"]
                    if isinstance(detail, str):
                        assert re.sub(r"\d+s\.$", "{seconds}s.", detail) in REFERENCE, detail


def _shape(value: Any) -> Any:
    """What a client relies on: the keys (recursively), not the values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_shape(value[0])]
    return "list" if isinstance(value, list) else type(value).__name__


def _operation(name: str) -> tuple[str, str, list[Any], list[Any]]:
    """An operation's method, path, the shapes of its documented 200 answers, and its
    request examples ([None] without a body)."""
    method, path = BY_ID[name]
    operation = DOCUMENT["paths"][path][method]
    documented = [
        _shape(v) for v in _examples(operation["responses"]["200"]["content"]["application/json"])
    ]
    bodies = (
        _examples(operation["requestBody"]["content"]["application/json"])
        if "requestBody" in operation
        else [None]
    )
    return method, path, documented, bodies


async def test_request_examples_are_accepted_as_documented(client, alice) -> None:
    """Each request example of each operation, sent to a real app, is answered 200 with
    a body shaped like one of the operation's documented 200 examples."""
    for name in ("createMemory", "createMemories", "updateMemory", "listMemories"):
        method, path, documented, bodies = _operation(name)
        for body in bodies:
            target = await create(client, alice, content=f"a memory for {name} {len(documented)}")
            url = path.replace("{memory_id}", target["id"])
            response = await client.request(method, url, json=body, headers=alice)
            assert response.status_code == 200, (name, body, response.text)
            assert _shape(response.json()) in documented, (name, response.json())
    for name, params in (("searchMemories", {"query": "food"}), ("getMemory", {})):
        method, path = BY_ID[name]
        operation = DOCUMENT["paths"][path][method]
        documented = [
            _shape(v)
            for v in _examples(operation["responses"]["200"]["content"]["application/json"])
        ]
        target = await create(client, alice, content="User is vegetarian", tags=["food"])
        response = await client.get(
            path.replace("{memory_id}", target["id"]), params=params, headers=alice
        )
        assert response.status_code == 200 and _shape(response.json()) in documented, name
    await _conversation_examples(client, alice)


def _without_nulls(value: Any) -> Any:
    """What FastAPI keeps of a value in the document (it drops nulls from examples)."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


async def _conversation_examples(client, alice) -> None:
    """The conversations' request examples, and the shapes of their answers (whose null
    fields the document cannot show)."""
    made: list[str] = []
    for name in (
        "createConversation",
        "createConversationFromSegments",
        "getConversation",
        "updateConversation",
        "listConversations",
    ):
        method, path, documented, bodies = _operation(name)
        for body in bodies:
            url = path.replace("{conversation_id}", made[0] if made else "")
            response = await client.request(method, url, json=body, headers=alice)
            assert response.status_code == 200, (name, body, response.text)
            shape = _shape(_without_nulls(response.json()))
            assert shape in documented, (name, shape)
            if method == "post":
                made.append(response.json()["id"])


async def test_answers_of_operations_routes_match_their_examples(client: httpx.AsyncClient) -> None:
    for name in ("healthz", "readyz"):
        method, path = BY_ID[name]
        media = DOCUMENT["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert (await client.get(path)).json() in _examples(media)
