"""Every write acknowledged with 200 survives `kill -9` of the server right after."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx

from tests import pg
from tests.e2e.server import Server, start_server
from tests.helpers import MEMORIES


def _writer(
    base: str, headers: dict[str, str], acked: list[str], stop: threading.Event, n: int
) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 5 == 0:
                    body = {"memories": [{"content": f"w{n} batch {i}.{j}"} for j in range(5)]}
                    response = client.post(f"{MEMORIES}/batch", json=body)
                    if response.status_code == 200:
                        acked.extend(m["id"] for m in response.json()["memories"])
                else:
                    response = client.post(MEMORIES, json={"content": f"w{n} memory {i}"})
                    if response.status_code == 200:
                        acked.append(response.json()["id"])
            except httpx.TransportError:
                return


def test_acknowledged_writes_survive_kill_9(server: Server, auth) -> None:
    acked: list[str] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(server.base, auth, acked, stop, n)) for n in range(4)
    ]
    for thread in threads:
        thread.start()
    while len(acked) < 150:
        threading.Event().wait(0.01)
    server.kill()  # SIGKILL while writes are in flight
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    snapshot = list(acked)

    if server.database_url.startswith("sqlite:///"):
        path = Path(server.database_url.removeprefix("sqlite:///"))
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    else:  # every B-tree index of the schema passes amcheck (raises if corrupt)
        pg.run_sql("public", "CREATE EXTENSION IF NOT EXISTS amcheck")
        schema = server.database_url.split("search_path=", 1)[1].split("&", 1)[0]
        checked = pg.fetch(
            server.database_url,
            (
                "SELECT count(public.bt_index_parent_check(c.oid, true)) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                f" JOIN pg_am a ON a.oid = c.relam WHERE n.nspname = '{schema}'"
                " AND a.amname = 'btree'"
            ),
        )
        assert checked[0][0] >= 5

    restarted = start_server(server.database_url)
    try:
        response = httpx.get(
            f"{restarted.base}{MEMORIES}", params={"limit": 1000}, headers=auth, timeout=30
        )
        stored = {m["id"]: m for m in response.json()}
        missing = [memory_id for memory_id in snapshot if memory_id not in stored]
        assert not missing, f"{len(missing)} acknowledged writes lost"
        # nothing half-written: every stored memory is whole
        assert all(m["content"].startswith("w") and m["scoring"] for m in stored.values())
    finally:
        restarted.stop()
