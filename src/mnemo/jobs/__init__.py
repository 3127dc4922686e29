"""Background work of a serving process, started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib


async def cancelled(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task (if any) and wait until it has stopped; returns None, to
    be stored in place of the task."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
