"""The sandbox's record of ARI writes: every arrival per property and endpoint, refused ones
too, and the busiest rolling minute, as a test of a client's rate limiting reads them."""

from __future__ import annotations

import httpx

from app.sandbox.app import create_sandbox_app, stop
from app.sandbox.config import SandboxConfig
from app.sandbox.ratelimit import busiest_window
from tests.factories import day, make_hotel
from tests.sandbox.test_ari import rate_value


def test_busiest_window_counts_arrivals_less_than_a_window_apart() -> None:
    assert busiest_window([], 60.0) == 0
    assert busiest_window([0.0, 59.9], 60.0) == 2
    assert busiest_window([0.0, 60.0], 60.0) == 1  # the first has left the window
    assert busiest_window([0.0, 1.0, 2.0, 61.5, 62.0, 62.5, 63.0], 60.0) == 4


async def test_every_write_is_recorded_per_property_and_endpoint_refused_ones_too() -> None:
    # Real time: the minute outlasts the test, so nothing leaves the window meanwhile.
    app = create_sandbox_app(SandboxConfig(api_key="k", rate_limit_per_minute=2))
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://s/api/v1",
        headers={"user-api-key": "k"},
    )
    tools = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s/sandbox")
    async with api, tools:
        hotel, other = await make_hotel(api, "One"), await make_hotel(api, "Two")
        body = {"values": [rate_value(hotel, date=day(1), rate="120.00")]}
        statuses = [(await api.post("/restrictions", json=body)).status_code for _ in range(3)]
        other_body = {"values": [rate_value(other, date=day(1), rate="120.00")]}
        await api.post("/restrictions", json=other_body)

        writes = (await tools.get("/ari/writes")).json()["data"]
        only = (await tools.get("/ari/writes", params={"property_id": other.property_id})).json()

    assert statuses == [200, 200, 429]
    assert set(writes) == {hotel.property_id, other.property_id}
    ours = writes[hotel.property_id]["POST /restrictions"]
    assert len(ours["times"]) == 3
    assert ours["times"] == sorted(ours["times"])
    assert ours["busiest_minute"] == 3  # the refused write arrived all the same
    assert writes[other.property_id] == only["data"][other.property_id]
    assert set(only["data"]) == {other.property_id}
    assert only["data"][other.property_id]["POST /restrictions"]["busiest_minute"] == 1
    await stop(app)
