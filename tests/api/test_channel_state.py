"""Channel state the PMS can show: channel webhooks drive it, the periodic refresh repairs a
lost webhook, each change is pushed signed and in order as `channel.state_changed`, and a
go-live records its full ARI sync and its import of bookings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import select

from app.jobs.channels import scan_channels
from app.jobs.requests import REFRESH_CHANNELS
from app.models import Channel, ChannelDelivery, Property
from app.schemas import ChannelRead
from app.services.channel_state import channel_read
from app.settings import Settings
from tests import booking_fakes
from tests.api.test_bookings import PMS_URL, verified
from tests.api.test_channel_events import CHANNEL_ID, send
from tests.api.test_webhooks import HOOK, SECRET, ids, post_booking, resources, settle
from tests.booking_fakes import ChannexBookings, booking_settings
from tests.factories import onboard, webhook_body
from tests.fake_channex import FakeChannex
from tests.services.ari_support import FakeAri

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
router = booking_fakes.router


@pytest.fixture
def settings(database_url: str) -> Settings:
    return booking_settings(database_url, allow_private_callbacks=True)


async def state(app: FastAPI) -> ChannelRead:
    async with resources(app).session_factory() as session:
        row = (await session.execute(select(Channel))).scalar_one()
        return await channel_read(session, row)


async def configure_endpoint(client: httpx.AsyncClient, *, channel_events: bool = True) -> str:
    body = {"url": PMS_URL, "channel_events": channel_events}
    response = await client.put("/v1/organizations/org-1/booking-endpoint", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["channel_events"] is channel_events
    secret: str = response.json()["secret"]
    return secret


async def send_sync_error(client: httpx.AsyncClient, prop: str) -> None:
    body = webhook_body("sync_error", prop, channel_id=CHANNEL_ID, channel_name="Booking.com",
                        error_type="invalid_rate_plan", channel_event_id="e-1")  # fmt: skip
    response = await client.post(HOOK, json=body, headers=SECRET)
    assert response.status_code == 200, response.text


async def test_channel_events_drive_the_state_and_its_next_steps(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    prop = ids(channex)[0]
    seen: list[tuple[str, str | None, list[str]]] = []

    async def step(event: str, minute: int) -> None:
        if event == "sync_error":
            await send_sync_error(client, prop)
        else:
            await send(client, event, prop, minute)
        await settle(app)
        now = await state(app)
        seen.append((now.state, now.last_event, now.next_steps))

    for minute, event in enumerate(["new_channel", "activate_channel", "sync_error",
                                    "deactivate_channel", "channel_removal_warning"]):  # fmt: skip
        await step(event, minute)

    assert [(s, e) for s, e, _ in seen] == [
        ("pending", "new_channel"),
        ("live", "activate_channel"),
        ("error", "sync_error"),
        ("disconnected", "deactivate_channel"),
        ("removal_warning", "channel_removal_warning"),
    ]
    assert "Booking.com extranet" in seen[0][2][0]  # BDC: approve Channex there
    assert seen[1][2] == []  # live: nothing to do
    assert "Booking.com: invalid_rate_plan" in seen[2][2][0]
    final = await state(app)
    assert final.error is None
    assert final.state_changed_at is not None


async def test_the_refresh_repairs_a_lost_activation_and_follows_its_go_live(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    prop = ids(channex)[0]
    await send(client, "new_channel", prop, 0)
    await settle(app)
    # Channex activated it, and its activate_channel webhook never came.
    channex.store["channels"][CHANNEL_ID] = {"id": CHANNEL_ID, "channel": "BookingCom",
        "title": "Booking.com", "is_active": True, "properties": [prop],
        "settings": {"hotel_id": "1234567"}}  # fmt: skip
    async with resources(app).session_factory() as session:
        pk = (await session.execute(select(Property.id))).scalar_one()
        due = [job.job_name for job in await scan_channels(session)]
    assert due == [REFRESH_CHANNELS]

    await resources(app).queue.enqueue(REFRESH_CHANNELS, pk, job_id=f"channels:{pk}")
    await settle(app)

    now = await state(app)
    assert (now.state, now.is_active) == ("live", True)
    assert now.go_live.went_live_at is not None
    assert now.go_live.full_sync.state == "done"  # Channex got the whole ARI before selling
    assert now.go_live.import_.state == "sent"
    assert bookings.actions == [(CHANNEL_ID, "load_future_reservations")]
    async with resources(app).session_factory() as session:
        assert await scan_channels(session) == []  # refreshed just now: not again yet
    # Told later, the activation changes nothing more.
    await send(client, "activate_channel", prop, 1)
    await settle(app)
    assert bookings.actions == [(CHANNEL_ID, "load_future_reservations")]

    channex.store["channels"][CHANNEL_ID]["is_active"] = False
    listed = await client.get("/v1/properties/p-1/channels")
    assert listed.status_code == 200, listed.text
    (answer,) = listed.json()
    assert answer["state"] == "disconnected"
    assert "hotel id 1234567" in answer["next_steps"][0]
    assert answer["go_live"]["import"]["state"] == "sent"


async def test_go_live_counts_the_bookings_of_the_channel_received_since(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    prop, room, rate = ids(channex)
    await send(client, "activate_channel", prop, 0)
    await settle(app)
    for minute, channel_id in enumerate([CHANNEL_ID, CHANNEL_ID, "another-channel"]):
        revision_id = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=minute)
        bookings.revisions[revision_id]["channel_id"] = channel_id
        await post_booking(client, prop, revision_id, bookings.booking_of(revision_id))
    await settle(app)

    assert (await state(app)).go_live.import_.bookings_received == 2


async def test_state_changes_are_pushed_signed_in_order_and_retried(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    prop = ids(channex)[0]
    secret = await configure_endpoint(client)
    pms = router.post(PMS_URL)
    pms.side_effect = [httpx.Response(500), *[httpx.Response(204)] * 5]

    # One at a time: events handled at once may be applied in either order.
    await send(client, "new_channel", prop, 0)
    await settle(app)
    await send(client, "activate_channel", prop, 1)
    await settle(app)
    await send_sync_error(client, prop)
    await settle(app)

    sent: list[dict[str, Any]] = [verified(call.request, secret) for call in pms.calls]
    assert {p["type"] for p in sent} == {"channel.state_changed"}
    assert [(p["sequence"], p["data"]["state"]) for p in sent] == [
        (1, "pending"), (1, "pending"), (2, "live"), (3, "error"),
    ]  # fmt: skip
    assert sent[0]["delivery_id"] == sent[1]["delivery_id"]  # the retry is the same message
    assert pms.calls[0].request.headers["webhook-id"] == sent[0]["delivery_id"]
    assert sent[0]["property_id"] == "p-1"
    assert sent[2]["data"]["go_live"]["import"]["state"] == "requested"  # as at the change


async def test_a_failing_change_holds_back_the_later_ones(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    prop = ids(channex)[0]
    secret = await configure_endpoint(client)
    pms = router.post(PMS_URL)
    pms.side_effect = [httpx.Response(503), *[httpx.Response(200)] * 5]

    # At once: the changes queue behind the first, which fails once.
    await send(client, "new_channel", prop, 0)
    await send(client, "activate_channel", prop, 1)
    await send(client, "deactivate_channel", prop, 2)
    await settle(app)

    sent = [verified(call.request, secret) for call in pms.calls]
    async with resources(app).session_factory() as session:
        stored = (await session.execute(select(ChannelDelivery).order_by("sequence"))).scalars()
        rows = [(d.sequence, d.data["channel"]["state"], d.status) for d in stored]
    # Events handled at once may apply in either order (fewer changes then): whatever was
    # stored is sent once each, in sequence, the first one twice.
    assert len(rows) >= 2
    assert [p["sequence"] for p in sent] == [1, *range(1, len(rows) + 1)]
    assert [(p["sequence"], p["data"]["state"]) for p in sent[1:]] == [  # type: ignore[index]
        (seq, state) for seq, state, _ in rows
    ]
    assert {status for _, _, status in rows} == {"delivered"}


async def test_an_endpoint_not_subscribed_gets_no_channel_events(
    app: FastAPI,
    client: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    await configure_endpoint(client, channel_events=False)
    pms = router.post(PMS_URL).respond(204)

    await send(client, "activate_channel", ids(channex)[0], 0)
    await settle(app)

    assert pms.calls == []  # a PMS that expects only booking revisions gets only those
    assert (await state(app)).state == "live"
    async with resources(app).session_factory() as session:
        assert (await session.execute(select(ChannelDelivery))).first() is None


async def test_an_import_channex_refuses_shows_as_failed_with_why(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    channex.ari = FakeAri().handle
    bookings.refuse_actions = True
    await onboard(client)

    await send(client, "activate_channel", ids(channex)[0], 0)
    await settle(app)

    go_live = (await state(app)).go_live
    assert bookings.actions == [(CHANNEL_ID, "load_future_reservations")]  # not retried
    assert (go_live.import_.state, go_live.import_.error) == ("failed", "HTTP 422")
    assert go_live.import_.sent_at is None
    assert go_live.full_sync.state == "done"  # the ARI side went live all the same
