"""Fixtures of the sandbox tests: a sandbox per test, clients on it, a real webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.app import create_sandbox_app, stop
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from tests.sandbox.servers import Receiver, serve

KEY = "test-key"
# 30 Channex minutes pass in 0.9 s; the one-minute rate-limit window lasts 30 ms.
TIME_SCALE = 0.0005


@pytest.fixture
async def sandbox_app() -> AsyncIterator[FastAPI]:
    app = create_sandbox_app(SandboxConfig(api_key=KEY, time_scale=TIME_SCALE, seed=7))
    # Noon UTC of today: the factories' `day(n)` (UTC dates) then match the sandbox's "today"
    # of a UTC property at any hour, even before its 02:00 day roll.
    noon = datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC)
    app.state.sandbox.clock = lambda: noon
    yield app
    await stop(app)


@pytest.fixture
def sandbox(sandbox_app: FastAPI) -> SandboxState:
    state: SandboxState = sandbox_app.state.sandbox
    return state


@pytest.fixture
async def api(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A Channex client: base URL `.../api/v1`, the `user-api-key` header."""
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox/api/v1", headers={"user-api-key": KEY}
    ) as client:
        yield client


@pytest.fixture
async def tools(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the sandbox-only routes (`/sandbox/...`, no key needed)."""
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/sandbox") as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP webhook endpoint on 127.0.0.1."""
    receiver = Receiver()
    async with serve(receiver.app()) as base_url:
        receiver.url = f"{base_url}/hook"
        yield receiver
