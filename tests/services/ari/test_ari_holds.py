"""After a booking, Channex's own availability decrement is never overwritten by an older
desired value: the booked nights wait, visibly, for the PMS's next availability."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.models import AriCell, RoomType
from app.services.ari_full_syncs import request_full_sync
from app.services.ari_holds import hold_booked_nights
from app.services.ari_state import cell_status
from tests.factories import Seeded, availability_item
from tests.services.ari.support import TODAY, Clock, cells, change, push
from tests.services.ari_support import FakeAri

NIGHTS = [TODAY + timedelta(days=10), TODAY + timedelta(days=11)]
LAST_NIGHT = TODAY + timedelta(days=12)


async def book(
    session_factory: async_sessionmaker[AsyncSession], seeded: Seeded, nights: list[date]
) -> int:
    async with session_factory() as session:
        stmt = select(RoomType.id).where(RoomType.pms_room_type_id == "r0")
        room_pk = (await session.execute(stmt)).scalar_one()
        held = await hold_booked_nights(session, seeded.property_pk, [(room_pk, n) for n in nights])
        await session.commit()
        return held


async def statuses(session_factory: async_sessionmaker[AsyncSession]) -> dict[date, str]:
    return {
        c.stay_date: cell_status(c)
        for c in await cells(session_factory)
        if c.kind == "availability"
    }


async def test_booked_nights_are_held_and_never_pushed_back(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    room = seeded.room_types["r0"]
    await change(session_factory, availability_item("r0", NIGHTS[0], LAST_NIGHT, 5))
    await push(session_factory, channex, seeded)
    # A booking arrives: Channex lowers the two nights by itself.
    for night in NIGHTS:
        fake.availability[(room, night)] = 4
    assert await book(session_factory, seeded, NIGHTS) == 2
    assert await statuses(session_factory) == {
        NIGHTS[0]: "held",
        NIGHTS[1]: "held",
        LAST_NIGHT: "in_sync",
    }

    clock.now += 10
    async with session_factory() as session:
        await request_full_sync(session, seeded.property_pk)
        await session.commit()
    await push(session_factory, channex, seeded)
    assert [fake.availability[(room, n)] for n in (*NIGHTS, LAST_NIGHT)] == [4, 4, 5]


async def test_the_pms_next_value_releases_a_held_night_even_if_unchanged(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    room = seeded.room_types["r0"]
    await change(session_factory, availability_item("r0", NIGHTS[0], LAST_NIGHT, 5))
    await push(session_factory, channex, seeded)
    fake.availability[(room, NIGHTS[0])] = 4
    await book(session_factory, seeded, NIGHTS[:1])

    # The PMS says 5 again for that night (say, it released a room elsewhere): it is sent.
    assert await change(session_factory, availability_item("r0", NIGHTS[0], NIGHTS[0], 5)) == 1
    clock.now += 10
    await push(session_factory, channex, seeded)
    assert fake.availability[(room, NIGHTS[0])] == 5
    assert (await statuses(session_factory))[NIGHTS[0]] == "in_sync"
    (cell,) = [c for c in await cells(session_factory) if c.stay_date == NIGHTS[0]]
    assert cell.held_at is None


async def test_nights_without_desired_state_are_not_held(
    session_factory: async_sessionmaker[AsyncSession], seeded: Seeded
) -> None:
    assert await book(session_factory, seeded, NIGHTS) == 0
    async with session_factory() as session:
        assert (await session.execute(select(AriCell))).first() is None
