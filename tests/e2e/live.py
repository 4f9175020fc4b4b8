"""channel-sync served on a real port against a sandbox served on another, with real arq
workers on the PostgreSQL leg: what the booking and walk-through e2e tests run against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from app.main import create_app
from app.serving import free_port, serving
from tests.booking_fakes import booking_settings
from tests.conftest import GLOBAL_KEY
from tests.workers import arq_workers, production_redis


@asynccontextmanager
async def live_service(
    database_url: str, sandbox_url: str, sandbox_key: str, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(the service's API with the global key, the sandbox's /sandbox tools) until the block
    ends. Sweeps and reconciliation run every second or two, so lost work shows quickly."""
    port = free_port()
    settings = booking_settings(
        database_url,
        channex_api_url=f"{sandbox_url}/api/v1",
        channex_api_key=sandbox_key,
        # The account-wide budget lives in Redis on the PostgreSQL leg, shared with the tests
        # before this one: not these tests' business.
        channex_global_limit_per_minute=100_000,
        channex_global_limit_per_hour=1_000_000,
        public_base_url=f"http://127.0.0.1:{port}",
        allow_private_callbacks=True,
        redis_url=production_redis(database_url),
        sweep_interval_seconds=0.5,
        booking_reconcile_interval_seconds=2.0,
        **overrides,
    )
    headers = {"Authorization": f"Bearer {GLOBAL_KEY}"}
    async with (
        serving(create_app(settings), port) as base_url,
        arq_workers(settings),
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as api,
        httpx.AsyncClient(base_url=f"{sandbox_url}/sandbox", timeout=30) as tools,
    ):
        yield api, tools
