"""Booking webhooks in batches (app/services/revision_batches.py): many revisions in one
transaction, a SAVEPOINT each, one commit, then the acks; and their deliveries sent per
endpoint (app/services/delivery_probe.py drain_endpoint). The guarantees of one revision at a
time must hold for every revision of a batch."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import DBAPIError

from app.models import Booking, BookingDelivery, BookingRevision, QuarantinedRevision, WebhookEvent
from app.models.bookings import DeliveryStatus, EventStatus
from app.services import delivery_rounds
from app.services.delivery_probe import drain_endpoint
from app.services.inbox import store_event
from app.services.revision_intake import apply_and_ack
from app.services.webhook_events import process_events
from app.settings import Settings
from tests import booking_fakes
from tests.api.test_bookings import PMS_URL, configure_endpoint, verified
from tests.api.test_webhooks import count, ids, resources, settle
from tests.booking_fakes import ChannexBookings, booking_settings
from tests.factories import onboard, webhook_body
from tests.fake_channex import FakeChannex

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router


@pytest.fixture
def settings(database_url: str) -> Settings:
    # pms.test resolves nowhere: the address check is what this flag turns off.
    return booking_settings(database_url, allow_private_callbacks=True)


def renamed(bookings: ChannexBookings, revision_id: str, new_id: str) -> str:
    """The revision under another id: ids that sort against Channex's order show that a batch
    orders by `inserted_at`, not by chance."""
    attrs = bookings.revisions.pop(revision_id)
    bookings.revisions[new_id] = {**attrs, "id": new_id}
    return new_id


async def stored_events(
    app: FastAPI, bookings: ChannexBookings, revision_ids: list[str]
) -> list[int]:
    """The revisions' webhooks stored in the inbox, without asking for their processing (so
    that one call processes them as one batch)."""
    event_ids = []
    for revision_id in revision_ids:
        attrs = bookings.revisions[revision_id]
        body = webhook_body(
            "booking",
            attrs["property_id"],
            booking_id=attrs["booking_id"],
            property_id=attrs["property_id"],
            revision_id=revision_id,
        )
        event_id = await store_event(resources(app).engine, json.dumps(body).encode())
        assert event_id is not None
        event_ids.append(event_id)
    return event_ids


async def process(app: FastAPI, event_ids: list[int]) -> None:
    res = resources(app)
    processed = await process_events(res.session_factory, res.settings, res.channex, event_ids)
    assert processed.retry_after is None


async def revision_rows(app: FastAPI) -> dict[str, BookingRevision]:
    async with resources(app).session_factory() as session:
        rows = (await session.execute(select(BookingRevision))).scalars()
        return {row.channex_revision_id: row for row in rows}


async def event_statuses(app: FastAPI) -> list[str]:
    async with resources(app).session_factory() as session:
        return list((await session.execute(select(WebhookEvent.status))).scalars())


async def test_a_poison_revision_in_a_batch_is_quarantined_and_acked_alone(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    made = [bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n) for n in range(3)]
    good = [made[0], made[2]]
    bookings.revisions[made[1]]["amount"] = 200  # a JSON number: the schema says a string

    await process(app, await stored_events(app, bookings, made))

    rows = await revision_rows(app)
    assert sorted(rows) == sorted(good)
    assert all(row.acked_at is not None for row in rows.values())
    assert await count(app, Booking) == 2  # the poison one's booking row was rolled back too
    assert sorted(bookings.acked) == sorted(made)  # the poison one too: it never blocks
    problems = (await client.get("/v1/bookings/problems")).json()
    (held,) = problems["quarantined_revisions"]
    assert (held["revision_id"], held["reason"].split(" ")[0]) == (made[1], "RevisionOffSchema")
    assert await event_statuses(app) == [EventStatus.DONE] * 3
    feed = (await client.get("/v1/bookings/revisions")).json()
    assert sorted(item["id"] for item in feed["items"]) == sorted(good)
    positions = sorted(row.feed_position or 0 for row in rows.values())
    assert positions[0] > 0
    assert positions[1] == positions[0] + 1  # given at the batch's end, in apply order


async def test_a_batch_applies_each_booking_in_channex_order_whatever_the_webhook_order(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    first = renamed(bookings, bookings.add(prop, room_type_id=room, rate_plan_id=rate), "r-3")
    booking = bookings.booking_of(first)
    kw = {"room_type_id": room, "rate_plan_id": rate, "booking_id": booking}
    second = renamed(bookings, bookings.add(prop, status="modified", minutes=2, **kw), "r-2")
    third = renamed(bookings, bookings.add(prop, status="cancelled", minutes=4, **kw), "r-1")
    other = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=1)

    # The newest first: the batch must still apply new, modified, cancelled, in that order.
    await process(app, await stored_events(app, bookings, [third, other, second, first]))

    rows = await revision_rows(app)
    assert [rows[r].sequence for r in (first, second, third)] == [1, 2, 3]
    assert all(rows[r].flags == [] for r in (first, second, third))  # none stale
    read = (await client.get(f"/v1/bookings/{booking}")).json()
    assert (read["status"], read["last_sequence"]) == ("cancelled", 3)
    assert sorted(bookings.acked) == sorted([first, second, third, other])
    assert len(bookings.acked) == 4  # each acked once, though the feed served some twice
    feed_reads = [c for c in bookings.calls if c.url.path.endswith("/booking_revisions/feed")]
    assert len(feed_reads) == 1  # once for the batch's two revisions that are not new


async def test_a_failed_ack_in_a_batch_leaves_that_revision_to_the_reconciliation(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    made = [bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n) for n in range(3)]
    bookings.fail_acks = 1  # whichever ack comes first is refused

    await process(app, await stored_events(app, bookings, made))

    rows = await revision_rows(app)
    unacked = [r for r, row in rows.items() if row.acked_at is None]
    assert len(rows) == 3
    assert len(unacked) == 1
    assert sorted(bookings.acked) == sorted(set(made) - set(unacked))
    assert await event_statuses(app) == [EventStatus.DONE] * 3

    await resources(app).queue.enqueue("reconcile_bookings", 1)
    await settle(app)

    assert sorted(bookings.acked) == sorted(made)
    rows = await revision_rows(app)
    assert all(row.acked_at is not None for row in rows.values())
    assert sorted(row.sequence or 0 for row in rows.values()) == [1, 1, 1]  # not re-applied


async def test_a_batch_that_runs_twice_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    first = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=0)
    kw = {"room_type_id": room, "rate_plan_id": rate, "booking_id": bookings.booking_of(first)}
    made = [first, bookings.add(prop, status="modified", minutes=2, **kw)]
    made.append(bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=3))
    event_ids = await stored_events(app, bookings, made)
    await process(app, event_ids)
    before = {r: (row.sequence, row.feed_position) for r, row in (await revision_rows(app)).items()}
    fetched = len(bookings.calls)

    await process(app, event_ids)  # the events are done: nothing is even fetched
    assert len(bookings.calls) == fetched
    # As if a worker died after the commit and the acks, before the events were marked.
    async with resources(app).session_factory() as session:
        await session.execute(update(WebhookEvent).values(status=EventStatus.PENDING))
        await session.commit()
    await process(app, event_ids)

    after = {r: (row.sequence, row.feed_position) for r, row in (await revision_rows(app)).items()}
    assert after == before
    assert len(bookings.acked) == 3  # acked already: not asked again
    assert await count(app, QuarantinedRevision) == 0
    async with resources(app).session_factory() as session:
        deliveries = int(
            (await session.execute(select(func.count(BookingDelivery.id)))).scalar_one()
        )
    assert deliveries == 0  # no endpoint configured: nothing to deliver, twice or once


async def test_deliveries_per_endpoint_go_once_each_in_order_per_booking(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    await onboard(client)
    secret = await configure_endpoint(client)
    received: list[httpx.Request] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        await asyncio.sleep(0.01)  # long enough for concurrent senders to overlap
        return httpx.Response(204)

    router.post(PMS_URL).mock(side_effect=answer)
    prop, room, rate = ids(channex)
    made: list[str] = []
    for n in range(6):  # six bookings, each new then modified
        new = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n)
        kw = {"room_type_id": room, "rate_plan_id": rate, "booking_id": bookings.booking_of(new)}
        made += [new, bookings.add(prop, status="modified", minutes=10 + n, **kw)]
    await process(app, await stored_events(app, bookings, made))
    res = resources(app)
    async with res.session_factory() as session:
        (endpoint_id,) = set((await session.execute(select(BookingDelivery.endpoint_id))).scalars())

    # Two senders on one endpoint at once (two workers' drains): the lease keeps one sender
    # per revision, and each booking's revisions go in sequence.
    drains = [
        drain_endpoint(
            res.session_factory, res.settings, res.pms_http, endpoint_id, budget_seconds=10
        )
        for _ in range(2)
    ]
    await asyncio.gather(*drains)
    await settle(app)

    payloads = [verified(request, secret) for request in received]
    sent = [p["data"]["id"] for p in payloads]  # type: ignore[index]
    assert sorted(sent) == sorted(made)  # each revision once
    per_booking: dict[str, list[int]] = {}
    for p in payloads:
        per_booking.setdefault(p["data"]["booking_id"], []).append(int(p["sequence"]))  # type: ignore[index, call-overload]
    assert sorted(per_booking.values()) == [[1, 2]] * 6
    async with res.session_factory() as session:
        statuses = set((await session.execute(select(BookingDelivery.status))).scalars())
    assert statuses == {DeliveryStatus.DELIVERED}


async def test_a_refused_delivery_in_a_round_waits_alone_and_its_booking_behind_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    await onboard(client)
    secret = await configure_endpoint(client)
    prop, room, rate = ids(channex)
    refused = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=0)
    booking = bookings.booking_of(refused)
    kw = {"room_type_id": room, "rate_plan_id": rate, "booking_id": booking}
    behind = bookings.add(prop, status="modified", minutes=5, **kw)
    others = [bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n) for n in (1, 2)]
    accepted: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        revision = verified(request, secret)["data"]["id"]  # type: ignore[index]
        if revision == refused:
            return httpx.Response(500)
        accepted.append(str(revision))
        return httpx.Response(204)

    router.post(PMS_URL).mock(side_effect=answer)
    await process(app, await stored_events(app, bookings, [refused, behind, *others]))
    res = resources(app)
    async with res.session_factory() as session:
        (endpoint_id,) = set((await session.execute(select(BookingDelivery.endpoint_id))).scalars())

    drained = await drain_endpoint(
        res.session_factory, res.settings, res.pms_http, endpoint_id, budget_seconds=10
    )

    assert sorted(accepted) == sorted(others)  # the refusal held up no other booking
    async with res.session_factory() as session:
        rows = {
            d.revision_id: d for d in (await session.execute(select(BookingDelivery))).scalars()
        }
        by_revision = {
            r.id: r.channex_revision_id
            for r in (await session.execute(select(BookingRevision))).scalars()
        }
    state = {by_revision[k]: (d.status, d.attempts) for k, d in rows.items()}
    assert state[refused] == (DeliveryStatus.PENDING, 1)
    assert state[behind] == (DeliveryStatus.PENDING, 0)  # n+1 waits for n
    booking_pk = next(d.booking_id for k, d in rows.items() if by_revision[k] == refused)
    assert [b for b, _ in drained.later] == [booking_pk]  # its retry gets a job of its own
    assert drained.probe_in is not None


@contextlib.contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs meanwhile, in order."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    engine = resources(app).engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def first(seen: list[str], prefix: str) -> int:
    return next(n for n, sql in enumerate(seen) if sql.startswith(prefix))


async def test_new_bookings_take_the_ari_lock_before_any_booking_lock(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    """A new booking holds its nights' availability under the property's ARI lock. Taken at
    the hold, after the booking's row, a batch holding that lock and waiting for a booking
    and a single revision holding the booking and waiting for the lock deadlocked (CI): every
    transaction takes the ARI lock first."""
    await onboard(client)
    prop, room, rate = ids(channex)
    made = [bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n) for n in range(3)]
    res = resources(app)

    with statements(app) as batch:
        await process(app, await stored_events(app, bookings, made[:2]))
    assert res.channex is not None
    rev = await res.channex.get_booking_revision(made[2])
    with statements(app) as single:
        await apply_and_ack(res.session_factory, res.settings, res.channex, [rev])

    assert len(await revision_rows(app)) == 3
    for seen in (batch, single):
        assert first(seen, "UPDATE ari_state") < first(seen, "INSERT INTO booking ")


class _Deadlock(Exception):
    sqlstate = "40P01"  # what asyncpg raises when PostgreSQL picks a deadlock's victim


async def test_a_round_whose_record_loses_a_deadlock_records_it_again_and_sends_nothing_twice(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The PMS has answered; a record rolled back would leave the revisions leased, sent
    again once the lease ran out. The same answers are recorded in a fresh transaction."""
    await onboard(client)
    await configure_endpoint(client)
    pms = router.post(PMS_URL).respond(204)
    prop, room, rate = ids(channex)
    made = [bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=n) for n in range(3)]
    record = delivery_rounds._record
    calls = 0

    async def deadlocked_once(*args: Any, **kwargs: Any) -> delivery_rounds.Round:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise DBAPIError("UPDATE booking_delivery ...", None, _Deadlock())
        return await record(*args, **kwargs)

    monkeypatch.setattr(delivery_rounds, "_record", deadlocked_once)
    await process(app, await stored_events(app, bookings, made))
    res = resources(app)
    async with res.session_factory() as session:
        (endpoint_id,) = set((await session.execute(select(BookingDelivery.endpoint_id))).scalars())
    await drain_endpoint(
        res.session_factory, res.settings, res.pms_http, endpoint_id, budget_seconds=10
    )
    await settle(app)

    async with res.session_factory() as session:
        rows = (await session.execute(select(BookingDelivery))).scalars().all()
    assert calls >= 2  # the first record lost, then recorded again
    assert [(row.status, row.attempts, row.lease_until) for row in rows] == [
        (DeliveryStatus.DELIVERED, 1, None)
    ] * 3
    assert pms.call_count == 3  # each revision sent once
