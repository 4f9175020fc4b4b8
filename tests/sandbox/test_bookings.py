"""OTA bookings, the revision feed, ack, and webhook delivery (channex-api.md §7, §8)."""

from __future__ import annotations

import asyncio

import httpx

from app.sandbox.state import SandboxState
from tests.factories import day, make_booking, make_channel, make_hotel, make_webhook
from tests.sandbox.servers import Receiver
from tests.waiting import eventually


async def test_webhook_is_created_inactive_without_data_unless_told(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    plain = await make_webhook(api, hotel, receiver.url, event_mask="booking")
    assert plain["attributes"]["is_active"] is False
    assert plain["attributes"]["send_data"] is False
    active = await make_webhook(api, hotel, receiver.url, event_mask="ari", is_active=True)
    assert active["attributes"]["is_active"] is True
    duplicate = await api.post(
        "/webhooks",
        json={"webhook": {"callback_url": receiver.url, "event_mask": "ari"}},
    )
    assert duplicate.status_code == 422
    assert "property_id" in duplicate.json()["errors"]["details"]
    listed = (await api.get("/webhooks")).json()
    assert listed["meta"]["total"] == 2
    assert (await api.delete(f"/webhooks/{plain['id']}")).json() == {"meta": {"message": "Success"}}
    bad_mask = {"callback_url": receiver.url, "event_mask": "booking.created"}
    assert (await api.post("/webhooks", json={"webhook": bad_mask})).status_code == 422


async def test_ota_booking_reaches_feed_and_webhook_with_channex_shape(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    headers = {"X-Channex-Webhook-Secret": "s3cret"}
    await make_webhook(
        api, hotel, receiver.url, event_mask="booking_new;booking_modification",
        is_active=True, send_data=True, headers=headers, request_params={"tenant": "t1"},
    )  # fmt: skip
    await make_channel(tools, hotel)
    booking = await make_booking(tools, hotel)
    (delivery,) = await receiver.wait_for(1)
    assert set(delivery.body) == {"event", "property_id", "user_id", "timestamp", "payload"}
    assert delivery.body["event"] == "booking_new"
    assert delivery.body["property_id"] == hotel.property_id
    assert delivery.body["user_id"] is None
    assert delivery.body["payload"] == {
        "booking_id": booking["booking_id"],
        "property_id": hotel.property_id,
        "revision_id": booking["revision_id"],
    }
    assert delivery.headers["x-channex-webhook-secret"] == "s3cret"
    assert delivery.query == {"tenant": "t1"}
    feed = (await api.get("/booking_revisions/feed")).json()
    (revision,) = feed["data"]
    attributes = revision["attributes"]
    assert revision["id"] == booking["revision_id"]
    assert attributes["status"] == "new"
    assert attributes["unique_id"].startswith("BDC-")
    assert attributes["customer"]["mail"] == "ada@example.com"
    assert attributes["rooms"][0]["days"] == {day(10): "100.00", day(11): "100.00"}
    assert attributes["amount"] == "200.00"


async def test_ack_removes_the_revision_from_the_feed(
    api: httpx.AsyncClient, tools: httpx.AsyncClient
) -> None:
    hotel = await make_hotel(api)
    await make_channel(tools, hotel)
    booking = await make_booking(tools, hotel)
    ack = await api.post(f"/booking_revisions/{booking['revision_id']}/ack")
    assert ack.json() == {"meta": {"message": "Success"}}
    assert (await api.get("/booking_revisions/feed")).json()["meta"]["total"] == 0
    kept = await api.get(f"/booking_revisions/{booking['revision_id']}")
    assert kept.status_code == 200
    wrong = await api.post(f"/booking_revisions/{booking['booking_id']}/ack")
    assert wrong.status_code == 404  # ack takes the revision id, not the booking id


async def test_modify_and_cancel_make_new_full_revisions(
    api: httpx.AsyncClient, tools: httpx.AsyncClient
) -> None:
    hotel = await make_hotel(api)
    await make_channel(tools, hotel)
    booking = await make_booking(tools, hotel)
    modified = await tools.post(
        f"/bookings/{booking['booking_id']}/modify", json={"departure_date": day(13)}
    )
    assert modified.json()["data"]["status"] == "modified"
    cancelled = await tools.post(f"/bookings/{booking['booking_id']}/cancel")
    assert cancelled.json()["data"]["status"] == "cancelled"
    feed = (await api.get("/booking_revisions/feed")).json()["data"]
    assert [r["attributes"]["status"] for r in feed] == ["new", "modified", "cancelled"]
    assert feed[1]["attributes"]["departure_date"] == day(13)
    assert len(feed[1]["attributes"]["rooms"][0]["days"]) == 3
    current = (await api.get(f"/bookings/{booking['booking_id']}")).json()["data"]
    assert current["attributes"]["status"] == "cancelled"
    assert current["attributes"]["revision_id"] == cancelled.json()["data"]["revision_id"]


async def test_new_booking_takes_a_room_from_availability(
    api: httpx.AsyncClient, tools: httpx.AsyncClient
) -> None:
    hotel = await make_hotel(api)
    value = {"property_id": hotel.property_id, "room_type_id": hotel.room_type_id}
    await api.post(
        "/availability",
        json={"values": [{**value, "date_from": day(9), "date_to": day(12), "availability": 3}]},
    )
    await make_channel(tools, hotel)
    await make_booking(tools, hotel)
    ari = (await tools.get("/ari", params={"property_id": hotel.property_id})).json()["data"]
    assert ari["availability"][hotel.room_type_id] == {
        day(9): 3,
        day(10): 2,
        day(11): 2,
        day(12): 3,
    }


async def test_unacked_revision_raises_non_acked_booking_after_scaled_30_minutes(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(
        api, hotel, receiver.url, event_mask="non_acked_booking", is_active=True, send_data=True
    )
    await make_channel(tools, hotel)
    acked, unacked = await make_booking(tools, hotel), await make_booking(tools, hotel)
    await api.post(f"/booking_revisions/{acked['revision_id']}/ack")
    assert receiver.received == []
    (alarm,) = await receiver.wait_for(1)  # 30 min x 0.0005 = 0.9 s
    assert alarm.body["event"] == "non_acked_booking"
    assert alarm.body["payload"]["revision_id"] == unacked["revision_id"]
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 1
    feed = (await api.get("/booking_revisions/feed")).json()["data"]
    assert [r["id"] for r in feed] == [unacked["revision_id"]]


async def test_callback_5xx_is_retried_on_the_scaled_schedule(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, receiver: Receiver, sandbox: SandboxState
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(api, hotel, receiver.url, event_mask="booking", is_active=True)
    await make_channel(tools, hotel)
    receiver.statuses = [500, 503, 200]
    await make_booking(tools, hotel)
    deliveries = await receiver.wait_for(3)
    assert [d.body["event"] for d in deliveries] == ["booking"] * 3
    assert "payload" not in deliveries[0].body  # send_data is false
    # The sandbox logs an attempt once its answer is read, just after the receiver has it.
    await eventually(lambda: len(sandbox.store.deliveries) == 3, 5)
    log = (await tools.get("/deliveries")).json()["data"]
    assert [(entry["attempt"], entry["status"]) for entry in log] == [(1, 500), (2, 503), (3, 200)]
    receiver.statuses = [404]
    await make_booking(tools, hotel)
    await receiver.wait_for(4)
    await asyncio.sleep(0.2)
    assert len(receiver.received) == 4  # a 4xx is not retried


async def test_bookings_need_a_connected_channel_and_future_ones_load_on_request(
    api: httpx.AsyncClient, tools: httpx.AsyncClient
) -> None:
    hotel = await make_hotel(api)
    body = {
        "channel": "AirBNB", "room_type_id": hotel.room_type_id, "rate_plan_id": hotel.rate_plan_id,
        "arrival_date": day(5), "departure_date": day(7),
    }  # fmt: skip
    refused = await tools.post(f"/properties/{hotel.property_id}/bookings", json=body)
    assert refused.status_code == 422
    channel_id = await make_channel(tools, hotel, "AirBNB")
    await tools.post(f"/properties/{hotel.property_id}/channels/{channel_id}/disconnect")
    await make_booking(tools, hotel, channel="AirBNB", deliver=False)
    assert (await api.get("/booking_revisions/feed")).json()["meta"]["total"] == 0
    await api.post(f"/channels/{channel_id}/activate")
    done = await api.post(f"/channels/{channel_id}/execute/load_future_reservations")
    assert done.json() == {"meta": {"message": "Success"}}
    feed = (await api.get("/booking_revisions/feed")).json()["data"]
    assert [r["attributes"]["unique_id"][:4] for r in feed] == ["ABB-"]


async def test_channel_trouble_is_told_as_sync_error_and_removal_warning(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(api, hotel, receiver.url, event_mask="sync_error;channel_removal_warning",
                       is_active=True, send_data=True)  # fmt: skip
    channel_id = await make_channel(tools, hotel)
    base = f"/properties/{hotel.property_id}/channels/{channel_id}/trouble"
    assert (await tools.post(base, json={"event": "sync_error"})).status_code == 200
    assert (await tools.post(base, json={"event": "channel_removal_warning"})).status_code == 200
    assert (await tools.post(base, json={"event": "booking"})).status_code == 422

    error, warning = await receiver.wait_for(2)
    assert error.body["event"] == "sync_error"
    assert error.body["payload"]["channel_id"] == channel_id
    assert error.body["payload"]["error_type"] == "invalid_rate_plan_mapping"
    assert warning.body["event"] == "channel_removal_warning"
    assert warning.body["payload"]["channel_id"] == channel_id
