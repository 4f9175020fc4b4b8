"""The PMS client (clients/python) drives the live service over real HTTP, against the Channex
sandbox, on both databases: onboard, push ARI, a guest books on the simulated OTA, the
booking is read from the feed iterator and acked, its push delivery verified with the
client's receiver helper, and the service's errors come back typed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from channel_sync_client import (
    ChannelSyncClient,
    NotFoundError,
    ValidationFailedError,
    verify_delivery,
)
from channel_sync_client import models as m
from tests.conftest import FAST_RATE_LIMIT_PER_MINUTE, GLOBAL_KEY
from tests.e2e.ari_support import ok
from tests.e2e.live import live_service
from tests.sandbox.servers import serve
from tests.waiting import eventually

SANDBOX_KEY = "client-flow-sandbox-key"
DEADLINE_SECONDS = 60.0  # a hang guard; the flow takes a few seconds


@dataclass
class RawReceiver:
    """The PMS's push endpoint: keeps each delivery's raw body, which is what is signed."""

    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        self.received.append((await request.body(), dict(request.headers)))
        return Response(status_code=204)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])


async def poll(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        await eventually(check, DEADLINE_SECONDS, poll=0.2)
    except TimeoutError:
        raise AssertionError(f"not within {DEADLINE_SECONDS} s: {what}") from None


@dataclass
class World:
    pms: ChannelSyncClient
    state: SandboxState
    tools_post: Callable[[str, dict[str, object]], Awaitable[dict[str, object]]]
    receiver: RawReceiver
    receiver_url: str


@asynccontextmanager
async def world(database_url: str) -> AsyncIterator[World]:
    sandbox = create_sandbox_app(
        SandboxConfig(api_key=SANDBOX_KEY, rate_limit_per_minute=FAST_RATE_LIMIT_PER_MINUTE, seed=3)
    )
    receiver = RawReceiver()
    async with (
        serve(sandbox) as sandbox_url,
        serve(receiver.app()) as receiver_url,
        live_service(database_url, sandbox_url, SANDBOX_KEY) as (api, tools),
        ChannelSyncClient(str(api.base_url), GLOBAL_KEY) as pms,
    ):

        async def tools_post(path: str, body: dict[str, object]) -> dict[str, object]:
            return await ok(await tools.post(path, json=body))

        yield World(pms, sandbox.state.sandbox, tools_post, receiver, f"{receiver_url}/hook")


async def onboard(pms: ChannelSyncClient) -> tuple[str, str, str]:
    """org-1 / p-1 / dbl / bar through the client; the Channex (property, room, rate) ids."""
    org = await pms.put_organization("org-1", m.OrganizationPut(title="Seaside Hotels"))
    body = m.PropertyPut(organization_id="org-1", title="Seaside Hotel", currency="EUR",
                         timezone="Europe/Lisbon")  # fmt: skip
    prop = await pms.put_property("p-1", body)
    room = await pms.put_room_type(
        "p-1", "dbl", m.RoomTypePut(title="Double", count_of_rooms=5, occ_adults=2)
    )
    options = [m.RatePlanOptionIn(occupancy=2, rate="120")]
    rate = await pms.put_rate_plan(
        "p-1", "dbl", "bar", m.RatePlanPut(title="Best Available Rate", options=options)
    )
    assert org.sync_status == prop.sync_status == room.sync_status == rate.sync_status == "synced"
    ids = prop.channex_property_id, room.channex_room_type_id, rate.channex_rate_plan_id
    assert None not in ids
    return str(ids[0]), str(ids[1]), str(ids[2])


async def push_ari(pms: ChannelSyncClient, first: date, last: date) -> None:
    """Availability and a rate for the dates, until Channex has every cell."""
    span = {"room_type_id": "dbl", "date_from": first, "date_to": last}
    batch = m.AriBatch(
        items=[
            m.AvailabilityItem(type="availability", availability=5, **span),
            m.RestrictionsItem(type="restrictions", rate_plan_id="bar", rate="120.00", **span),
        ]
    )
    accepted = await pms.post_ari("p-1", batch)
    assert accepted.cells_changed == 2 * ((last - first).days + 1)

    async def all_in_sync() -> bool:
        state = await pms.get_ari("p-1", from_=first, to=last)
        return bool(state.cells) and all(c.status == "in_sync" for c in state.cells)

    await poll(all_in_sync, "every ARI cell in_sync")
    runs = [run async for run in pms.iter_sync_runs("p-1", limit=1)]
    assert {run.endpoint for run in runs} == {"availability", "restrictions"}
    assert (await pms.get_sync_run("p-1", runs[0].id)).id == runs[0].id
    change = await pms.get_ari_change("p-1", accepted.change_id)
    assert (change.state, change.cells.in_sync) == ("in_sync", accepted.cells_changed)
    assert {run.id for run in change.runs} == {run.id for run in runs}
    assert all(run.task_ids for run in change.runs)


async def full_sync(pms: ChannelSyncClient) -> None:
    """A full sync, followed until done: one request per endpoint, none carrying a change."""
    started = await pms.full_sync("p-1")
    assert started.state in ("queued", "running")

    async def done() -> bool:
        return (await pms.get_full_sync("p-1", started.id)).state == "done"

    await poll(done, "the full sync done")
    finished = await pms.get_full_sync("p-1", started.id)
    assert sorted(run.endpoint for run in finished.runs) == ["availability", "restrictions"]
    assert {run.full_sync_id for run in finished.runs} == {started.id}


async def test_a_pms_drives_the_whole_flow_through_the_client(database_url: str) -> None:
    async with world(database_url) as w:
        pms = w.pms
        assert (await pms.live()) == {"status": "ok"}
        assert (await pms.ready()).ready
        cp, rt, rp = await onboard(pms)
        endpoint = await pms.put_booking_endpoint("org-1", m.EndpointPut(url=w.receiver_url))
        assert endpoint.secret is not None

        async def webhook_registered() -> bool:
            return len(w.state.store.webhooks) == 1

        await poll(webhook_registered, "channel-sync registered its webhook in the sandbox")
        session = await pms.create_channel_session(
            "p-1", m.ChannelSessionCreate(channels=["BDC"], language="en")
        )
        assert "/auth/exchange?oauth_session_key=" in session.url
        assert session.expires_at > datetime.now(UTC)
        await w.tools_post(f"/properties/{cp}/channels", {"channel": "BookingCom"})
        today = datetime.now(UTC).date()
        await push_ari(pms, today + timedelta(days=7), today + timedelta(days=60))
        await full_sync(pms)

        arrival = today + timedelta(days=10)
        booked = await w.tools_post(
            f"/properties/{cp}/bookings",
            {"channel": "BookingCom", "room_type_id": rt, "rate_plan_id": rp,
             "arrival_date": arrival.isoformat(),
             "departure_date": (arrival + timedelta(days=2)).isoformat(),
             "guest": {"name": "Ada", "surname": "Lovelace"}},
        )  # fmt: skip
        data = booked["data"]
        assert isinstance(data, dict)
        revision_id = data["revision_id"]

        async def in_the_feed() -> bool:
            return any([r.id == revision_id async for r in pms.iter_booking_revisions()])

        await poll(in_the_feed, "the booking in the PMS feed")
        [pending] = [r async for r in pms.iter_booking_revisions(pending=True)]
        assert (pending.id, pending.status, pending.property_id) == (revision_id, "new", "p-1")
        acked = await pms.ack_booking_revision(revision_id)
        assert acked.pulled_at is not None
        assert [r async for r in pms.iter_booking_revisions(pending=True)] == []
        [page] = [p async for p in pms.iter_booking_revision_pages()]
        assert (page.next_cursor, [r.id for r in page.items]) == (None, [revision_id])
        assert [r async for r in pms.iter_booking_revisions(after=page.resume_after)] == []
        booking = await pms.get_booking(acked.booking_id)
        assert booking.current_revision_id == revision_id

        async def pushed() -> bool:
            return bool(w.receiver.received)

        await poll(pushed, "the revision pushed to the PMS endpoint")
        [(body, headers)] = w.receiver.received
        delivery = verify_delivery(body, headers, endpoint.secret)
        assert (delivery.data.id, delivery.sequence) == (revision_id, 1)
        assert delivery.delivery_id == headers["webhook-id"]

        with pytest.raises(NotFoundError) as not_found:
            await pms.get_booking("no-such-booking")
        assert not_found.value.code == "not_found"
        backwards = m.AvailabilityItem(type="availability", room_type_id="dbl", availability=1,
                                       date_from=arrival, date_to=today)  # fmt: skip
        with pytest.raises(ValidationFailedError) as invalid:
            await pms.post_ari("p-1", m.AriBatch(items=[backwards]))
        assert invalid.value.code == "validation_error"
        assert [e.loc for e in invalid.value.errors] == ["body.items.0.availability"]
