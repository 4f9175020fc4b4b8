"""Waiting for something to happen, with a deadline: a test that waits must fail, not hang."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

import httpx

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


async def past_our_limiter(
    send: Callable[[], Awaitable[httpx.Response]],
    timeout: float = 10.0,  # noqa: ASYNC109
) -> httpx.Response:
    """`send()` again while our own limiter answers 503 (ARI reads share its budget with the
    pushes); its Retry-After is rounded up to whole seconds, far longer than the tests' spacing."""
    responses: list[httpx.Response] = []

    async def answered() -> bool:
        responses.append(await send())
        if responses[-1].status_code != 503:
            return True
        assert "Retry-After" in responses[-1].headers, responses[-1].text
        return False

    await eventually(answered, timeout)
    return responses[-1]
