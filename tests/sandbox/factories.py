"""Entities created through the sandbox's Channex API, as channel-sync would create them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx


def today() -> date:
    return datetime.now(UTC).date()


def day(offset: int) -> str:
    """ISO date `offset` days from today (UTC, the sandbox's "today")."""
    return (today() + timedelta(days=offset)).isoformat()


@dataclass(frozen=True)
class Hotel:
    group_id: str
    property_id: str
    room_type_id: str
    rate_plan_id: str


async def created(client: httpx.AsyncClient, path: str, kind: str, attrs: dict[str, Any]) -> str:
    response = await client.post(path, json={kind: attrs})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def make_hotel(client: httpx.AsyncClient, title: str = "Test Property") -> Hotel:
    """A group, a USD property in it, one room type (2 adults) and one rate plan at 100.00."""
    group_id = await created(client, "/groups", "group", {"title": f"{title} group"})
    property_id = await created(
        client,
        "/properties",
        "property",
        {"title": title, "currency": "USD", "group_id": group_id},
    )
    room_type_id = await created(
        client,
        "/room_types",
        "room_type",
        {
            "property_id": property_id,
            "title": "Twin Room",
            "count_of_rooms": 5,
            "occ_adults": 2,
            "occ_children": 0,
            "occ_infants": 0,
            "default_occupancy": 2,
        },
    )
    rate_plan_id = await created(
        client,
        "/rate_plans",
        "rate_plan",
        {
            "property_id": property_id,
            "room_type_id": room_type_id,
            "title": "Best Available Rate",
            "options": [{"occupancy": 2, "is_primary": True, "rate": 10000}],
        },
    )
    return Hotel(group_id, property_id, room_type_id, rate_plan_id)


async def make_webhook(
    client: httpx.AsyncClient, hotel: Hotel, url: str, **attrs: Any
) -> dict[str, Any]:
    body = {"property_id": hotel.property_id, "callback_url": url, "event_mask": "*", **attrs}
    response = await client.post("/webhooks", json={"webhook": body})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
