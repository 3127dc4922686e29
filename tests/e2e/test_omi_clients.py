"""Existing Omi clients work by changing only the base URL and key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import requests

from tests.e2e.server import Server

OMI = shutil.which("omi") or str(Path(sys.executable).parent / "omi")


def test_requests_script_as_in_omis_docs(server: Server) -> None:
    # The shape of Omi's documented Python example, with our base URL and key.
    api_key = server.first_key
    base_url = f"{server.base}/v1/dev"
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}

    created = requests.post(
        f"{base_url}/user/memories",
        headers=headers,
        timeout=10,
        json={
            "content": "User prefers dark roast coffee",
            "category": "core",
            "visibility": "private",
            "tags": ["coffee"],
        },
    )
    assert created.status_code == 200
    memory = created.json()
    batch = requests.post(
        f"{base_url}/user/memories/batch",
        headers=headers,
        timeout=10,
        json={
            "memories": [
                {"content": "User has a dog named Rex"},
                {"content": "User speaks Portuguese", "category": "skills"},
            ]
        },
    )
    assert batch.status_code == 200 and batch.json()["created_count"] == 2
    listed = requests.get(
        f"{base_url}/user/memories",
        headers=headers,
        timeout=10,
        params={"limit": 10, "offset": 0, "categories": "core,skills"},
    )
    assert {m["content"] for m in listed.json()} == {
        "User prefers dark roast coffee",
        "User speaks Portuguese",
    }
    updated = requests.patch(
        f"{base_url}/user/memories/{memory['id']}",
        headers=headers,
        timeout=10,
        json={"content": "User prefers light roast coffee"},
    )
    assert updated.status_code == 200 and updated.json()["edited"] is True
    deleted = requests.delete(
        f"{base_url}/user/memories/{memory['id']}", headers=headers, timeout=10
    )
    assert deleted.json() == {"success": True}


def _omi(server: Server, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OMI_API_BASE": server.base,
        "OMI_API_KEY": server.first_key or "",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [OMI, "--json", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_omi_cli_memory_commands_unchanged(server: Server, tmp_path: Path) -> None:
    created = _omi(
        server,
        tmp_path,
        "memory",
        "create",
        "User works at Acme as an engineer",
        "--category",
        "work",
        "--tag",
        "job",
    )
    assert created.returncode == 0, created.stdout + created.stderr
    listed = _omi(server, tmp_path, "memory", "list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "User works at Acme as an engineer" in listed.stdout
    import json

    rows = json.loads(listed.stdout)
    (row,) = [r for r in rows if r["content"] == "User works at Acme as an engineer"]
    assert row["category"] == "work"
    updated = _omi(
        server,
        tmp_path,
        "memory",
        "update",
        row["id"],
        "--content",
        "User works at Initech",
        "--visibility",
        "public",
    )
    assert updated.returncode == 0, updated.stdout + updated.stderr
    got = _omi(server, tmp_path, "memory", "get", row["id"])
    assert got.returncode == 0 and "User works at Initech" in got.stdout
    deleted = _omi(server, tmp_path, "memory", "delete", row["id"], "--yes")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    missing = _omi(server, tmp_path, "memory", "get", row["id"])
    assert missing.returncode != 0
