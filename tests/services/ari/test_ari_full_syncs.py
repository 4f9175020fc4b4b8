"""Full syncs as rows: how an outage, a flag owed without a row and a push interrupted after
sending end (queued, running, done, failed), and which runs belong to which."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.models import AriState, FullSync
from app.services.ari_full_syncs import request_full_sync
from app.services.ari_push import PushLeft
from tests.factories import Seeded, availability_item
from tests.services.ari.support import TODAY, Clock, change, push, runs
from tests.services.ari_support import FakeAri


async def full_syncs(session_factory: async_sessionmaker[AsyncSession]) -> list[FullSync]:
    async with session_factory() as session:
        return list((await session.execute(select(FullSync).order_by(FullSync.id))).scalars())


async def owe(session_factory: async_sessionmaker[AsyncSession], seeded: Seeded) -> int:
    async with session_factory() as session:
        owed = await request_full_sync(session, seeded.property_pk)
        await session.commit()
        return owed.id


async def test_an_outage_fails_the_running_full_sync_and_owes_the_next_one(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await change(session_factory, availability_item("r0", TODAY, TODAY, 3))
    assert await push(session_factory, channex, seeded) is None
    first = await owe(session_factory, seeded)
    fake.script = [httpx.Response(503)]
    clock.now += 60

    assert await push(session_factory, channex, seeded) == PushLeft("unavailable")
    failed, owed = await full_syncs(session_factory)
    clock.now += 60
    assert await push(session_factory, channex, seeded) is None
    _, done = await full_syncs(session_factory)

    assert (failed.id, failed.state) == (first, "failed")
    assert failed.finished_at is not None
    assert owed.state == "queued"
    assert done.state == "done"
    assert [(r.kind, r.outcome, r.full_sync_id) for r in await runs(session_factory)] == [
        ("incremental", "success", None),
        ("full", "failed", first),
        ("full", "success", done.id),
    ]


async def test_an_outage_of_an_incremental_push_owes_a_full_sync_to_follow(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    fake.script = [httpx.Response(503)]
    await change(session_factory, availability_item("r0", TODAY, TODAY, 3))
    assert await push(session_factory, channex, seeded) == PushLeft("unavailable")
    [owed] = await full_syncs(session_factory)
    clock.now += 60
    assert await push(session_factory, channex, seeded) is None
    [done] = await full_syncs(session_factory)

    assert owed.state == "queued"
    assert (done.id, done.state) == (owed.id, "done")


async def test_a_full_sync_owed_by_the_flags_alone_gets_a_row_and_ends_done(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await change(session_factory, availability_item("r0", TODAY, TODAY, 3))
    assert await push(session_factory, channex, seeded) is None
    async with session_factory() as session:  # as owed before full syncs were rows
        await session.execute(
            update(AriState)
            .where(AriState.property_id == seeded.property_pk)
            .values(full_availability=True, full_restrictions=True)
        )
        await session.commit()
    clock.now += 60

    assert await push(session_factory, channex, seeded) is None
    [done] = await full_syncs(session_factory)

    assert done.state == "done"
    assert [r.full_sync_id for r in await runs(session_factory)] == [None, done.id]


async def test_a_full_sync_sent_but_not_marked_finished_is_finished_by_the_next_push(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    seeded: Seeded,
) -> None:
    owed = await owe(session_factory, seeded)
    async with session_factory() as session:  # the worker died after the last request
        await session.execute(update(AriState).values(full_availability=False))
        await session.execute(update(AriState).values(full_restrictions=False))
        await session.execute(update(FullSync).values(state="running"))
        await session.commit()

    assert await push(session_factory, channex, seeded) is None
    [finished] = await full_syncs(session_factory)

    assert (finished.id, finished.state) == (owed, "done")
    assert finished.finished_at is not None
