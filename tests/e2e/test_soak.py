"""A short soak (the long one is bench/soak.py): no errors, nothing lost, nothing back."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

from tests.e2e.server import start_server

_spec = importlib.util.spec_from_file_location(
    "soak", Path(__file__).resolve().parents[2] / "bench" / "soak.py"
)
assert _spec and _spec.loader
soak = importlib.util.module_from_spec(_spec)
sys.modules["soak"] = soak  # dataclasses look their module up there
_spec.loader.exec_module(soak)


def test_short_soak_loses_nothing(database_url: str) -> None:
    server = start_server(database_url, workers=2, extra_env=soak.SERVER_ENV)
    try:
        report = asyncio.run(
            soak.soak(
                server.base, server.first_key or "", server.process.pid, seconds=8, clients=16
            )
        )
    finally:
        server.stop()
    print(soak.markdown(report, "short soak"))
    assert report.requests > 100
    assert report.errors == 0, report.statuses
    assert set(report.statuses) <= {200}, report.statuses
    assert report.lost == 0 and report.resurrected == 0
    assert "Traceback" not in "\n".join(server.output)
