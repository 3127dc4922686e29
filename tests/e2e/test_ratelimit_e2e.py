"""Rate limits on real servers: Redis shared by two workers; the omi CLI backs off."""

from __future__ import annotations

import os
import subprocess
import time

import httpx

from tests.e2e.server import start_server
from tests.e2e.test_omi_clients import OMI
from tests.helpers import MEMORIES


def test_two_workers_share_one_budget_through_redis(tmp_path) -> None:
    server = start_server(
        f"sqlite:///{tmp_path}/rl.db",
        workers=2,
        extra_env={
            "MNEMO_REDIS_URL": "redis://127.0.0.1:6379/0",
            "MNEMO_RATE_LIMIT_WRITES": "10",
            "MNEMO_RATE_LIMIT_WINDOW_S": "86400",  # no window boundary inside the test
        },
    )
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}
        codes = []
        for i in range(16):  # a new connection each time, so both workers answer
            with httpx.Client(base_url=server.base, headers=headers) as client:
                codes.append(client.post(MEMORIES, json={"content": f"m{i}"}).status_code)
        assert codes.count(200) == 10 and codes.count(429) == 6
        assert codes[:10] == [200] * 10
    finally:
        server.stop()


def test_omi_cli_backs_off_on_429_and_succeeds(tmp_path) -> None:
    server = start_server(
        f"sqlite:///{tmp_path}/cli.db",
        extra_env={"MNEMO_RATE_LIMIT_WRITES": "1", "MNEMO_RATE_LIMIT_WINDOW_S": "4"},
    )
    try:
        env = {
            **os.environ,
            "OMI_API_BASE": server.base,
            "OMI_API_KEY": server.first_key or "",
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        }
        # Start at the top of a 4 s window so both commands fall in the same one.
        time.sleep(4 - time.time() % 4)
        for content in ("User likes tea", "User likes coffee"):
            result = subprocess.run(
                [OMI, "--json", "memory", "create", content],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            assert result.returncode == 0, result.stdout + result.stderr
        metrics = httpx.get(f"{server.base}/metrics").text
        assert 'route="/v1/dev/user/memories",status="429"}' in metrics  # it was limited...
        listed = httpx.get(
            f"{server.base}{MEMORIES}", headers={"Authorization": f"Bearer {server.first_key}"}
        ).json()
        assert {m["content"] for m in listed} == {"User likes tea", "User likes coffee"}
    finally:
        server.stop()
