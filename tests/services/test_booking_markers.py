"""Markers of periodic booking work (app/services/webhook_registration.py): touched by two
replicas at once, a marker new to both is recorded once and fails neither."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from sqlalchemy import select

from app.models import BookingMarker
from app.resources import Resources
from app.services.webhook_registration import marker_due, touch_marker


async def test_two_first_touches_at_once_both_succeed(app: FastAPI) -> None:
    resources: Resources = app.state.resources
    sessions = resources.session_factory

    async def second() -> None:
        async with sessions() as session:
            await touch_marker(session, "reconcile")
            await session.commit()

    async with sessions() as first:
        await touch_marker(first, "reconcile")  # not committed: the second must wait for it
        other = asyncio.create_task(second())
        await asyncio.sleep(0.2)
        assert not other.done()
        await first.commit()
    await asyncio.wait_for(other, timeout=10)  # before: IntegrityError on the unique key

    async with sessions() as session:
        stmt = select(BookingMarker).where(BookingMarker.name == "reconcile")
        assert len((await session.execute(stmt)).scalars().all()) == 1
        assert not await marker_due(session, "reconcile", 60)
