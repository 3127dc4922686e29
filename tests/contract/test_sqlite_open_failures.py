"""A SQLite file that cannot be opened fails the writes waiting for it with one clear
message naming the file and the cause: never a hang (each open and command here runs
under a timeout), never a traceback, and nothing is left behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mnemo import Settings, create_app
from mnemo.accounts import issue_key
from mnemo.errors import StoreUnavailable
from mnemo.store import store_for
from tests.helpers import MEMORIES

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux paths and errno words")
UNOPENABLE = "/proc/mnemo-no-such-folder/mnemo.db"  # no folder can be made in /proc


def _cases(tmp: Path) -> list[tuple[str, str]]:
    """(path, the message's cause) for each way a path can be unopenable."""
    in_the_way = tmp / "a-file"
    in_the_way.write_text("not a folder\n")
    not_a_database = tmp / "notes.txt"
    not_a_database.write_text("these are notes, not a database\n" * 100)
    return [
        (UNOPENABLE, "[Errno 2] No such file or directory: '/proc/mnemo-no-such-folder'"),
        (f"{in_the_way}/mnemo.db", f"{in_the_way} is not a folder"),
        (f"{in_the_way}/deeper/mnemo.db", f"[Errno 20] Not a directory: '{in_the_way}/deeper'"),
        (str(tmp), "unable to open database file"),  # a folder, not a file
        (str(not_a_database), "file is not a database"),
    ]


async def test_an_unopenable_file_fails_the_open_with_what_failed(tmp_path: Path) -> None:
    for path, cause in _cases(tmp_path):
        before = sorted(os.listdir(tmp_path)), (tmp_path / "notes.txt").read_bytes()
        store = store_for(Settings(database_url=f"sqlite:///{path}"))
        with pytest.raises(StoreUnavailable) as failed:
            await asyncio.wait_for(store.open(), 30)
        assert failed.value.detail == f"cannot open the SQLite database {path}: {cause}"
        after = sorted(os.listdir(tmp_path)), (tmp_path / "notes.txt").read_bytes()
        assert after == before, path  # nothing made, nothing changed


async def test_concurrent_opens_all_fail_and_the_store_opens_once_the_fault_clears(
    tmp_path: Path,
) -> None:
    in_the_way = tmp_path / "data"
    in_the_way.write_text("")
    url = f"sqlite:///{in_the_way}/mnemo.db"
    stores = [store_for(Settings(database_url=url)) for _ in range(4)]
    results = await asyncio.wait_for(
        asyncio.gather(*(store.open() for store in stores), return_exceptions=True), 30
    )
    assert [type(result) for result in results] == [StoreUnavailable] * 4
    in_the_way.unlink()
    await asyncio.wait_for(stores[0].open(), 30)  # the same store, once the path is fine
    try:
        await issue_key(stores[0], "alice")
        assert (await stores[0].get_user("alice")) is not None
    finally:
        await stores[0].close()


@pytest.mark.parametrize(
    "command", [["migrate"], ["keys", "create", "--user", "alice"], ["serve", "--port", "0"]]
)
def test_commands_on_an_unopenable_file_exit_3_with_one_line(
    command: list[str], tmp_path: Path
) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    for path in (UNOPENABLE, f"{in_the_way}/mnemo.db"):
        result = subprocess.run(
            [sys.executable, "-m", "mnemo", *command, "--database-url", f"sqlite:///{path}"],
            capture_output=True,
            text=True,
            timeout=60,  # the defect this guards against was a hang
        )
        # 3: the database cannot be opened (README, "Command line"); the command checks
        # the path before the store starts, the store's writer would answer the same way
        assert result.returncode == 3, (command, path, result.stderr)
        assert "Traceback" not in result.stderr
        (last,) = result.stderr.strip().splitlines()
        assert last.startswith("error: ") and f"sqlite:///{path}" in last
        assert result.stdout == ""


async def test_a_read_that_cannot_open_the_file_is_the_documented_503(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The folder is replaced by a file while the service runs, so reader threads that
    open their connection now fail. Clients get the fixed 503 words (the path and cause
    go to the log only); no request hangs. (A list filtered by two categories is read
    on the pool; a plain one on the event loop's connection, opened at start.)"""
    folder = tmp_path / "data"
    settings = Settings(
        database_url=f"sqlite:///{folder}/mnemo.db",
        rate_limit_enabled=False,
        sqlite_read_connections=8,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        _, secret = await issue_key(app.state.mnemo.store, "alice")
        for name in os.listdir(folder):
            os.unlink(folder / name)
        folder.rmdir()
        folder.write_text("")
        headers = {"Authorization": f"Bearer {secret}"}
        pooled = f"{MEMORIES}?categories=system,work"
        transport = httpx.ASGITransport(app=app)
        statuses: set[int] = set()
        async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as client:
            for _ in range(20):  # concurrent reads make the pool start new threads
                responses = await asyncio.wait_for(
                    asyncio.gather(*(client.get(pooled, headers=headers) for _ in range(16))),
                    60,
                )
                for response in responses:
                    statuses.add(response.status_code)
                    if response.status_code != 200:
                        assert (response.status_code, response.json()) == (
                            503,
                            {"detail": "Database unavailable, try again shortly"},
                        )
                if 503 in statuses:
                    break
        assert 503 in statuses
        assert f"cannot open the SQLite database {folder}/mnemo.db" in caplog.text
        folder.unlink()
