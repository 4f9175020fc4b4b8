"""Waiting for something to happen, with a deadline: a test that waits must fail, not hang."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

POLL_SECONDS = 0.05


# A mandatory deadline (hence ASYNC109): a test waiting for something must fail, not hang.
async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float,  # noqa: ASYNC109
    poll: float = POLL_SECONDS,
) -> None:
    """Return once `check()` is true; TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            outcome = check()
            if await outcome if inspect.isawaitable(outcome) else outcome:
                return
            await asyncio.sleep(poll)
