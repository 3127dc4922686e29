"""Background work of a serving process, started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from mnemo.errors import MnemoError


async def cancelled(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task (if any) and wait until it has stopped; returns None, to
    be stored in place of the task."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def survived(
    log: logging.Logger, job: str, work: Callable[[], Awaitable[int]], failed: str
) -> int:
    """`await work()`, or 0 if it raised: a store error logged as a warning (the database
    is away: the next round tries again), anything else with its traceback as `failed`.
    A background job's loop goes on either way."""
    try:
        return await work()
    except MnemoError as error:
        log.warning("%s: %s", job, error.detail)
    except Exception:
        log.exception("%s: %s", job, failed)
    return 0
