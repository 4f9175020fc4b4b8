"""Fault injection: deterministic with a seed, on the API and on webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
from fastapi import FastAPI

from app.sandbox.app import create_sandbox_app, stop
from app.sandbox.config import SandboxConfig
from tests.factories import make_hotel, make_webhook
from tests.sandbox.servers import Receiver


async def _statuses(app: FastAPI, faults: Mapping[str, object], count: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
        assert (await client.put("/sandbox/faults", json=faults)).status_code == 200
        headers = {"user-api-key": "sandbox-key"}
        return [
            (await client.get("/api/v1/groups", headers=headers)).status_code for _ in range(count)
        ]


async def test_error_rate_is_deterministic_with_a_seed() -> None:
    faults = {"error_rate": 0.5, "seed": 42}
    first, second = create_sandbox_app(), create_sandbox_app()
    a, b = await _statuses(first, faults, 30), await _statuses(second, faults, 30)
    assert a == b
    assert set(a) == {200, 500}
    again = await _statuses(first, faults, 30)  # setting the faults again restarts the sequence
    assert again == a
    other = await _statuses(second, {**faults, "seed": 43}, 30)
    assert other != a
    await stop(first)
    await stop(second)


async def test_forced_429s_then_normal_service(
    tools: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    await tools.put("/faults", json={"force_429": 2})
    statuses = [(await api.get("/groups")).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    assert (await tools.get("/groups")).status_code == 404  # sandbox routes never get faults


async def test_latency_and_timeouts() -> None:
    app = create_sandbox_app(SandboxConfig(timeout_hang_seconds=5))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
        await client.put("/sandbox/faults", json={"timeout_rate": 1.0})
        headers = {"user-api-key": "sandbox-key"}
        body = {"group": {"title": "written anyway"}}
        try:
            async with asyncio.timeout(0.3):
                await client.post("/api/v1/groups", json=body, headers=headers)
        except TimeoutError:
            pass
        else:
            raise AssertionError("the request should have hung")
        await client.put("/sandbox/faults", json={"latency_ms": 50})
        loop = asyncio.get_running_loop()
        started = loop.time()
        listed = await client.get("/api/v1/groups", headers=headers)
        assert loop.time() - started >= 0.05
        # The timed-out write was applied: the nasty case for a client that retries blindly.
        assert [g["attributes"]["title"] for g in listed.json()["data"]] == ["written anyway"]
    await stop(app)


async def test_webhooks_dropped_and_duplicated(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(api, hotel, receiver.url, event_mask="activate_channel", is_active=True)
    await tools.put("/faults", json={"webhook_drop_rate": 1.0})
    await tools.post(f"/properties/{hotel.property_id}/channels", json={"channel": "Expedia"})
    await asyncio.sleep(0.1)
    assert receiver.received == []
    log = (await tools.get("/deliveries")).json()["data"]
    assert [entry["status"] for entry in log] == ["dropped"]
    await tools.put("/faults", json={"webhook_duplicate_rate": 1.0})
    await tools.post(f"/properties/{hotel.property_id}/channels", json={"channel": "AirBNB"})
    received = await receiver.wait_for(2)
    assert received[0].body == received[1].body


async def test_webhooks_reordered(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(
        api, hotel, receiver.url, event_mask="activate_channel", is_active=True, send_data=True
    )
    await tools.put("/faults", json={"webhook_reorder": True})
    for code in ("BookingCom", "Expedia"):
        await tools.post(f"/properties/{hotel.property_id}/channels", json={"channel": code})
    received = await receiver.wait_for(2)
    assert [r.body["payload"]["ota_name"] for r in received] == ["Expedia", "BookingCom"]


async def test_webhooks_delayed(
    api: httpx.AsyncClient, tools: httpx.AsyncClient, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(api, hotel, receiver.url, event_mask="activate_channel", is_active=True)
    await tools.put("/faults", json={"webhook_delay_ms": 300})
    await tools.post(f"/properties/{hotel.property_id}/channels", json={"channel": "Expedia"})
    await asyncio.sleep(0.15)
    assert receiver.received == []
    await receiver.wait_for(1)
