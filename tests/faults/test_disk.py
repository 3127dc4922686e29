"""The SQLite file on a disk that fills up or turns read-only: clear 503s, nothing
acknowledged is lost, no corruption, and recovery when the fault clears. The disk is a
real (tiny) tmpfs mounted for the test, so this needs root, as CI has."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from mnemo import Settings
from tests.helpers import MEMORIES, serving

UNAVAILABLE = {"detail": "Database unavailable, try again shortly"}


def _mount(path: str, options: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path], check=True)


@pytest.fixture
def small_disk() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path = tempfile.mkdtemp(prefix="mnemo-disk-")
    _mount(path, "size=4m")
    try:
        yield Path(path)
    finally:
        subprocess.run(["umount", "-l", path], check=False)
        os.rmdir(path)


def _remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


@pytest.fixture
async def served(small_disk: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    settings = Settings(database_url=f"sqlite:///{small_disk}/mnemo.db", rate_limit_enabled=False)
    async with serving(settings) as (_, client, headers):
        yield client, headers


def _integrity(disk: Path) -> str:
    with sqlite3.connect(disk / "mnemo.db") as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


async def test_disk_full_is_503_and_recovers(served, small_disk: Path) -> None:
    client, headers = served
    acked: list[str] = []
    failure = None
    for i in range(400):
        body = {
            "memories": [
                {"content": f"{i}.{j} " + "x" * 480, "category": "system"} for j in range(25)
            ]
        }
        response = await client.post(f"{MEMORIES}/batch", json=body, headers=headers)
        if response.status_code != 200:
            failure = response
            break
        acked += [m["id"] for m in response.json()["memories"]]
    assert failure is not None, "the disk never filled up"
    assert (failure.status_code, failure.json()) == (503, UNAVAILABLE)
    assert acked
    _remount(small_disk, "size=32m")
    response = await client.post(MEMORIES, json={"content": "after the fault"}, headers=headers)
    assert response.status_code == 200
    stored: list[str] = []
    while page := (
        await client.get(MEMORIES, headers=headers, params={"limit": 1000, "offset": len(stored)})
    ).json():
        stored += [m["id"] for m in page]
    assert set(acked) <= set(stored) and len(stored) == len(acked) + 1
    assert _integrity(small_disk) == "ok"


def test_read_only_disk_refuses_to_start_clearly_then_recovers(small_disk: Path) -> None:
    """Linux will not turn a filesystem read-only under a process writing to it, so this
    is the read-only case as it happens: the service (re)starts on a read-only disk."""
    from tests.e2e.server import run_cli

    url = f"sqlite:///{small_disk}/mnemo.db"
    made = run_cli("keys", "create", "--user", "alice", "--database-url", url)
    assert made.returncode == 0
    _remount(small_disk, "ro")
    try:
        for command in (["migrate"], ["keys", "list"], ["export"]):
            result = run_cli(*command, "--database-url", url)
            assert result.returncode == 3, command  # cannot be opened (README)
            (line,) = result.stderr.strip().splitlines()
            assert line == f"error: cannot open {url}: read-only file system"
            assert "Traceback" not in result.stderr
    finally:
        _remount(small_disk, "rw")
    listing = run_cli("keys", "list", "--database-url", url)
    assert listing.returncode == 0 and "alice" in listing.stdout
    assert _integrity(small_disk) == "ok"
