"""The sandbox's Channel API (channex-api.md §9.2): `POST /channels` creates a channel
inactive with its mappings (`new_channel`), refusing an unknown group, property or rate plan;
activation then works as for a channel the iframe made."""

from __future__ import annotations

import httpx
import pytest

from app.sandbox.state import SandboxState
from tests.factories import Hotel, make_hotel, make_webhook
from tests.sandbox.servers import Receiver


def body(hotel: Hotel, **changes: object) -> dict[str, object]:
    attrs = {
        "channel": "BookingCom",
        "group_id": hotel.group_id,
        "title": "Booking.com Test",
        "properties": [hotel.property_id],
        "settings": {"hotel_id": "1234567"},
        "rate_plans": [{"rate_plan_id": hotel.rate_plan_id, "settings": {"room_type_code": "R"}}],
        **changes,
    }
    return {"channel": attrs}


async def test_a_channel_is_created_inactive_with_new_channel_then_activated(
    api: httpx.AsyncClient, sandbox: SandboxState, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(api, hotel, receiver.url, event_mask="*", is_active=True, send_data=True)

    response = await api.post("/channels", json=body(hotel))

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["attributes"]["is_active"] is False
    assert data["attributes"]["settings"] == {"hotel_id": "1234567"}
    [mapping] = data["attributes"]["rate_plans"]
    assert (mapping["rate_plan_id"], mapping["settings"]) == (
        hotel.rate_plan_id,
        {"room_type_code": "R"},
    )
    [event] = await receiver.wait_for(1)
    assert (event.body["event"], event.body["payload"]["channel_id"]) == ("new_channel", data["id"])
    activated = await api.post(f"/channels/{data['id']}/activate")
    assert activated.status_code == 200, activated.text
    assert sandbox.store.channels[data["id"]].attrs["is_active"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"group_id": "no-such-group"}, "group_id"),
        ({"group_id": None}, "group_id"),
        ({"properties": ["no-such-property"]}, "properties"),
        ({"properties": []}, "properties"),
        ({"rate_plans": [{"rate_plan_id": "no-such-plan", "settings": {}}]}, "rate_plans"),
    ],
)
async def test_unknown_group_property_or_rate_plan_is_refused_and_nothing_created(
    api: httpx.AsyncClient, sandbox: SandboxState, changes: dict[str, object], field: str
) -> None:
    hotel = await make_hotel(api)

    response = await api.post("/channels", json=body(hotel, **changes))

    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]["details"]
    assert sandbox.store.channels == {}


async def test_a_property_of_another_group_is_refused(
    api: httpx.AsyncClient, sandbox: SandboxState
) -> None:
    hotel, other = await make_hotel(api), await make_hotel(api, "Other")

    response = await api.post("/channels", json=body(hotel, properties=[other.property_id]))

    assert response.status_code == 422, response.text
    assert sandbox.store.channels == {}
