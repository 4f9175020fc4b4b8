"""A Channex sandbox on a real port, and a ChannexClient pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from app.channex.client import ChannexClient
from app.channex.ratelimit import MemoryRateLimiter
from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from tests.sandbox.servers import serve

SANDBOX_KEY = "contract-key"


def stepping_clock(step: float = 10.0) -> Callable[[], float]:
    """A clock that moves `step` seconds per reading: the limiter's spacing never makes a
    contract test wait, while every request still goes through the limiter."""
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


@dataclass
class Sandbox:
    url: str
    tools: httpx.AsyncClient  # the sandbox-only endpoints (OTA simulator, inspection, faults)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(api_key=SANDBOX_KEY, rate_limit_per_minute=1000, seed=7)
    app = create_sandbox_app(config)
    async with serve(app) as url, httpx.AsyncClient(base_url=f"{url}/sandbox") as tools:
        yield Sandbox(url=url, tools=tools)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[ChannexClient]:
    limiter = MemoryRateLimiter(clock=stepping_clock())
    async with ChannexClient(
        base_url=f"{sandbox.url}/api/v1", api_key=SANDBOX_KEY, limiter=limiter, timeout=5
    ) as channex:
        yield channex
