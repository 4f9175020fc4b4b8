"""A PMS endpoint that fails is probed with its oldest pending delivery at a short interval;
once it answers, its whole backlog is sent within seconds, in order per booking, rather than
at each delivery's next scheduled retry (15 s, 1 min, 5 min … later)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import select

from app.db import utcnow
from app.jobs.bookings import scan_bookings
from app.jobs.requests import PROBE_PMS_ENDPOINT
from app.models import BookingDelivery, PmsEndpoint
from app.services.delivery import Step, deliver_step
from app.services.delivery_probe import probe_endpoint
from app.settings import Settings
from tests import booking_fakes
from tests.api.test_bookings import PMS_URL, book, configure_endpoint, verified
from tests.api.test_webhooks import resources, settle
from tests.booking_fakes import ChannexBookings, booking_settings
from tests.factories import onboard
from tests.fake_channex import FakeChannex
from tests.waiting import eventually

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router

PROBE_SECONDS = 0.2


@pytest.fixture
def settings(database_url: str) -> Settings:
    return booking_settings(
        database_url, allow_private_callbacks=True, pms_probe_interval_seconds=PROBE_SECONDS
    )


class Pms:
    """The PMS's endpoint, down (503) until `up` is set."""

    def __init__(self) -> None:
        self.up = False
        self.calls: list[tuple[float, bool, httpx.Request]] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((time.monotonic(), self.up, request))
        return httpx.Response(204 if self.up else 503)


async def deliveries(app: FastAPI) -> list[BookingDelivery]:
    async with resources(app).session_factory() as session:
        return list((await session.execute(select(BookingDelivery))).scalars())


async def test_a_recovered_endpoint_gets_its_backlog_at_once_in_order_per_booking(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    await onboard(client)
    secret = await configure_endpoint(client)
    pms = Pms()
    router.post(PMS_URL).mock(side_effect=pms.answer)
    first = await book(client, channex, bookings, minutes=0)
    booking = bookings.booking_of(first)
    await book(client, channex, bookings, booking_id=booking, status="modified", minutes=3)
    others = [await book(client, channex, bookings, minutes=n) for n in (5, 6)]

    # Down long enough for every delivery's second try (after ~1 s) to fail too: the next
    # scheduled retries are 12-18 s away.
    await asyncio.sleep(2.5)
    during = [c for c in pms.calls if not c[1]]
    pms.up = True
    recovered_at = time.monotonic()
    await eventually(lambda: _all_delivered(app), timeout=10, poll=0.05)
    drained_in = time.monotonic() - recovered_at
    await settle(app)

    assert drained_in < 5, f"the backlog took {drained_in:.1f} s after the PMS came back"
    accepted = [verified(c[2], secret) for c in pms.calls if c[1]]
    ours = [p["sequence"] for p in accepted if p["data"]["booking_id"] == booking]  # type: ignore[index]
    assert ours == [1, 2]  # the modification did not overtake the new booking
    delivered = {p["data"]["id"] for p in accepted}  # type: ignore[index]
    assert set(others) <= delivered
    # Failed probes spend none of a delivery's retries: each shows its scheduled tries only.
    assert all(d.attempts <= 3 for d in await deliveries(app))
    # Probes came at most once per interval (plus the scheduled tries of 3 deliveries).
    span = during[-1][0] - during[0][0]
    assert len(during) <= span / PROBE_SECONDS + 1 + 3 * 2


async def _delivered(app: FastAPI, count: int) -> bool:
    return sum(d.status == "delivered" for d in await deliveries(app)) >= count


async def _all_delivered(app: FastAPI) -> bool:
    rows = await deliveries(app)
    return len(rows) == 4 and all(d.status == "delivered" for d in rows)


async def test_a_probe_keeps_the_pms_retry_after_and_the_sweep_keeps_a_probe_on_the_endpoint(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
    settings: Settings,
) -> None:
    await onboard(client)
    await configure_endpoint(client)
    # The PMS asks for an hour: no probe comes sooner, and nothing is held in the queue.
    pms = router.post(PMS_URL).respond(500, headers={"Retry-After": "3600"})
    await book(client, channex, bookings)
    await settle(app)
    sessions = resources(app).session_factory
    async with sessions() as session:
        endpoint = (await session.execute(select(PmsEndpoint))).scalar_one()
    assert endpoint.next_probe_at is not None
    assert (endpoint.next_probe_at - utcnow()).total_seconds() > 3500

    async with sessions() as session:  # as if the hour had passed
        await session.execute(
            PmsEndpoint.__table__.update().values(next_probe_at=None)  # type: ignore[attr-defined]
        )
        await session.commit()
    async with httpx.AsyncClient() as http, sessions() as session:
        calls_before = pms.call_count
        once = await probe_endpoint(session, settings, http, endpoint.id)
        again = await probe_endpoint(session, settings, http, endpoint.id)
        await session.commit()
        scanned = await scan_bookings(session)

    assert (once.retry, once.recovered) == (3600.0, False)  # the Retry-After, not 0.2 s
    assert again.retry is not None
    assert 3590 < again.retry <= 3600  # too soon: nothing sent
    assert pms.call_count == calls_before + 1
    probes = [job for job in scanned if job.job_name == PROBE_PMS_ENDPOINT]
    assert [job.args for job in probes] == [(endpoint.id,)]


async def _failing(app: FastAPI) -> bool:
    async with resources(app).session_factory() as session:
        endpoint = (await session.execute(select(PmsEndpoint))).scalar_one_or_none()
    return endpoint is not None and endpoint.failing_since is not None


async def test_two_senders_reaching_one_revision_send_it_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
    settings: Settings,
) -> None:
    """A booking's job, a probe and a drain can all reach the same revision: its lease lets
    one of them send it while the others step aside. The app's own jobs may be a third
    sender here (the booking's retry 1 s after its failure): what must hold is one send in
    all, whoever makes it."""
    await onboard(client)
    await configure_endpoint(client)
    pms = router.post(PMS_URL).respond(503)
    await book(client, channex, bookings)
    await settle_failed(app)
    async with resources(app).session_factory() as session:
        await session.execute(BookingDelivery.__table__.update().values(next_attempt_at=utcnow()))  # type: ignore[attr-defined]
        # The app's probe (every PROBE_SECONDS) would be a sender too: not for this test.
        later = utcnow() + timedelta(minutes=5)
        await session.execute(PmsEndpoint.__table__.update().values(next_probe_at=later))  # type: ignore[attr-defined]
        await session.commit()
        row = (await session.execute(select(BookingDelivery))).scalar_one()
    calls_before = pms.call_count

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.3)  # both senders are past their checks while this is in flight
        return httpx.Response(204)

    pms.mock(side_effect=slow)
    sessions = resources(app).session_factory

    async def send() -> Step:
        async with httpx.AsyncClient() as http, sessions() as session:
            step = await deliver_step(
                session, settings, http, endpoint_id=row.endpoint_id, booking_id=row.booking_id
            )
            await session.commit()
            return step

    steps = await asyncio.gather(send(), send())

    assert pms.call_count - calls_before == 1
    assert sum(step.sent for step in steps) <= 1
    delivered = (await deliveries(app))[0]
    assert (delivered.status, delivered.lease_until) == ("delivered", None)


async def settle_failed(app: FastAPI) -> None:
    """Until the first attempt has failed and been recorded."""
    await eventually(lambda: _failing(app), timeout=10, poll=0.05)


async def test_one_revision_the_pms_refuses_keeps_its_schedule_while_others_are_taken(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    # Each of the other bookings' successes finds the endpoint failing (the refused revision
    # marked it) and so makes its backlog due: the refused one too, which is then tried
    # early. Those early tries must not spend its schedule (1 s, 15 s, 1 min, ...), or a
    # steady stream of bookings would use up its retries in minutes, not days.
    await onboard(client)
    await configure_endpoint(client)
    refused = bookings.booking_of(await book(client, channex, bookings, minutes=0))

    def answer(request: httpx.Request) -> httpx.Response:
        booking_id = json.loads(request.content)["data"]["booking_id"]
        return httpx.Response(500 if booking_id == refused else 204)

    router.post(PMS_URL).mock(side_effect=answer)
    for n in range(1, 7):
        await book(client, channex, bookings, minutes=n)
        # The refused one's retries and probes never let the queue idle: wait for the rows.
        await eventually(lambda: _delivered(app, n), timeout=10, poll=0.05)  # noqa: B023
        await asyncio.sleep(0.3)

    rows = await deliveries(app)
    [stuck] = [d for d in rows if d.status != "delivered"]
    assert len(rows) == 7
    # Its first try and the one scheduled 1 s later (give or take 20 %): in these ~2.5 s,
    # six successes brought it forward, and none of those early tries was counted.
    assert stuck.attempts == 2, stuck.attempts
    assert stuck.status == "pending"
    assert (stuck.next_attempt_at - utcnow()).total_seconds() > 10  # the 15 s step stands
