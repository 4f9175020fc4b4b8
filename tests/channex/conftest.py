"""Fixtures for the Channex client tests: respx router, scripted limiter, recorded sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from app.channex.client import ChannexClient
from tests.channex.fakes import API_KEY, BASE_URL, RecordedSleeps, ScriptedLimiter


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """Channex mocked by respx; every declared route must be called."""
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as router:
        yield router


@pytest.fixture
def limiter() -> ScriptedLimiter:
    return ScriptedLimiter()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def client(limiter: ScriptedLimiter, sleeps: RecordedSleeps) -> AsyncIterator[ChannexClient]:
    async with ChannexClient(
        base_url=BASE_URL, api_key=API_KEY, limiter=limiter, max_attempts=3, sleep=sleeps
    ) as channex:
        yield channex
