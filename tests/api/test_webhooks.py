"""Webhooks on both backends, against a real local receiver that verifies signatures with
the standardwebhooks library: the routes' contract, signed deliveries of every memory
event, isolation, scopes, hostile input, backoff and final failure, replay, deleted
content never sent after its deletion, and the check of addresses at delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest

from mnemo import Settings
from mnemo.jobs.webhooks import Deliverer
from mnemo.models import new_memory
from mnemo.webhooks.models import MAX_ENDPOINTS, WebhookCreate
from mnemo.webhooks.service import WebhookService
from tests.helpers import MEMORIES, create
from tests.webhook_receiver import Receiver, body_texts

HOOKS = "/v1/dev/user/webhooks"
ADMIN_HOOKS = "/v1/admin/webhooks"
TOKEN = "w" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
ALL = ["memory.created", "memory.updated", "memory.deleted"]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=TOKEN,
        webhooks_allow_private=True,
        webhooks_poll_s=0.02,
        webhooks_timeout_s=1.0,
        webhooks_backoff_s=0.05,
        webhooks_backoff_max_s=0.1,
        webhooks_retry_s=30,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


async def until(check: Callable[[], object], timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


async def all_delivered(client, headers, endpoint_id: str, count: int) -> list:
    """The endpoint's deliveries once `count` are listed and all delivered (an outcome
    is recorded just after the receiver answers)."""
    url = f"{HOOKS if headers is not ADMIN else ADMIN_HOOKS}/{endpoint_id}/deliveries"
    for _ in range(500):
        listed = (await client.get(url, headers=headers)).json()
        if len(listed) == count and {d["status"] for d in listed} == {"delivered"}:
            return listed
        await asyncio.sleep(0.02)
    raise AssertionError(listed)


async def register(client, headers, receiver: Receiver, url: str | None = None, **body):
    body = {"url": url or receiver.url, "events": ALL, **body}
    response = await client.post(
        HOOKS if headers is not ADMIN else ADMIN_HOOKS, json=body, headers=headers
    )
    assert response.status_code == 200, response.text
    endpoint = response.json()
    receiver.secret = endpoint["secret"]
    return endpoint


async def test_routes_contract(client: httpx.AsyncClient, alice, receiver) -> None:
    made = await register(client, alice, receiver, description="Sync", events=ALL[::-1] + ALL)
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 40
    assert made["events"] == ALL  # canonical order, no repeats
    assert made["enabled"] is True and made["description"] == "Sync"
    shown = {k: v for k, v in made.items() if k != "secret"}
    assert (await client.get(HOOKS, headers=alice)).json() == [shown]
    one = await client.get(f"{HOOKS}/{made['id']}", headers=alice)
    assert one.json() == shown and "secret" not in one.text
    patched = await client.patch(
        f"{HOOKS}/{made['id']}",
        json={"enabled": False, "events": ["memory.deleted"]},
        headers=alice,
    )
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False and patched.json()["events"] == ["memory.deleted"]
    assert patched.json()["updated_at"] > made["updated_at"]
    assert patched.json()["url"] == made["url"]
    nothing = await client.patch(f"{HOOKS}/{made['id']}", json={}, headers=alice)
    assert nothing.status_code == 422
    assert nothing.json() == {"detail": "At least one field must be provided"}
    assert (await client.get(f"{HOOKS}/{made['id']}/deliveries", headers=alice)).json() == []
    gone = await client.delete(f"{HOOKS}/{made['id']}", headers=alice)
    assert gone.json() == {"success": True}
    for method, path in (
        ("GET", ""),
        ("DELETE", ""),
        ("GET", "/deliveries"),
        ("POST", "/deliveries/msg_x/replay"),
    ):
        again = await client.request(method, f"{HOOKS}/{made['id']}{path}", headers=alice)
        assert again.status_code == 404
        assert again.json() == {"detail": "Webhook endpoint not found"}


async def test_every_event_is_delivered_signed(client, alice, receiver) -> None:
    endpoint = await register(client, alice, receiver)
    memory = await create(client, alice, content="User likes green tea")
    edited = await client.patch(
        f"{MEMORIES}/{memory['id']}", json={"content": "User likes black tea"}, headers=alice
    )
    assert edited.status_code == 200
    await until(lambda: len(receiver.received) >= 2)
    assert (await client.delete(f"{MEMORIES}/{memory['id']}", headers=alice)).status_code == 200
    await until(lambda: len(receiver.received) >= 3)
    await asyncio.sleep(0.2)
    got = receiver.verified()
    assert len(got) == len(receiver.received) == 3  # every signature verifies
    kinds = sorted(r.payload["type"] for r in got)
    assert kinds == sorted(ALL)
    for r in got:
        data = r.payload["data"]
        assert data["user"] == "alice" and data["memory_id"] == memory["id"]
        assert r.id.startswith("msg_") and r.headers["content-type"] == "application/json"
    deleted = next(r for r in got if r.payload["type"] == "memory.deleted")
    assert deleted.payload["data"]["memory"] is None
    listed = await all_delivered(client, alice, endpoint["id"], 3)
    assert [d["event"] for d in listed] == ALL[::-1]  # newest first
    assert {d["id"] for d in listed} == {r.id for r in got}
    assert all(d["attempts"] == 1 and d["next_attempt_at"] is None for d in listed)
    page = await client.get(
        f"{HOOKS}/{endpoint['id']}/deliveries", params={"limit": 1, "offset": 1}, headers=alice
    )
    assert [d["id"] for d in page.json()] == [listed[1]["id"]]


async def test_deleted_content_is_not_sent_after_its_deletion(client, alice, receiver) -> None:
    """A `memory.created` still pending when its memory is deleted is sent without it."""
    receiver.status = lambda n: 500  # nothing gets through, for now
    endpoint = await register(client, alice, receiver)
    memory = await create(client, alice, content="User's secret plan is zebra")
    await until(lambda: len(receiver.received) >= 1)
    url = f"{HOOKS}/{endpoint['id']}"
    await client.patch(url, json={"enabled": False}, headers=alice)  # its deliveries wait
    await asyncio.sleep(0.3)  # an attempt in flight ends
    assert (await client.delete(f"{MEMORIES}/{memory['id']}", headers=alice)).status_code == 200
    sent_before = len(receiver.received)
    receiver.status = lambda n: 200
    await client.patch(url, json={"enabled": True}, headers=alice)
    await until(lambda: len(receiver.verified()) > sent_before)
    after = receiver.verified()[sent_before:]
    assert [r.payload["type"] for r in after] == ["memory.created"]
    assert after[0].payload["data"] == {"user": "alice", "memory_id": memory["id"], "memory": None}
    assert b"zebra" not in body_texts(after)
    for _ in range(250):  # its outcome is recorded once the answer is in
        (listed,) = (await client.get(f"{url}/deliveries", headers=alice)).json()
        if listed["status"] == "delivered":
            break
        await asyncio.sleep(0.02)
    assert listed["status"] == "delivered"  # the only one: the deletion, while disabled


async def test_retries_then_replay(client, alice, receiver) -> None:
    receiver.status = lambda n: 500
    endpoint = await register(client, alice, receiver)
    await create(client, alice, content="User plays the cello")
    await until(lambda: len(receiver.received) >= 3)  # retried, with backoff
    url = f"{HOOKS}/{endpoint['id']}/deliveries"
    (pending,) = (await client.get(url, headers=alice)).json()
    assert pending["status"] == "pending" and pending["attempts"] >= 2
    assert pending["last_error"] == "HTTP 500" and pending["next_attempt_at"] is not None
    ids = {r.id for r in receiver.received}
    assert ids == {pending["id"]}  # every retry is the same message

    receiver.status = lambda n: 200
    for _ in range(500):  # a retry gets through
        (row,) = (await client.get(url, headers=alice)).json()
        if row["status"] == "delivered":
            break
        await asyncio.sleep(0.02)
    assert row["status"] == "delivered" and row["last_error"] is None
    count = len(receiver.received)
    replayed = await client.post(f"{url}/{pending['id']}/replay", headers=alice)
    assert replayed.status_code == 200 and replayed.json()["id"] == pending["id"]
    assert replayed.json()["status"] == "pending" and replayed.json()["delivered_at"] is None
    await until(lambda: len(receiver.received) > count)
    assert receiver.received[-1].id == pending["id"] and receiver.received[-1].payload
    missing = await client.post(f"{url}/msg_nope/replay", headers=alice)
    assert missing.status_code == 404 and missing.json() == {"detail": "Delivery not found"}


async def test_a_failing_delivery_ends_failed_with_its_last_error(settings, receiver) -> None:
    from mnemo import create_app

    short = settings.model_copy(update={"webhooks_retry_s": 0.4})
    app = create_app(short)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as client:
            from mnemo.accounts import issue_key

            _, key = await issue_key(app.state.mnemo.store, "alice")
            alice = {"Authorization": f"Bearer {key}"}
            receiver.status = lambda n: 500
            endpoint = await register(client, alice, receiver)
            await create(client, alice, content="User runs marathons")
            url = f"{HOOKS}/{endpoint['id']}/deliveries"

            async def status() -> str:
                return (await client.get(url, headers=alice)).json()[0]["status"]

            for _ in range(200):
                if await status() == "failed":
                    break
                await asyncio.sleep(0.02)
            (failed,) = (await client.get(url, headers=alice)).json()
            assert failed["status"] == "failed" and failed["last_error"] == "HTTP 500"
            assert failed["attempts"] == len(receiver.received) >= 1
            assert failed["next_attempt_at"] is None
            await asyncio.sleep(0.3)
            assert failed["attempts"] == len(receiver.received)  # no more tries
            metrics = (await client.get("/metrics")).text
            assert 'mnemo_webhook_deliveries_total{outcome="failed"} 1.0' in metrics
            retries = failed["attempts"] - 1  # under load, the window may allow one
            if retries:
                assert (
                    f'mnemo_webhook_deliveries_total{{outcome="retried"}} {retries:.1f}' in metrics
                )
            receiver.status = lambda n: 200  # fixed: a replay of the failed one gets through
            again = await client.post(f"{url}/{failed['id']}/replay", headers=alice)
            assert again.status_code == 200 and again.json()["status"] == "pending"
            for _ in range(200):
                if await status() == "delivered":
                    break
                await asyncio.sleep(0.02)
            assert await status() == "delivered"
            assert receiver.received[-1].id == failed["id"] and receiver.received[-1].payload


async def test_redirects_and_timeouts_are_failed_attempts(client, alice, receiver) -> None:
    receiver.status = lambda n: 302
    endpoint = await register(client, alice, receiver)
    await create(client, alice, content="User sails")
    await until(lambda: len(receiver.received) >= 1)
    url = f"{HOOKS}/{endpoint['id']}/deliveries"
    for _ in range(100):
        (row,) = (await client.get(url, headers=alice)).json()
        if row["attempts"]:
            break
        await asyncio.sleep(0.02)
    assert row["last_error"] == "HTTP 302 (redirects are not followed)"
    receiver.status = lambda n: 200
    receiver.delay_s = 1.5  # over the 1 s timeout
    seen = len(receiver.received)
    await until(lambda: len(receiver.received) > seen)
    for _ in range(150):
        (row,) = (await client.get(url, headers=alice)).json()
        if row["last_error"] != "HTTP 302 (redirects are not followed)":
            break
        await asyncio.sleep(0.02)
    assert row["last_error"] == "no answer within 1s"


async def test_disabled_endpoints_get_nothing_and_events_filter(client, alice, receiver) -> None:
    off = await register(client, alice, receiver)
    await client.patch(f"{HOOKS}/{off['id']}", json={"enabled": False}, headers=alice)
    deletes = await register(client, alice, receiver, events=["memory.deleted"])
    memory = await create(client, alice, content="User knits")
    await client.delete(f"{MEMORIES}/{memory['id']}", headers=alice)
    await until(lambda: len(receiver.received) >= 1)
    await asyncio.sleep(0.3)
    assert [r.payload["type"] for r in receiver.verified()] == ["memory.deleted"]
    assert (await client.get(f"{HOOKS}/{off['id']}/deliveries", headers=alice)).json() == []
    listed = (await client.get(f"{HOOKS}/{deletes['id']}/deliveries", headers=alice)).json()
    assert [d["event"] for d in listed] == ["memory.deleted"]


async def test_isolation(client, alice, bob, receiver) -> None:
    endpoint = await register(client, alice, receiver)
    await create(client, bob, content="User bob's own fact")
    await create(client, alice, content="User alice's fact")
    await until(lambda: len(receiver.received) >= 1)
    await asyncio.sleep(0.3)
    assert [r.payload["data"]["user"] for r in receiver.verified()] == ["alice"]
    (delivery,) = (await client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=alice)).json()
    base = f"{HOOKS}/{endpoint['id']}"
    for method, path, body in (
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("DELETE", "", None),
        ("GET", "/deliveries", None),
        ("POST", f"/deliveries/{delivery['id']}/replay", None),
    ):
        answer = await client.request(method, base + path, json=body, headers=bob)
        assert answer.status_code == 404, (method, path)
        assert answer.json() == {"detail": "Webhook endpoint not found"}
        admin = await client.request(
            method, f"{ADMIN_HOOKS}/{endpoint['id']}{path}", json=body, headers=ADMIN
        )
        assert admin.status_code == 404, (method, path)
    assert (await client.get(HOOKS, headers=bob)).json() == []
    assert (await client.get(ADMIN_HOOKS, headers=ADMIN)).json() == []
    # bob's endpoint cannot replay alice's delivery either
    bobs = await register(client, bob, Receiver())
    stolen = await client.post(
        f"{HOOKS}/{bobs['id']}/deliveries/{delivery['id']}/replay", headers=bob
    )
    assert stolen.status_code == 404 and stolen.json() == {"detail": "Delivery not found"}
    assert (await client.get(f"{HOOKS}/{endpoint['id']}", headers=alice)).json()["enabled"]


async def test_admin_endpoints_get_every_users_events(client, alice, bob, receiver) -> None:
    endpoint = await register(client, ADMIN, receiver)
    assert (await client.get(HOOKS, headers=alice)).json() == []
    assert (await client.get(f"{HOOKS}/{endpoint['id']}", headers=alice)).status_code == 404
    await create(client, alice, content="User alice swims")
    await create(client, bob, content="User bob climbs")
    await until(lambda: len(receiver.verified()) >= 2)
    by_user = {
        r.payload["data"]["user"]: r.payload["data"]["memory"]["content"]
        for r in receiver.verified()
    }
    assert by_user == {"alice": "User alice swims", "bob": "User bob climbs"}
    listed = (await client.get(f"{ADMIN_HOOKS}/{endpoint['id']}/deliveries", headers=ADMIN)).json()
    assert sorted(d["user"] for d in listed) == ["alice", "bob"]
    assert (await client.get(ADMIN_HOOKS, headers=alice)).status_code == 401
    assert (
        await client.delete(f"{ADMIN_HOOKS}/{endpoint['id']}", headers=ADMIN)
    ).status_code == 200


async def test_scopes(client, make_key, receiver) -> None:
    memories_only = await make_key("carol", scopes=["memories:read", "memories:write"])
    assert (await client.get(HOOKS, headers=memories_only)).status_code == 403
    reader = await make_key("carol", scopes=["webhooks:read"])
    assert (await client.get(HOOKS, headers=reader)).status_code == 200
    refused = await client.post(HOOKS, json={"url": receiver.url, "events": ALL}, headers=reader)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Insufficient permissions. Required scope: webhooks:write"}
    blind = await make_key("carol", scopes=["webhooks:read", "webhooks:write"])
    no_read = await client.post(HOOKS, json={"url": receiver.url, "events": ALL}, headers=blind)
    assert no_read.status_code == 403
    assert no_read.json() == {"detail": "Insufficient permissions. Required scope: memories:read"}
    made = await register(client, await make_key("carol"), receiver)
    # deleting sends nothing: webhooks:write alone will do
    assert (await client.delete(f"{HOOKS}/{made['id']}", headers=blind)).status_code == 200
    assert (await client.get(HOOKS)).status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "http://",
        "http://user:pass@example.com/",
        "http://exa mple.com/",
        "https://" + "a" * 2100 + ".com/",
        "javascript:alert(1)",
        "http://[::1/",
        "",
    ],
)
async def test_bad_urls_are_422_and_store_nothing(client, alice, url) -> None:
    response = await client.post(HOOKS, json={"url": url, "events": ALL}, headers=alice)
    assert response.status_code == 422, response.text
    assert (await client.get(HOOKS, headers=alice)).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://127.0.0.1/", "events": []},
        {"url": "http://127.0.0.1/", "events": ["memory.exploded"]},
        {"url": "http://127.0.0.1/", "events": "memory.created"},
        {"url": "http://127.0.0.1/", "events": ALL, "description": "a\x00b"},
        {"url": "http://127.0.0.1/", "events": ALL, "description": "x" * 201},
        '{"url": "http://127.0.0.1/", "events": ["memory.created"], "description": "\\ud800"}',
        {"url": "http://127.0.0.1/", "events": ALL, "secret": "mine"},
        {"url": 5, "events": ALL},
        {"events": ALL},
        [],
    ],
)
async def test_bad_bodies_are_422(client, alice, body) -> None:
    if isinstance(body, str):  # what a JSON encoder would refuse to write
        sent = {"content": body.encode(), "headers": {**alice, "content-type": "application/json"}}
    else:
        sent = {"json": body, "headers": alice}
    response = await client.post(HOOKS, **sent)
    assert response.status_code == 422, response.text
    assert (await client.get(HOOKS, headers=alice)).json() == []


async def test_huge_bodies_and_the_endpoint_limit(client, alice, receiver) -> None:
    huge = {"url": receiver.url, "events": ALL, "description": "x" * 2_000_000}
    assert (await client.post(HOOKS, json=huge, headers=alice)).status_code == 413
    for _ in range(MAX_ENDPOINTS):
        await register(client, alice, receiver)
    over = await client.post(HOOKS, json={"url": receiver.url, "events": ALL}, headers=alice)
    assert over.status_code == 409
    assert over.json() == {
        "detail": f"At most {MAX_ENDPOINTS} webhook endpoints each; delete one first"
    }
    assert len((await client.get(HOOKS, headers=alice)).json()) == MAX_ENDPOINTS


PRIVATE = [
    "http://127.0.0.1:9/",
    "http://localhost/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://10.1.2.3/",
    "http://192.168.0.1/",
    "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[::]/",
    "http://[2002:7f00:1::]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.1/",
    "HTTPS://LOCALHOST/",
]


async def test_private_addresses_are_refused_by_default(database_url) -> None:
    from mnemo import create_app
    from mnemo.accounts import issue_key

    app = create_app(Settings(database_url=database_url))
    async with app.router.lifespan_context(app):
        _, key = await issue_key(app.state.mnemo.store, "alice")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as client:
            alice = {"Authorization": f"Bearer {key}"}
            for url in PRIVATE:
                response = await client.post(HOOKS, json={"url": url, "events": ALL}, headers=alice)
                assert response.status_code == 422, (url, response.text)
                assert "which is not a public address" in response.json()["detail"], url
            public = await client.post(
                HOOKS, json={"url": "http://8.8.8.8/hook", "events": ALL}, headers=alice
            )
            assert public.status_code == 200
            made = public.json()["id"]
            for url in PRIVATE[:3]:
                patched = await client.patch(f"{HOOKS}/{made}", json={"url": url}, headers=alice)
                assert patched.status_code == 422, url
            assert [e["url"] for e in (await client.get(HOOKS, headers=alice)).json()] == [
                "http://8.8.8.8/hook"
            ]


async def test_addresses_are_checked_again_at_delivery(store, receiver) -> None:
    """An endpoint stored while private addresses were allowed (or whose host resolves
    elsewhere since) is not sent to by a process that refuses them: the address is
    checked when the delivery is sent, not only at registration."""
    from mnemo.accounts import issue_key

    key, _ = await issue_key(store, "alice")
    service = WebhookService(store, allow_private=True)
    endpoint = await service.create(key.user_id, WebhookCreate(url=receiver.url, events=ALL))
    await store.insert_memories(key.user_id, [new_memory("User hikes")])
    strict = Deliverer(
        store,
        allow_private=False,
        timeout_s=1,
        retry_s=3600,
        backoff_s=60,
        backoff_max_s=60,
        poll_s=1,
    )
    assert await strict.run_once() == 1
    await strict.stop()
    assert receiver.received == []
    (row,) = await store.list_deliveries(endpoint.id, 10, 0)
    assert row.status == "pending" and row.attempts == 1
    assert row.last_error is not None
    assert row.last_error.startswith("refused: the host 127.0.0.1 resolves to 127.0.0.1")


async def test_erasure_of_endpoints_secrets_and_deliveries(
    client, make_key, receiver, settings, app
) -> None:
    """Deleting an endpoint deletes its deliveries; erasing a user deletes their
    endpoints, secrets and deliveries (those to the admin's endpoints too); the outbox
    never holds memory text; on SQLite no file keeps a deleted secret or URL."""
    from tests.api.test_secure_delete import _assert_gone, _holds

    store = app.state.mnemo.store
    sqlite = settings.database_url.startswith("sqlite")
    doomed = await make_key("doomed")
    admin_endpoint = await register(client, ADMIN, receiver)
    first = await register(client, doomed, receiver, url=receiver.url + "/firstmarker")
    second = await register(
        client, doomed, receiver, url=receiver.url + "/secondmarker", description="descmarker"
    )
    for i in range(3):
        await create(client, doomed, content=f"User's hidden text contentmarker{i}")
    await until(lambda: len(receiver.received) >= 9)
    rows = await store.list_deliveries(first["id"], 100, 0)
    assert len(rows) == 3
    assert not any("contentmarker" in repr(row) for row in rows)  # ids and times only
    if sqlite:
        assert _holds(settings, first["secret"].encode())

    assert (await client.delete(f"{HOOKS}/{first['id']}", headers=doomed)).status_code == 200
    assert await store.list_deliveries(first["id"], 100, 0) == []
    if sqlite:
        await _assert_gone(settings, [first["secret"].encode(), b"firstmarker"])

    assert len(await store.list_deliveries(admin_endpoint["id"], 100, 0)) == 3
    assert (await client.delete("/v1/admin/users/doomed", headers=ADMIN)).status_code == 200
    assert await store.list_deliveries(second["id"], 100, 0) == []
    assert await store.list_deliveries(admin_endpoint["id"], 100, 0) == []
    assert await store.get_endpoint(None, admin_endpoint["id"]) is not None  # the admin's stays
    if sqlite:
        await _assert_gone(
            settings, [second["secret"].encode(), b"secondmarker", b"descmarker", b"contentmarker"]
        )


async def test_a_host_that_does_not_resolve_is_accepted_and_checked_at_delivery(
    client, alice
) -> None:
    made = await client.post(
        HOOKS, json={"url": "http://no-such-host.invalid/hook", "events": ALL}, headers=alice
    )
    assert made.status_code == 200, made.text
    await create(client, alice, content="User paints")
    url = f"{HOOKS}/{made.json()['id']}/deliveries"
    for _ in range(500):
        (row,) = (await client.get(url, headers=alice)).json()
        if row["attempts"]:
            break
        await asyncio.sleep(0.02)
    assert row["status"] == "pending"
    assert row["last_error"] == "refused: the host no-such-host.invalid does not resolve"
