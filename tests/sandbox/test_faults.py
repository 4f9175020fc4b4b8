"""Fault injection: deterministic with a seed, on the API and on webhooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import httpx
from fastapi import FastAPI

from app.sandbox.app import create_sandbox_app, stop
from app.sandbox.config import SandboxConfig
from app.sandbox.faults import Faults, FaultState
from tests.factories import day, make_hotel, make_webhook
from tests.sandbox.servers import Receiver
from tests.sandbox.test_ari import rate_value


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


def test_jitter_delays_are_uniform_between_zero_and_twice_the_jitter() -> None:
    state = FaultState(None, Faults(jitter_seconds=0.2, latency_ms=100, seed=3))
    delays = [state.next_delay() for _ in range(500)]
    assert all(0.1 <= d <= 0.5 for d in delays)  # latency, plus 0 to 2 x 0.2 s
    assert min(delays) < 0.12
    assert max(delays) > 0.48
    assert len(set(delays)) == len(delays)
    again = FaultState(None, Faults(jitter_seconds=0.2, latency_ms=100, seed=3))
    assert [again.next_delay() for _ in range(500)] == delays  # deterministic with a seed
    assert FaultState(None, Faults(latency_ms=100, seed=3)).next_delay() == 0.1


def test_jitter_leaves_the_other_fault_draws_as_they_were() -> None:
    plain = FaultState(None, Faults(error_rate=0.5, seed=4))
    jittered = FaultState(None, Faults(error_rate=0.5, jitter_seconds=0.1, seed=4))
    outcomes = []
    for _ in range(50):
        jittered.next_delay()
        outcomes.append((plain.next_request(), jittered.next_request()))
    assert all(a == b for a, b in outcomes)
    assert {a for a, _ in outcomes} == {"pass", "error"}


async def test_a_write_arrives_after_its_jitter_before_the_rate_check() -> None:
    # One write per minute: the rate check still refuses the second write under jitter.
    app = create_sandbox_app(SandboxConfig(api_key="k", rate_limit_per_minute=1))
    sandbox = app.state.sandbox
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://s/api/v1",
        headers={"user-api-key": "k"},
    )
    tools = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s/sandbox")
    async with api, tools:
        hotel = await make_hotel(api)
        faults = {"jitter_seconds": 0.05, "seed": 9}
        assert (await tools.put("/faults", json=faults)).status_code == 200
        expected = FaultState(None, Faults(**faults))  # the same draws, in the same order
        body = {"values": [rate_value(hotel, date=day(1), rate="120.00")]}
        sent, statuses = [], []
        for _ in range(2):
            sent.append(time.monotonic() - sandbox.started)
            statuses.append((await api.post("/restrictions", json=body)).status_code)
        writes = (await tools.get("/ari/writes")).json()["data"]
        delays = [expected.next_delay() for _ in range(2)]
        # Sandbox routes are never delayed: the clock of their answers is the real one.
        started = time.monotonic()
        await tools.get("/faults")
        assert time.monotonic() - started < 0.05
    arrivals = writes[hotel.property_id]["POST /restrictions"]["times"]
    assert statuses == [200, 429]
    assert 0.0 < delays[0] <= 0.1
    assert delays[0] != delays[1]
    for arrival, at, delay in zip(arrivals, sent, delays, strict=True):
        assert arrival >= at + delay  # recorded once the jitter has passed
    await stop(app)
