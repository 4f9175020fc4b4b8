"""The sandbox's "today" is the property's: its local date, rolling at 02:00 local time
(channex-api.md §3, §6.5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from app.sandbox.state import SandboxState
from tests.factories import Hotel, make_hotel


async def in_zone(api: httpx.AsyncClient, timezone: str) -> Hotel:
    hotel = await make_hotel(api)
    body = {"property": {"timezone": timezone}}
    response = await api.put(f"/properties/{hotel.property_id}", json=body)
    assert response.status_code == 200, response.text
    return hotel


async def rejected(api: httpx.AsyncClient, hotel: Hotel, *days: date) -> list[str]:
    """The dates of the values (one per day, availability 3) that came back as warnings."""
    values: list[dict[str, Any]] = [
        {"property_id": hotel.property_id, "room_type_id": hotel.room_type_id,
         "date": day.isoformat(), "availability": 3}
        for day in days
    ]  # fmt: skip
    response = await api.post("/availability", json={"values": values})
    assert response.status_code == 200, response.text
    return [str(w["date"]) for w in response.json()["meta"]["warnings"]]


def at(sandbox: SandboxState, moment: datetime) -> None:
    sandbox.clock = lambda: moment


async def test_same_day_in_a_utc_minus_10_hotel_is_not_past(
    api: httpx.AsyncClient, sandbox: SandboxState
) -> None:
    hotel = await in_zone(api, "Pacific/Honolulu")
    # 05:00 UTC on 10 March is 19:00 on 9 March in Honolulu: the 9th is still today there.
    at(sandbox, datetime(2026, 3, 10, 5, 0, tzinfo=UTC))
    assert await rejected(api, hotel, date(2026, 3, 8), date(2026, 3, 9)) == ["2026-03-08"]


async def test_the_day_rolls_at_two_in_the_morning_property_time(
    api: httpx.AsyncClient, sandbox: SandboxState
) -> None:
    hotel = await in_zone(api, "Asia/Tokyo")
    # 16:30 UTC on the 9th is 01:30 on the 10th in Tokyo: before the roll, the 9th is writable.
    at(sandbox, datetime(2026, 3, 9, 16, 30, tzinfo=UTC))
    assert await rejected(api, hotel, date(2026, 3, 8), date(2026, 3, 9)) == ["2026-03-08"]
    # An hour later (02:30 in Tokyo) Channex has rolled: the 9th is past.
    at(sandbox, datetime(2026, 3, 9, 17, 30, tzinfo=UTC))
    assert await rejected(api, hotel, date(2026, 3, 9), date(2026, 3, 10)) == ["2026-03-09"]


async def test_the_horizon_counts_from_the_property_today(
    api: httpx.AsyncClient, sandbox: SandboxState
) -> None:
    hotel = await in_zone(api, "Pacific/Honolulu")
    at(sandbox, datetime(2026, 3, 10, 5, 0, tzinfo=UTC))
    local_today = date(2026, 3, 9)
    last = local_today + timedelta(days=499)  # state_length 500
    assert await rejected(api, hotel, last, last + timedelta(days=1)) == [
        (last + timedelta(days=1)).isoformat()
    ]


async def test_a_property_without_timezone_counts_in_utc(
    api: httpx.AsyncClient, sandbox: SandboxState
) -> None:
    hotel = await make_hotel(api)
    at(sandbox, datetime(2026, 3, 10, 1, 0, tzinfo=UTC))  # before the 02:00 roll
    assert await rejected(api, hotel, date(2026, 3, 8), date(2026, 3, 9)) == ["2026-03-08"]
