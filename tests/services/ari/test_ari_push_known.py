"""A push reads its cells once, and reads them again only when someone else wrote to them
between its transactions (ari_push_known): the answer is recorded over what is really stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.models import AriCell, RoomType
from app.services.ari_drift import check_property_drift
from app.services.ari_full_syncs import request_full_sync
from app.services.ari_holds import hold_booked_nights
from tests.factories import Seeded, availability_item, restrictions_item
from tests.services.ari.support import LAST, NOW, TODAY, Clock, cells, change, push
from tests.services.ari_support import FakeAri

NIGHT = TODAY + timedelta(days=10)


@contextmanager
def cell_reads(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements that read cells' `pushed` documents (as the push's reads do)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "ari_cell.pushed" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def owe_full_sync(session_factory: async_sessionmaker[AsyncSession], seeded: Seeded) -> None:
    async with session_factory() as session:
        await request_full_sync(session, seeded.property_pk)
        await session.commit()


async def test_a_full_sync_reads_its_cells_once_per_endpoint(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await change(
        session_factory,
        availability_item("r0", TODAY, LAST, 5),
        restrictions_item("r0", "bar", TODAY, LAST, rate="100"),
    )
    assert await push(session_factory, channex, seeded) is None
    clock.now += 10
    await owe_full_sync(session_factory, seeded)
    engine = session_factory.kw["bind"]
    with cell_reads(engine) as reads:
        assert await push(session_factory, channex, seeded) is None
    # The plan's read of each endpoint; not again before and after each request.
    assert len(reads) == 2
    assert len(fake.writes("availability")) == 2
    assert len(fake.writes("restrictions")) == 2
    assert all(not cell.dirty and cell.failure is None for cell in await cells(session_factory))


async def test_a_pms_change_during_a_full_sync_is_read_and_sent_next(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await change(session_factory, availability_item("r0", TODAY, LAST, 5))
    assert await push(session_factory, channex, seeded) is None
    clock.now += 10
    await owe_full_sync(session_factory, seeded)

    async def pms_changes_meanwhile(endpoint: str) -> None:
        fake.during = None
        await change(session_factory, availability_item("r0", NIGHT, NIGHT, 2))

    fake.during = pms_changes_meanwhile
    engine = session_factory.kw["bind"]
    with cell_reads(engine) as reads:
        assert await push(session_factory, channex, seeded) is not None  # more to send
    assert len(reads) > 1  # the answer was recorded over the cells read again
    (cell,) = [c for c in await cells(session_factory) if c.stay_date == NIGHT]
    assert (cell.desired, cell.pushed, cell.dirty) == (
        {"availability": 2},
        {"availability": 5},
        True,
    )
    clock.now += 10
    assert await push(session_factory, channex, seeded) is None
    assert fake.availability[("cx-r0", NIGHT)] == 2


async def test_a_booking_hold_during_a_full_sync_is_seen_by_its_answer(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await change(session_factory, availability_item("r0", TODAY, LAST, 5))
    assert await push(session_factory, channex, seeded) is None
    clock.now += 10
    await owe_full_sync(session_factory, seeded)

    async def booked_meanwhile(endpoint: str) -> None:
        fake.during = None
        async with session_factory() as session:
            stmt = select(RoomType.id).where(RoomType.pms_room_type_id == "r0")
            room_pk = (await session.execute(stmt)).scalar_one()
            assert await hold_booked_nights(session, seeded.property_pk, [(room_pk, NIGHT)]) == 1
            await session.commit()

    fake.during = booked_meanwhile
    assert await push(session_factory, channex, seeded) is None
    async with session_factory() as session:
        stmt = select(AriCell).where(AriCell.kind == "availability", AriCell.stay_date == NIGHT)
        cell = (await session.execute(stmt)).scalar_one()
    # The hold forgot the night's availability; the answer then recorded the 5 Channex
    # accepted over what the hold left (not over the 5 the plan had read), and the night stays
    # held, not pending.
    assert cell.held_at is not None
    assert (cell.pushed, cell.dirty) == ({"availability": 5}, False)


async def test_a_push_while_a_drift_check_reads_channex_is_not_taken_for_drift(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await change(session_factory, availability_item("r0", TODAY, LAST, 5))
    assert await push(session_factory, channex, seeded) is None

    async def pushed_meanwhile(endpoint: str) -> None:
        # Channex answered the readback with 5; a PMS change to 7 goes out before the check
        # takes the lock, and the push records Channex's 7.
        fake.after_read = None
        clock.now += 10
        await change(session_factory, availability_item("r0", NIGHT, NIGHT, 7))
        assert await push(session_factory, channex, seeded) is None

    fake.after_read = pushed_meanwhile
    clock.now += 10
    async with session_factory() as session:
        drift = await check_property_drift(
            session, channex, seeded.property_pk, repair=True, now=NOW
        )
        await session.commit()
    assert drift is not None
    assert drift.stale  # checked again later
    assert drift.differences == []  # and nothing marked
    async with session_factory() as session:
        stmt = select(AriCell).where(AriCell.kind == "availability", AriCell.stay_date == NIGHT)
        night = (await session.execute(stmt)).scalars().all()
    assert [(c.pushed, c.dirty) for c in night if c.desired == {"availability": 7}] == [
        ({"availability": 7}, False)
    ]
    assert fake.availability[("cx-r0", NIGHT)] == 7

    # With no writer in between, the same check compares, and finds nothing.
    clock.now += 10
    async with session_factory() as session:
        again = await check_property_drift(
            session, channex, seeded.property_pk, repair=True, now=NOW
        )
        await session.commit()
    assert again is not None
    assert not again.stale
    assert again.differences == []
