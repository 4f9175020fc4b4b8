"""A batch's new revisions applied as sets (app/services/revision_sets.py): a few statements
for all of them, each revision ending exactly as one applied on its own ends; a run of them
split around the revisions that go one by one; and the set rolled back whole, its revisions
applied one by one, when one of its writes fails."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.models import AriCell, Booking, BookingDelivery, BookingRevision, RoomType
from app.models.ari import AVAILABILITY
from app.services.revision_intake import apply_and_ack
from tests import booking_fakes
from tests.api.test_bookings import configure_endpoint
from tests.api.test_webhook_batches import process, statements, stored_events
from tests.api.test_webhooks import ids, resources
from tests.booking_fakes import ChannexBookings, booking_settings
from tests.factories import onboard
from tests.fake_channex import FakeChannex

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router

CLOSED_NIGHT = date(2031, 1, 11)  # the PMS's availability is 0: a booking on it overbooks


@pytest.fixture
def settings(database_url: str) -> Any:
    return booking_settings(database_url, allow_private_callbacks=True)


async def close_a_night(app: FastAPI) -> None:
    """Availability cells of the room type for the 10th (3 left) and the 11th (0 left)."""
    async with resources(app).session_factory() as session:
        room_type = (await session.execute(select(RoomType))).scalar_one()
        for night, left in ((date(2031, 1, 10), 3), (CLOSED_NIGHT, 0)):
            session.add(
                AriCell(
                    property_id=room_type.property_id, kind=AVAILABILITY,
                    entity_id=room_type.id, stay_date=night, desired={"availability": left},
                    pushed={"availability": left},
                )
            )  # fmt: skip
        await session.commit()


async def outcome(app: FastAPI, revision_id: str) -> dict[str, Any]:
    """Everything applying a revision writes, with its own ids left out."""
    async with resources(app).session_factory() as session:
        row = (
            await session.execute(
                select(BookingRevision).where(BookingRevision.channex_revision_id == revision_id)
            )
        ).scalar_one()
        booking = await session.get(Booking, row.booking_id)
        assert booking is not None
        deliveries = (
            await session.execute(
                select(BookingDelivery.sequence, BookingDelivery.status).where(
                    BookingDelivery.revision_id == row.id
                )
            )
        ).all()
    rooms = [{k: v for k, v in r.items() if k != "booking_room_id"} for r in row.data["rooms"]]
    return {
        "revision": (row.status, row.sequence, row.flags, rooms, row.inserted_at is not None),
        "stored": (row.personal_data is not None, row.feed_position is not None, row.acked_at),
        "booking": (
            booking.status, booking.last_sequence, booking.current_revision_id == revision_id,
            booking.unique_id, booking.arrival_date, booking.departure_date, booking.amount,
            booking.currency, booking.property_id is not None,
        ),
        "deliveries": [tuple(d) for d in deliveries],
    }  # fmt: skip


def acked(result: dict[str, Any]) -> dict[str, Any]:
    """The outcome, with only whether it was acked (a time)."""
    return {**result, "stored": (*result["stored"][:2], result["stored"][2] is not None)}


def count_of(seen: list[str], prefix: str) -> int:
    return sum(1 for sql in seen if sql.startswith(prefix))


async def test_new_revisions_as_a_set_end_as_each_applied_alone_ends(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    await configure_endpoint(client)
    await close_a_night(app)
    prop, room, rate = ids(channex)
    stays = [
        ("2031-01-10", "2031-01-12"),
        ("2031-01-10", "2031-01-11"),
        ("2031-01-14", "2031-01-15"),
    ]

    def made() -> list[str]:
        return [
            bookings.add(prop, room_type_id=room, rate_plan_id=rate, arrival=a, departure=d)
            for a, d in stays
        ]

    as_set, alone = made(), made()

    with statements(app) as seen:
        await process(app, await stored_events(app, bookings, as_set))
    res = resources(app)
    assert res.channex is not None
    for revision_id in alone:
        rev = await res.channex.get_booking_revision(revision_id)
        await apply_and_ack(res.session_factory, res.settings, res.channex, [rev])

    for mine, reference in zip(as_set, alone, strict=True):
        assert acked(await outcome(app, mine)) == acked(await outcome(app, reference))
    first = await outcome(app, as_set[0])
    assert first["revision"][1:3] == (1, ["overbooking"])  # the 11th was closed
    assert first["deliveries"] == [(1, "pending")]
    # One statement each for the three bookings, revisions and deliveries; no SAVEPOINT each.
    assert count_of(seen, "INSERT INTO booking ") == 1
    assert count_of(seen, "INSERT INTO booking_revision") == 1
    assert count_of(seen, "INSERT INTO booking_delivery") == 1
    assert count_of(seen, "SAVEPOINT") == 1
    async with res.session_factory() as session:
        cells = (await session.execute(select(AriCell))).scalars().all()
    assert all(cell.held_at is not None and "availability" not in cell.pushed for cell in cells)


async def test_a_run_of_new_revisions_is_cut_around_one_applied_alone(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    """A booking with two revisions in the batch goes one by one, in its place in the
    batch's order: the sets before and after it keep the order bookings are locked in."""
    await onboard(client)
    prop, room, rate = ids(channex)
    ids_in_order = sorted(f"b-{n}" for n in range(5))
    made = {
        b: bookings.add(prop, booking_id=b, room_type_id=room, rate_plan_id=rate)
        for b in ids_in_order
    }
    modified = bookings.add(
        prop, booking_id=ids_in_order[2], status="modified", minutes=5, room_type_id=room,
        rate_plan_id=rate,
    )  # fmt: skip

    with statements(app) as seen:
        await process(app, await stored_events(app, bookings, [*made.values(), modified]))

    for revision_id in made.values():
        assert (await outcome(app, revision_id))["revision"][1] == 1
    assert (await outcome(app, modified))["revision"][1] == 2
    upserts = [n for n, sql in enumerate(seen) if sql.startswith("INSERT INTO booking ")]
    # b-0 and b-1 as a set, b-2's two revisions one by one, b-3 and b-4 as a set.
    assert len(upserts) == 4
    assert sorted(bookings.acked) == sorted([*made.values(), modified])


async def test_a_set_whose_write_fails_is_applied_one_by_one_and_only_the_poison_held(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A value PostgreSQL refuses (a unique id longer than its column) is no fault of the
    revision's schema, so the set meets it at its write: the set is rolled back whole, and
    one revision at a time the good ones are applied and the bad one quarantined."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite does not enforce VARCHAR lengths: nothing fails there")
    await onboard(client)
    prop, room, rate = ids(channex)
    made = [bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n) for n in range(3)]
    bookings.revisions[made[1]]["unique_id"] = "x" * 200

    with caplog.at_level(logging.WARNING, logger="app.services.revision_sets"):
        await process(app, await stored_events(app, bookings, made))

    assert "a set of revisions failed; applying them one by one" in caplog.text
    async with resources(app).session_factory() as session:
        stored = set((await session.execute(select(BookingRevision.channex_revision_id))).scalars())
        booking_rows = len((await session.execute(select(Booking))).scalars().all())
    assert stored == {made[0], made[2]}
    assert booking_rows == 2  # the poison one's booking row was rolled back with it
    problems = (await client.get("/v1/bookings/problems")).json()
    assert [q["revision_id"] for q in problems["quarantined_revisions"]] == [made[1]]
    assert sorted(bookings.acked) == sorted(made)
