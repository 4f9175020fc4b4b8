"""A write Channex applied but never answered (the push job cancelled by its timeout, or the
worker killed, mid-request): what Channex holds is then unknown, and must be sent again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.services.ari_state import cell_status
from tests.factories import Seeded, availability_item
from tests.services.ari.support import TODAY, Clock, cells, change, push
from tests.services.ari_support import FakeAri
from tests.waiting import eventually


def apply_then_hang(fake: FakeAri) -> None:
    """The next write is applied, then its answer never comes (the sandbox's
    `_hang_after_processing` timeouts)."""

    async def hang(endpoint: str) -> None:
        fake.during = None
        _, values = fake.requests[-1]
        for value in values:
            fake._apply(endpoint, value)
        await asyncio.sleep(3600)

    fake.during = hang


DAY = TODAY + timedelta(days=3)


async def revert_after_an_unanswered_write(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    """9 sent and answered; 4 sent, applied by Channex, never answered; then the PMS says 9."""
    await change(session_factory, availability_item("r0", DAY, DAY, 9))
    assert await push(session_factory, channex, seeded) is None
    assert fake.availability[("cx-r0", DAY)] == 9

    # The PMS sells rooms: 4. Channex applies the write, but the job is cancelled (arq's
    # job timeout, as with a request hanging past it) before the answer is recorded.
    await change(session_factory, availability_item("r0", DAY, DAY, 4))
    apply_then_hang(fake)
    clock.now += 10
    # Cancelled once Channex has applied it (not after a fixed time: a loaded machine may take
    # longer than that to send it at all).
    pushing = asyncio.create_task(push(session_factory, channex, seeded))
    await eventually(lambda: fake.availability.get(("cx-r0", DAY)) == 4, timeout=30)
    pushing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pushing
    assert fake.availability[("cx-r0", DAY)] == 4

    # The sale is cancelled: the PMS says 9 again, the value we last saw Channex accept.
    await change(session_factory, availability_item("r0", DAY, DAY, 9))


async def test_a_pms_revert_after_an_unanswered_write_is_sent(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await revert_after_an_unanswered_write(session_factory, channex, fake, seeded, clock)
    clock.now += 10
    assert await push(session_factory, channex, seeded) is None

    assert fake.availability[("cx-r0", DAY)] == 9, "Channex keeps the unanswered 4"
    [cell] = [c for c in await cells(session_factory) if c.stay_date == DAY]
    assert cell_status(cell) == "in_sync"
    assert not cell.dirty


async def test_an_unanswered_write_does_not_leave_the_cell_in_sync(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    """Until Channex answers, the fields sent are unknown there: pending, never in sync."""
    await revert_after_an_unanswered_write(session_factory, channex, fake, seeded, clock)
    [cell] = [c for c in await cells(session_factory) if c.stay_date == DAY]
    assert cell.dirty
    assert cell_status(cell) == "pending"
    # and the next push sends exactly that cell
    clock.now += 10
    assert await push(session_factory, channex, seeded) is None
    last = fake.writes("availability")[-1]
    assert last == [
        {"property_id": "cx-p-1", "room_type_id": "cx-r0", "date_from": DAY.isoformat(),
         "date_to": DAY.isoformat(), "availability": 9}
    ]  # fmt: skip
