"""Fixtures of the ARI engine tests: a respx fake of Channex's ARI endpoints, a client that
tries once, a limiter on a clock the test moves, and a seeded property."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.channex.ratelimit import MemoryRateLimiter
from app.db import create_engine, create_session_factory
from tests.factories import Seeded, seed_property
from tests.services.ari.support import BASE, Clock
from tests.services.ari_support import FakeAri


@pytest.fixture
async def session_factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake() -> FakeAri:
    return FakeAri()


@pytest.fixture
async def channex(fake: FakeAri, clock: Clock) -> AsyncIterator[ChannexClient]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.route(path__regex=r"/(availability|restrictions)$").mock(side_effect=fake.handle)
        client = ChannexClient(
            base_url=BASE, api_key="k", limiter=MemoryRateLimiter(clock=clock), max_attempts=1
        )
        yield client
        await client.aclose()


@pytest.fixture
async def seeded(session_factory: async_sessionmaker[AsyncSession]) -> Seeded:
    return await seed_property(session_factory, rooms=2, plans=("bar", "pp"), per_person=("pp",))
