"""What-if patches: measure a proposed change to src/ without making it.

Each function below applies, in this process only, the change that docs/performance.md
proposes, so the bench can show what it would buy before anyone edits src/. They are
monkeypatches of the installed package, applied before mnemo.app is imported:

    .venv/bin/python bench/asgi_profile.py --patch async_deps --patch inline_reads
    .venv/bin/python bench/whatif.py --check        # the patched list renders the same bytes

`server_env(names)` gives the environment that applies them in a real `mnemo serve`
and in each of its worker processes (through bench/whatif_site/sitecustomize.py).

- async_deps: the request dependencies in mnemo/api/deps.py (`_current_key`,
  `_service`, `components`) as `async def`. As plain `def`, FastAPI runs each of them
  in a worker thread (anyio's thread pool): two thread round trips per request.
- inline_reads: SQLiteStore._read runs the query on the event loop's thread, on a
  connection of its own, instead of a round trip through the reader thread pool.
- fast_list: SQLite renders each listed memory's JSON itself (json_object, same
  bytes), and the route returns the joined page as a Response, instead of building 25
  pydantic `Memory` objects that FastAPI then validates against `response_model` and
  dumps (PostgreSQL: rendered in Python from the rows, see render_rows).
- group_commit: the SQLite writer commits every write waiting for it in one
  transaction (a SAVEPOINT each, so a failing write rolls back alone): one fsync for
  many requests instead of one each, the 200s still sent after the commit.
- write_lock: with several workers on one SQLite file, each write transaction first
  takes an exclusive fcntl lock on `<db>.writelock`, so writers queue in the kernel
  instead of polling SQLite's busy handler (which sleeps 1, 2, 5, 10 ... 100 ms).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

SITE = Path(__file__).resolve().parent / "whatif_site"


def async_deps() -> None:
    import inspect

    from fastapi import Request

    import mnemo.api.deps as deps
    from mnemo.api import memories, ops

    if inspect.iscoroutinefunction(deps._current_key):
        return  # mnemo already does this (since 92704ff)

    async def current_key(request: Request) -> Any:
        return request.state.api_key

    async def service(request: Request) -> Any:
        return request.app.state.mnemo.service

    async def components(request: Request) -> Any:
        return request.app.state.mnemo

    for fn in (current_key, service, components):  # real classes, not the strings of
        fn.__annotations__ = {"request": Request}  # `from __future__ import annotations`
    swap = {deps._current_key: current_key, deps._service: service, deps.components: components}
    # The Depends markers (used if routes are rebuilt when the app includes the routers) ...
    for alias in (deps.CurrentKey, deps.Service, deps.App):
        marker = alias.__metadata__[0]
        object.__setattr__(marker, "dependency", swap[marker.dependency])

    # ... and the dependants the routers already built at import.
    def walk(dependant: Any) -> None:
        for sub in dependant.dependencies:
            if sub.call in swap:
                sub.call = swap[sub.call]
            walk(sub)

    for router in (memories.router, ops.router):
        for route in router.routes:
            if hasattr(route, "dependant"):
                walk(route.dependant)


def inline_reads() -> None:
    import inspect

    from mnemo.store.sqlite import SQLiteStore

    takes_write_flag = "write" in inspect.signature(SQLiteStore._in_thread).parameters

    async def _read(self: Any, fn: Callable[..., Any], *args: Any) -> Any:
        assert self._readers is not None, "store is not open"
        if takes_write_flag:  # before 92704ff
            return self._in_thread(fn, args, False)
        return self._in_thread(fn, args)

    SQLiteStore._read = _read  # type: ignore[method-assign]


def render_rows(rows: Iterable[tuple[Any, ...]]) -> bytes:
    """The list route's body from store rows (MEMORY_COLUMNS order), byte for byte what
    FastAPI renders from `list[Memory]`."""
    from mnemo.clock import to_datetime

    def stamp(us: int) -> str:
        return to_datetime(us).isoformat().replace("+00:00", "Z")

    items = [
        {
            "id": r[0],
            "content": r[1],
            "category": r[2],
            "visibility": r[3],
            "tags": json.loads(r[4]),
            "created_at": stamp(r[5]),
            "updated_at": stamp(r[6]),
            "manually_added": bool(r[7]),
            "scoring": r[8],
            "reviewed": bool(r[9]),
            "user_review": None if r[10] is None else bool(r[10]),
            "edited": bool(r[11]),
        }
        for r in rows
    ]
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()


def _sqlite_stamp(col: str) -> str:
    """RFC 3339 as pydantic writes it: microseconds only when not zero, then Z."""
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', {col} / 1000000, 'unixepoch') || CASE WHEN {col}"
        f" % 1000000 = 0 THEN 'Z' ELSE printf('.%06dZ', {col} % 1000000) END"
    )


def _sqlite_bool(col: str) -> str:
    return f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN json('true') ELSE json('false') END"


# One memory as JSON, rendered by SQLite itself (JSON1 is built in): the same bytes as
# FastAPI's rendering of a `Memory` (bench/whatif.py --check compares them).
SQLITE_MEMORY_JSON = (
    "json_object('id', id, 'content', content, 'category', category, 'visibility', visibility,"
    f" 'tags', json(tags), 'created_at', {_sqlite_stamp('created_at')},"
    f" 'updated_at', {_sqlite_stamp('updated_at')},"
    f" 'manually_added', {_sqlite_bool('manually_added')}, 'scoring', scoring,"
    f" 'reviewed', {_sqlite_bool('reviewed')}, 'user_review', {_sqlite_bool('user_review')},"
    f" 'edited', {_sqlite_bool('edited')})"
)


def fast_list() -> None:
    from starlette.responses import Response

    from mnemo.models import MAX_LIST_LIMIT, MAX_OFFSET
    from mnemo.service import MemoryService, parse_categories
    from mnemo.store import sqlite as sqlite_store

    order = "scoring DESC, created_at DESC, id DESC"

    async def list_memories(
        self: Any, user_id: str, categories: str | None, limit: int, offset: int
    ) -> Any:
        names = parse_categories(categories)
        limit = min(max(limit, 1), MAX_LIST_LIMIT)
        offset = min(max(offset, 0), MAX_OFFSET)
        store = self.store
        if not isinstance(store, sqlite_store.SQLiteStore):
            from mnemo.store.postgres import LIST_BY_CATEGORY_SQL, LIST_SQL

            sql, args = (
                (LIST_BY_CATEGORY_SQL, (user_id, names, limit, offset))
                if names
                else (LIST_SQL, (user_id, limit, offset))
            )
            rows = await store._read(lambda conn: conn.fetch(sql, *args))
            return Response(render_rows(rows), media_type="application/json")
        where, params = "user_id = ?", [user_id]
        if names:
            where += f" AND category IN ({', '.join('?' * len(names))})"
            params.extend(names)
        query = (
            f"SELECT {SQLITE_MEMORY_JSON} FROM memories WHERE rowid IN ("
            f"SELECT rowid FROM memories WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
            f") ORDER BY {order}"
        )
        params.extend((limit, offset))
        rows = await store._read(lambda conn: conn.execute(query, params).fetchall())
        body = "[" + ",".join(row[0] for row in rows) + "]"
        return Response(body.encode(), media_type="application/json")

    MemoryService.list_memories = list_memories  # type: ignore[method-assign]
    # Since 92704ff the route itself renders what the service returns: pass a ready
    # Response through.
    from mnemo.api import memories

    render = getattr(memories, "_json", None)
    if render is not None:

        def _json(adapter: Any, value: Any) -> Any:
            return value if isinstance(value, Response) else render(adapter, value)

        memories._json = _json


def write_lock() -> None:
    import fcntl

    from mnemo.store.sqlite import SQLiteStore

    original = SQLiteStore._in_thread

    def _in_thread(self: Any, fn: Callable[..., Any], args: tuple[Any, ...], write: bool) -> Any:
        if not write:
            return original(self, fn, args, write)
        lock = getattr(self, "_bench_lock_fd", None)
        if lock is None:
            lock = self._bench_lock_fd = os.open(f"{self.path}.writelock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return original(self, fn, args, write)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    SQLiteStore._in_thread = _in_thread  # type: ignore[method-assign]


def group_commit() -> None:
    """One writer thread commits every write that is waiting in one transaction (each in
    its own SAVEPOINT, so one failing write rolls back alone), then answers them all:
    one fsync for many requests. Each request still gets its 200 after the commit that
    holds its write."""
    import asyncio
    import queue
    import sqlite3
    import threading

    from mnemo.store import sqlite as sqlite_store
    from mnemo.store.sqlite import SQLiteStore

    if hasattr(SQLiteStore, "_commit_group"):
        return  # mnemo already does this (since 92704ff)
    most = 64

    def loop_forever(self: Any, jobs: queue.SimpleQueue[Any]) -> None:
        conn = None
        while True:
            first = jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < most:
                try:
                    job = jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    jobs.put(None)
                    break
                batch.append(job)
            results: list[tuple[bool, Any]] = []
            try:
                conn = conn or self._connection()
                conn.execute("BEGIN IMMEDIATE")
                for fn, args, _, _ in batch:
                    conn.execute("SAVEPOINT job")
                    try:
                        results.append((True, fn(conn, *args)))
                        conn.execute("RELEASE job")
                    except BaseException as error:  # noqa: BLE001 - handed to the caller
                        conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                        if isinstance(error, sqlite3.Error):
                            error = sqlite_store._translate(error)
                        results.append((False, error))
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                if conn is not None and conn.in_transaction:
                    conn.execute("ROLLBACK")
                failure = sqlite_store._translate(error)
                results = [(False, failure)] * len(batch)
            for (_, _, future, loop), (ok, value) in zip(batch, results, strict=True):
                loop.call_soon_threadsafe(_settle, future, ok, value)

    def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    async def _write(self: Any, fn: Callable[..., Any], *args: Any) -> Any:
        assert self._writer is not None, "store is not open"
        jobs = getattr(self, "_bench_jobs", None)
        if jobs is None:
            jobs = self._bench_jobs = queue.SimpleQueue()
            threading.Thread(
                target=loop_forever,
                args=(self, jobs),
                daemon=True,
                name="mnemo-sqlite-group-writer",
            ).start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        jobs.put((fn, args, future, loop))
        return await asyncio.shield(future)

    SQLiteStore._write = _write  # type: ignore[method-assign]


PATCHES: dict[str, Callable[[], None]] = {
    "group_commit": group_commit,
    "async_deps": async_deps,
    "inline_reads": inline_reads,
    "fast_list": fast_list,
    "write_lock": write_lock,
}


def apply(names: Iterable[str]) -> None:
    for name in names:
        PATCHES[name]()


def server_env(names: Iterable[str]) -> dict[str, str]:
    """Environment for a `mnemo serve` (and its workers) with these patches applied."""
    names = list(names)
    if not names:
        return {}
    path = os.pathsep.join(filter(None, [str(SITE), os.environ.get("PYTHONPATH", "")]))
    return {"PYTHONPATH": path, "MNEMO_BENCH_WHATIF": ",".join(names)}


def check() -> None:
    """The patched list renders exactly the bytes FastAPI renders from list[Memory]."""
    import random
    import sqlite3
    import uuid

    from pydantic import TypeAdapter

    from mnemo.models import Memory
    from mnemo.store.rows import memory_from_row

    rnd = random.Random(1)
    adapter = TypeAdapter(list[Memory])
    texts = ["User likes é and 漢字", 'quote " and \\ backslash', "ctrl \x01 \u2028 sep", "x" * 500]
    for _ in range(2000):
        rows = [
            (
                str(uuid.UUID(int=rnd.getrandbits(128))),
                rnd.choice(texts),
                rnd.choice(("system", "interesting", "work")),
                rnd.choice(("public", "private")),
                json.dumps(rnd.sample(["a", "é", "b c"], rnd.randint(0, 3)), ensure_ascii=False),
                rnd.choice((0, 1_700_000_000_000_000, rnd.randrange(2**50))),
                rnd.randrange(2**50),
                rnd.randint(0, 1),
                "01_999_1700000000",
                rnd.randint(0, 1),
                rnd.choice((None, 0, 1)),
                rnd.randint(0, 1),
            )
            for _ in range(rnd.randint(0, 25))
        ]
        expected = adapter.dump_json([memory_from_row(r) for r in rows])
        assert render_rows(rows) == expected, (render_rows(rows), expected)
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE memories (id, content, category, visibility, tags, created_at,"
        " updated_at, manually_added, scoring, reviewed, user_review, edited)"
    )
    for _ in range(200):
        rows = [
            (
                str(uuid.UUID(int=rnd.getrandbits(128))),
                rnd.choice(texts),
                "system",
                "private",
                json.dumps(rnd.sample(["a", "é", "b c"], rnd.randint(0, 3)), ensure_ascii=False),
                rnd.choice((0, 1_700_000_000_000_000, rnd.randrange(2**50))),
                rnd.randrange(2**50),
                rnd.randint(0, 1),
                "00_998_1700000000",
                rnd.randint(0, 1),
                rnd.choice((None, 0, 1)),
                rnd.randint(0, 1),
            )
            for _ in range(25)
        ]
        conn.execute("DELETE FROM memories")
        conn.executemany(f"INSERT INTO memories VALUES ({', '.join('?' * 12)})", rows)
        got = conn.execute(f"SELECT {SQLITE_MEMORY_JSON} FROM memories ORDER BY rowid")
        body = ("[" + ",".join(r[0] for r in got) + "]").encode()
        assert body == adapter.dump_json([memory_from_row(r) for r in rows]), body
    print(
        "fast_list renders the same bytes as FastAPI on 2,000 random pages (Python)"
        " and 200 pages of 25 (SQLite json_object)"
    )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    if parser.parse_args().check:
        check()
