"""Channel events: the property's channel rows follow them; a connection owes the property a
full ARI sync and imports the OTA's existing reservations (channex-api.md §7.3, §8.3, §9.2)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.models import AriState, Channel, Property, WebhookEvent
from app.services.inbox import pending_event_ids
from tests import booking_fakes
from tests.api.test_webhooks import HOOK, SECRET, ids, resources, settle
from tests.booking_fakes import ChannexBookings
from tests.factories import availability, onboard, webhook_body
from tests.fake_channex import FakeChannex
from tests.services.ari_support import FakeAri

booking_fake = booking_fakes.booking_fake
channex = booking_fakes.channex
bookings = booking_fakes.bookings
settings = booking_fakes.settings

CHANNEL_ID = "0d8a7cbf-3c0e-4b8a-9d39-6b1c1e2f3a41"
IMPORT_PATH = f"/api/v1/channels/{CHANNEL_ID}/execute/load_future_reservations"


async def send(client: httpx.AsyncClient, event: str, prop: str, minute: int) -> None:
    """A channel event as Channex sends it; the timestamp makes each delivery distinct."""
    body = webhook_body(event, prop, title="Booking.com", channel_id=CHANNEL_ID, ota_name="BDC")
    body["timestamp"] = f"2030-12-01T10:{minute:02d}:00.000000Z"
    response = await client.post(HOOK, json=body, headers=SECRET)
    assert response.status_code == 200, response.text


async def channel_rows(app: FastAPI) -> list[tuple[str, str, bool]]:
    async with resources(app).session_factory() as session:
        stmt = select(Channel.channex_channel_id, Channel.channel, Channel.is_active)
        return [tuple(row) for row in (await session.execute(stmt)).all()]  # type: ignore[misc]


async def ari_state(app: FastAPI) -> AriState | None:
    async with resources(app).session_factory() as session:
        prop = (await session.execute(select(Property))).scalar_one()
        return await session.get(AriState, prop.id)


def imports(bookings: ChannexBookings) -> list[tuple[str, str]]:
    return [(r.method, r.url.path) for r in bookings.calls if "/execute/" in r.url.path]


async def test_new_channel_is_stored_inactive_and_starts_nothing(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    await onboard(client)

    await send(client, "new_channel", ids(channex)[0], 0)
    await settle(app)

    # Channex creates a channel inactive (§9.2): no connection yet, so no sync, no import.
    assert await channel_rows(app) == [(CHANNEL_ID, "BDC", False)]
    state = await ari_state(app)
    assert state is None or state.full_sync_requested_at is None
    assert imports(bookings) == []


async def test_activation_requests_a_full_sync_and_imports_existing_reservations_once(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    await client.post("/v1/properties/p-1/ari", json={"items": [availability(0, 9, 4)]})
    await settle(app)
    before = len(fake.writes("availability"))
    prop = ids(channex)[0]

    await send(client, "new_channel", prop, 0)
    await send(client, "activate_channel", prop, 1)
    await settle(app)
    await send(client, "activate_channel", prop, 2)  # already active: nothing more to do
    await settle(app)

    assert await channel_rows(app) == [(CHANNEL_ID, "BDC", True)]
    state = await ari_state(app)
    assert state is not None
    assert state.full_sync_requested_at is not None
    assert state.last_full_sync_at is not None
    assert (state.full_availability, state.full_restrictions) == (False, False)  # sent
    assert len(fake.writes("availability")) > before
    runs = (await client.get("/v1/properties/p-1/sync-runs")).json()["items"]
    assert "full" in {r["kind"] for r in runs}
    assert imports(bookings) == [("POST", IMPORT_PATH)]
    assert bookings.actions == [(CHANNEL_ID, "load_future_reservations")]


async def test_disconnect_and_deactivate_mark_the_channel_inactive_and_reconnect_syncs_again(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    prop = ids(channex)[0]
    await send(client, "activate_channel", prop, 0)  # before its new_channel: still applied
    await settle(app)
    assert await channel_rows(app) == [(CHANNEL_ID, "BDC", True)]

    await send(client, "disconnect_channel", prop, 1)
    await settle(app)
    disconnected = await channel_rows(app)
    await send(client, "activate_channel", prop, 2)
    await settle(app)
    reconnected = await channel_rows(app)
    await send(client, "deactivate_channel", prop, 3)
    await settle(app)

    assert disconnected == [(CHANNEL_ID, "BDC", False)]
    assert reconnected == [(CHANNEL_ID, "BDC", True)]
    assert await channel_rows(app) == [(CHANNEL_ID, "BDC", False)]
    assert imports(bookings) == [("POST", IMPORT_PATH)] * 2  # once per connection
    async with resources(app).session_factory() as session:
        statuses = (await session.execute(select(WebhookEvent.status))).scalars().all()
    assert statuses == ["done"] * 4


async def test_an_unknown_property_s_channel_event_is_marked_ignored_and_not_retried(
    app: FastAPI, client: httpx.AsyncClient, bookings: ChannexBookings
) -> None:
    await send(client, "activate_channel", "not-our-property", 0)
    await settle(app)

    async with resources(app).session_factory() as session:
        (event,) = (await session.execute(select(WebhookEvent))).scalars()
        pending = await pending_event_ids(session)
    assert (event.status, event.note, event.attempts) == ("ignored", "unknown property", 1)
    assert pending == []  # the sweep will not pick it up again
    assert await channel_rows(app) == []
    assert imports(bookings) == []


async def test_a_connection_first_seen_by_listing_channels_syncs_and_imports_once(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, bookings: ChannexBookings
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    prop = ids(channex)[0]
    channex.store["channels"][CHANNEL_ID] = {"id": CHANNEL_ID, "channel": "BDC",
        "title": "Booking.com", "is_active": True, "properties": [prop]}  # fmt: skip

    listed = await client.get("/v1/properties/p-1/channels")  # before the webhook is handled
    await settle(app)
    await send(client, "activate_channel", prop, 0)  # the same connection, told again
    await settle(app)

    assert listed.status_code == 200, listed.text
    assert [(c["channex_channel_id"], c["is_active"]) for c in listed.json()] == [
        (CHANNEL_ID, True)
    ]
    state = await ari_state(app)
    assert state is not None
    assert state.last_full_sync_at is not None  # the connection's full sync was sent
    assert imports(bookings) == [("POST", IMPORT_PATH)]  # and its import made once
