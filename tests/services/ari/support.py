"""Shared pieces of the ARI engine tests: constants, a movable clock and small steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.models import AriCell, SyncRun
from app.schemas_ari import AriBatch
from app.services.access import Principal
from app.services.ari_push import PushLeft, push_property
from app.services.ari_state import apply_changes
from tests.factories import Seeded

BASE = "https://channex.test/api/v1"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday
TODAY = NOW.date()
LAST = TODAY + timedelta(days=499)
PMS = Principal(name="pms")


class Clock:
    """The limiter's clock, moved by the tests."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def change(
    session_factory: async_sessionmaker[AsyncSession],
    *items: dict[str, Any],
    now: datetime | None = NOW,
) -> int:
    async with session_factory() as session:
        batch = AriBatch.model_validate({"items": list(items)})
        _, accepted = await apply_changes(session, PMS, "p-1", batch, now=now)
        await session.commit()
        return accepted.cells_changed


async def push(
    session_factory: async_sessionmaker[AsyncSession], channex: ChannexClient, seeded: Seeded
) -> PushLeft | None:
    return await push_property(session_factory, channex, seeded.property_pk, now=NOW)


async def cells(session_factory: async_sessionmaker[AsyncSession]) -> list[AriCell]:
    async with session_factory() as session:
        return list((await session.execute(select(AriCell))).scalars())


async def runs(session_factory: async_sessionmaker[AsyncSession]) -> list[SyncRun]:
    async with session_factory() as session:
        return list((await session.execute(select(SyncRun).order_by(SyncRun.id))).scalars())
