"""After an outage (Channex unavailable past the client's own retries) the property is owed a
full sync, sent once Channex answers again (channex-api.md §6.7)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.services.ari_push import PushLeft
from tests.factories import Seeded, availability_item
from tests.services.ari.support import TODAY, Clock, change, push, runs
from tests.services.ari_support import FakeAri


async def test_an_outage_is_followed_by_a_full_sync(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    fake.script = [httpx.Response(503)]
    await change(session_factory, availability_item("r0", TODAY, TODAY, 3))
    assert await push(session_factory, channex, seeded) == PushLeft("unavailable")
    clock.now += 60
    assert await push(session_factory, channex, seeded) is None
    assert [(r.kind, r.endpoint, r.outcome) for r in await runs(session_factory)] == [
        ("incremental", "availability", "failed"),
        ("full", "availability", "success"),  # restrictions: nothing stored, nothing sent
    ]
    assert fake.availability[("cx-r0", TODAY)] == 3
