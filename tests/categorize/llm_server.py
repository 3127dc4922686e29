"""A real HTTP server speaking OpenAI's `POST /v1/chat/completions`, for tests.

It runs uvicorn on a free 127.0.0.1 port in a background thread. Its behaviour is
`FakeLLM.mode`; every request it receives is kept in `FakeLLM.requests`. In mode
`good` it labels each memory with `FakeLLM.answer(content)`, so a test can make
the language model disagree with the offline model and see whose label is used.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }


@dataclass
class FakeLLM:
    mode: str = "good"
    slow_s: float = 30.0  # far beyond any client timeout the tests use
    answer: Callable[[str], str] = lambda content: "interesting"
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        user = body["messages"][-1]["content"]
        memories: list[str] = json.loads(user.split("\n", 2)[1])
        labels = [self.answer(m) for m in memories]
        if self.mode == "good":
            return JSONResponse(_completion(json.dumps(labels)))
        if self.mode == "fenced":
            return JSONResponse(_completion("```json\n" + json.dumps(labels) + "\n```"))
        if self.mode == "slow":
            await asyncio.sleep(self.slow_s)
            return JSONResponse(_completion(json.dumps(labels)))
        if self.mode == "error500":
            return JSONResponse({"error": {"message": "boom"}}, status_code=500)
        if self.mode == "garbage":
            return JSONResponse(_completion("Sure! Here are the labels: system, interesting"))
        if self.mode == "not_json_body":
            return PlainTextResponse("<html>gateway</html>", status_code=200)
        if self.mode == "unknown_label":
            return JSONResponse(_completion(json.dumps(["fun"] * len(memories))))
        if self.mode == "wrong_count":
            return JSONResponse(_completion(json.dumps(labels[:-1])))
        if self.mode == "no_choices":
            return JSONResponse({"id": "x", "choices": []})
        raise AssertionError(f"unknown mode {self.mode}")


class RunningServer:
    """uvicorn serving a `FakeLLM` in a thread; `stop()` waits for it to exit."""

    def __init__(self, fake: FakeLLM) -> None:
        self.fake = fake
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        fake.port = self.sock.getsockname()[1]
        app = Starlette(routes=[Route("/v1/chat/completions", fake.chat, methods=["POST"])])
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("fake LLM server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
