"""A JSON body sent without a JSON Content-Type is a 422 in FastAPI's validation shape
whose message says what to send, on every route that takes a JSON body; nothing changes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mnemo.config import Settings
from tests.helpers import MEMORIES, create, list_all

JSON_REQUIRED = "The body must be JSON sent with Content-Type: application/json"
NOT_JSON = [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "text/json",
]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The Content-Type check happens before any store is used: one backend is enough."""
    return f"sqlite:///{tmp_path}/mnemo.db"


async def test_every_json_route_says_a_non_json_content_type_is_the_problem(client, alice) -> None:
    memory = await create(client, alice, content="User likes tea")
    routes = [
        ("POST", MEMORIES, {"content": "User likes coffee"}, "model_attributes_type"),
        (
            "POST",
            f"{MEMORIES}/batch",
            {"memories": [{"content": "User likes coffee"}]},
            "model_attributes_type",
        ),
        ("PATCH", f"{MEMORIES}/{memory['id']}", {"content": "User likes coffee"}, "dict_type"),
    ]
    for method, path, body, kind in routes:
        raw = json.dumps(body)
        for content_type in NOT_JSON:
            headers = dict(alice)
            if content_type is not None:
                headers["Content-Type"] = content_type
            response = await client.request(method, path, content=raw.encode(), headers=headers)
            why = f"this request's is {content_type!r}" if content_type else "this request has none"
            assert response.status_code == 422, (method, path, content_type)
            assert response.json() == {
                "detail": [
                    {"type": kind, "loc": ["body"], "msg": f"{JSON_REQUIRED}; {why}", "input": raw}
                ]
            }, (method, path, content_type)
    assert await list_all(client, alice) == [memory]  # nothing changed


async def test_json_content_types_are_accepted_and_other_422s_keep_their_words(
    client, alice
) -> None:
    memory = await create(client, alice, content="User likes tea")
    for content_type in ("application/json", "application/json; charset=utf-8"):
        response = await client.patch(
            f"{MEMORIES}/{memory['id']}",
            content=json.dumps({"content": "User likes green tea"}).encode(),
            headers={**alice, "Content-Type": content_type},
        )
        assert response.status_code == 200, (content_type, response.text)
    response = await client.post(MEMORIES, json={"memories": "x"}, headers=alice)
    assert response.status_code == 422
    assert [item["msg"] for item in response.json()["detail"]] == ["Field required"]
    response = await client.post(MEMORIES, headers=alice)  # no body at all
    assert response.json()["detail"][0]["msg"] == "Field required"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN)


ADMIN_TOKEN = "t" * 40
NOT_UTF8 = b'{"content": "\x80\xff"}'


async def test_a_body_that_is_not_utf8_under_a_non_json_type_is_a_422_on_every_route(
    app, client, alice
) -> None:
    """Every route of the OpenAPI document that takes a JSON body, sent bytes that are not
    UTF-8 as text/plain: FastAPI validates the raw bytes and echoes them; they are shown
    escaped, in the 422's shape, never a 500."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    tried = 0
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            url = re.sub(r"\{[^}]+\}", "0193a0b4-7c2e-7d1a-8b3c-1234567890ab", path)
            key = admin if path.startswith("/v1/admin") else alice
            headers = {**key, "Content-Type": "text/plain"}
            response = await client.request(method, url, content=NOT_UTF8, headers=headers)
            tried += 1
            assert response.status_code == 422, (method, path, response.text)
            [issue] = [i for i in response.json()["detail"] if i["loc"] == ["body"]]
            assert issue["input"] == '{"content": "\\x80\\xff"}', (method, path)
            assert issue["msg"] == f"{JSON_REQUIRED}; this request's is 'text/plain'"
    assert tried >= 15  # memories, conversations, action items, webhooks, admin
    assert await list_all(client, alice) == []
