"""Contract: every call of our Channex client against the sandbox, over real HTTP.

The client is checked against channex-api.md with respx, the sandbox against the same
document by its own tests; here the two must agree with each other end to end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.channex.ari_wire import ari_messages
from app.channex.client import ChannexClient
from app.channex.errors import (
    ChannexAuthError,
    ChannexNotFoundError,
    ChannexRateLimitedError,
    ChannexValidationError,
)
from app.channex.ratelimit import MemoryRateLimiter
from app.channex.schemas import (
    PropertyAttributes,
    WebhookAttributes,
)
from app.domain.ari import AriRun, Weekday
from tests.contract.conftest import Sandbox
from tests.factories import make_client_hotel


def day(offset: int) -> date:
    # The sandbox's "today" is UTC; a few days ahead keeps every timezone in the future.
    return datetime.now(UTC).date() + timedelta(days=offset)


async def test_groups_and_properties(client: ChannexClient) -> None:
    group = await client.create_group("Seaside")
    assert (await client.update_group(group.id, "Seaside Hotels")).title == "Seaside Hotels"
    assert (await client.get_group(group.id)).title == "Seaside Hotels"
    for i in range(11):  # past Channex's default page of 10
        await client.create_group(f"Extra {i}")
    assert len(await client.list_groups()) == 12
    attrs = PropertyAttributes(title="Seaside Hotel", currency="EUR", group_id=group.id)
    prop = await client.create_property(attrs)
    assert prop.group_ids == [group.id]
    updated = await client.update_property(prop.id, attrs.model_copy(update={"title": "Renamed"}))
    assert updated.title == "Renamed"
    assert [p.id for p in await client.list_properties(title="Renamed")] == [prop.id]
    assert (await client.get_property(prop.id)).currency == "EUR"


async def test_room_types_and_rate_plans(client: ChannexClient) -> None:
    prop_id, room_ids, plan_id = await make_client_hotel(client, rooms=12)
    assert {r.id for r in await client.list_room_types(prop_id)} == set(room_ids)
    room = await client.get_room_type(room_ids[0])
    assert (room.property_id, room.occ_adults, room.default_occupancy) == (prop_id, 2, 2)
    plan = await client.get_rate_plan(plan_id)
    assert plan.room_type_id == room_ids[0]
    assert [(o.occupancy, str(o.rate)) for o in plan.options] == [(1, "80.00"), (2, "100.00")]
    plans = await client.list_rate_plans(prop_id, room_type_id=room_ids[0])
    assert [p.id for p in plans] == [plan_id]
    assert await client.list_rate_plans(prop_id, room_type_id=room_ids[1]) == []


async def test_ari_writes_and_readbacks(client: ChannexClient) -> None:
    prop_id, (room_id,), plan_id = await make_client_hotel(client)
    [message] = ari_messages(
        "availability", prop_id, [AriRun(room_id, day(2), day(5), None, (("availability", 3),))]
    )
    avail = await client.push_ari(message)
    assert avail.task_ids
    assert avail.warnings == []
    per_person = (("min_stay_arrival", 2), ("rates", ((1, "90.00"), (2, "120.00"))))
    sat_sun = frozenset[Weekday]({"sa", "su"})
    [message] = ari_messages(
        "restrictions",
        prop_id,
        [
            AriRun(plan_id, day(2), day(15), None, per_person),
            AriRun(plan_id, day(2), day(15), sat_sun, (("stop_sell", True),)),
        ],
    )
    result = await client.push_ari(message)
    assert result.task_ids
    assert result.warnings == []
    availability = await client.get_availability(prop_id, day(2), day(6))
    assert availability[room_id][day(2)] == 3
    assert availability[room_id][day(5)] == 3
    assert availability[room_id][day(6)] == 0  # new room types start at 0 (§4)
    restrictions = await client.get_restrictions(
        prop_id, day(2), day(15), ["rate", "min_stay_arrival", "stop_sell"]
    )
    cells = restrictions[plan_id]
    assert {cells[d]["min_stay_arrival"] for d in cells} == {2}
    weekend = [d for d in cells if d.weekday() >= 5]
    assert weekend
    assert all(cells[d]["stop_sell"] is True for d in weekend)
    assert all(cells[d]["stop_sell"] is False for d in cells if d.weekday() < 5)


async def test_rejected_ari_values_come_back_as_warnings(client: ChannexClient) -> None:
    prop_id, _, plan_id = await make_client_hotel(client)
    past = datetime.now(UTC).date() - timedelta(days=3)
    [message] = ari_messages(
        "restrictions",
        prop_id,
        [
            AriRun(plan_id, past, past, None, (("stop_sell", True),)),
            AriRun(plan_id, day(3), day(3), None, (("stop_sell", True),)),
        ],
    )
    result = await client.push_ari(message)
    assert len(result.warnings) == 1
    assert result.task_ids


async def test_webhooks(client: ChannexClient) -> None:
    prop_id, _, _ = await make_client_hotel(client)
    attrs = WebhookAttributes(
        callback_url="https://pms.example/hook",
        event_mask="booking;non_acked_booking",
        property_id=prop_id,
        headers={"X-Channex-Webhook-Secret": "s3cret"},
    )
    hook = await client.create_webhook(attrs)
    assert (hook.is_active, hook.send_data) == (True, True)
    assert hook.headers == {"X-Channex-Webhook-Secret": "s3cret"}
    changed = await client.update_webhook(hook.id, attrs.model_copy(update={"event_mask": "*"}))
    assert changed.event_mask == "*"
    assert [w.id for w in await client.list_webhooks()] == [hook.id]
    with pytest.raises(ChannexValidationError):
        await client.create_webhook(attrs.model_copy(update={"event_mask": "*"}))  # duplicate
    await client.delete_webhook(hook.id)
    assert await client.list_webhooks() == []


async def test_bookings_feed_revision_and_ack(client: ChannexClient, sandbox: Sandbox) -> None:
    prop_id, (room_id,), plan_id = await make_client_hotel(client)
    connected = await sandbox.tools.post(
        f"/properties/{prop_id}/channels", json={"channel": "BookingCom"}
    )
    assert connected.status_code in (200, 201), connected.text
    (channel,) = await client.list_channels(prop_id)
    assert (channel.channel, channel.is_active) == ("BookingCom", True)
    await client.execute_channel_action(channel.id, "load_future_reservations")
    booking = await sandbox.tools.post(
        f"/properties/{prop_id}/bookings",
        json={
            "channel": "BookingCom",
            "room_type_id": room_id,
            "rate_plan_id": plan_id,
            "arrival_date": day(10).isoformat(),
            "departure_date": day(12).isoformat(),
        },
    )
    assert booking.status_code == 201, booking.text
    revision_id = booking.json()["data"]["revision_id"]
    feed = await client.list_booking_revision_feed(property_id=prop_id)
    assert [r.id for r in feed] == [revision_id]
    revision = await client.get_booking_revision(revision_id)
    assert (revision.property_id, revision.status) == (prop_id, "new")
    assert revision.unique_id is not None
    assert revision.unique_id.startswith("BDC-")
    assert revision.raw["rooms"][0]["room_type_id"] == room_id
    await client.ack_booking_revision(revision_id)
    assert await client.list_booking_revision_feed(property_id=prop_id) == []


async def test_errors_are_typed(client: ChannexClient, sandbox: Sandbox) -> None:
    with pytest.raises(ChannexNotFoundError):
        await client.get_group("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ChannexValidationError) as rejected:
        await client.create_property(PropertyAttributes(title="", currency="USD"))
    assert "title" in (rejected.value.details or {})
    async with ChannexClient(
        base_url=f"{sandbox.url}/api/v1", api_key="wrong", limiter=MemoryRateLimiter()
    ) as intruder:
        with pytest.raises(ChannexAuthError):
            await intruder.list_groups()


async def test_sandbox_429_starts_a_property_cooldown(
    client: ChannexClient, sandbox: Sandbox
) -> None:
    prop_id, (room_id,), _ = await make_client_hotel(client)
    await sandbox.tools.put("/faults", json={"force_429": 1})
    [message] = ari_messages(
        "availability", prop_id, [AriRun(room_id, day(2), day(2), None, (("availability", 1),))]
    )
    with pytest.raises(ChannexRateLimitedError) as limited:
        await client.push_ari(message)
    assert limited.value.retry_after >= 60
    assert limited.value.property_id == prop_id
