"""End to end over real HTTP, on both databases: random PMS batches go through POST /ari while the
sandbox fails requests, answers 429 and hangs after applying writes; once the jobs are done the
sandbox holds the desired state in every cell, and every cell reads `in_sync`."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from app.channex import transport as channex_transport
from app.jobs import ari as ari_jobs
from app.sandbox.config import SandboxConfig
from app.settings import Settings
from tests.conftest import FAST_RATE_LIMIT_PER_MINUTE
from tests.e2e.ari_support import (
    Desired,
    Json,
    Wired,
    apply,
    channex_ids,
    local_today,
    mismatches,
    ok,
    random_item,
    wired,
)
from tests.factories import ARI_PLANS, ARI_ROOMS
from tests.factories import onboard_ari_hotel as onboard
from tests.waiting import past_our_limiter

TIMEZONE = "Pacific/Honolulu"  # UTC-10: "today" there is often yesterday in UTC
SPAN_DAYS = 60
BATCHES = 6
ITEMS_PER_BATCH = 25


@pytest.fixture
async def service(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Wired]:
    # Scaled time, so that the test takes seconds: Channex allows 10 ARI writes per minute per
    # property and endpoint and asks for 60 s of silence after a 429 (channex-api.md §6.5); here
    # both sides allow FAST_RATE_LIMIT_PER_MINUTE (our limiter spaces writes 50 ms apart), the
    # 429 pause is 0.5 s and a failed push is tried again within 2 s (5 s, doubling, up to 300).
    # The sandbox hangs 0.5 s after applying a "timeout" write; our client gives up at 0.3 s.
    monkeypatch.setattr(channex_transport, "COOLDOWN_SECONDS", 0.5)
    monkeypatch.setattr(ari_jobs, "MAX_BACKOFF_SECONDS", 2.0)
    scaled = settings.model_copy(update={"channex_timeout_seconds": 0.3})
    config = SandboxConfig(
        api_key="ari-e2e-key",
        rate_limit_per_minute=FAST_RATE_LIMIT_PER_MINUTE,
        seed=11,
        timeout_hang_seconds=0.5,
    )
    async with wired(scaled, config) as service:
        yield service


async def test_random_changes_under_faults_converge_to_the_desired_state(service: Wired) -> None:
    property_id = await onboard(service.api, TIMEZONE)
    ids = await channex_ids(service.api)
    faults = {"error_rate": 0.3, "latency_ms": 5, "timeout_rate": 0.2, "force_429": 2, "seed": 3}
    await ok(await service.tools.put("/faults", json=faults))
    rng = random.Random(2026)
    start = local_today(TIMEZONE)  # the property's today: same-day changes are pushed too
    desired: Desired = {}
    for _ in range(BATCHES):
        items = [random_item(rng, start, SPAN_DAYS) for _ in range(ITEMS_PER_BATCH)]
        answer = await ok(await service.api.post("/v1/properties/p-1/ari", json={"items": items}))
        assert answer["cells_changed"] > 0
        for item in items:
            apply(desired, item)
        await asyncio.sleep(rng.uniform(0, 1.2))  # some batches land while a push is in flight

    await service.wait_idle(90)

    store = service.sandbox.store
    assert (len(store.room_types), len(store.rate_plans)) == (
        len(ARI_ROOMS),
        len(ARI_ROOMS) * len(ARI_PLANS),
    )
    assert await mismatches(service.tools, property_id, ids, desired) == []
    last = start + timedelta(days=SPAN_DAYS - 1)
    params = {"from": start.isoformat(), "to": last.isoformat()}
    state = await ok(await service.api.get("/v1/properties/p-1/ari", params=params))
    assert {cell["status"] for cell in state["cells"]} == {"in_sync"}
    runs = (await ok(await service.api.get("/v1/properties/p-1/sync-runs?limit=100")))["items"]
    # The forced 429s reached the engine (recorded, then retried after the pause) ...
    assert "rate_limited" in {run["outcome"] for run in runs}
    # ... and every write Channex took is on record with its task id.
    assert all(run["task_ids"] for run in runs if run["outcome"] == "success")
    # The only 429s were the injected ones: our limiter never tripped the sandbox's real limit.
    stats = (await ok(await service.tools.get("/stats")))["data"]
    assert stats["POST /availability"]["rate_limited"] == 0
    assert stats["POST /restrictions"]["rate_limited"] == 0


async def drift(service: Wired, params: dict[str, str], *, repair: bool = False) -> Json:
    """GET .../drift or POST .../drift/repair, waiting out our limiter (reads share its budget)."""
    api = service.api
    if repair:
        path = "/v1/properties/p-1/drift/repair"
        return await ok(await past_our_limiter(lambda: api.post(path, params=params)))
    path = "/v1/properties/p-1/drift"
    return await ok(await past_our_limiter(lambda: api.get(path, params=params)))


async def test_a_change_made_inside_channex_is_found_and_repaired(service: Wired) -> None:
    property_id = await onboard(service.api, TIMEZONE)
    ids = await channex_ids(service.api)
    start = local_today(TIMEZONE)
    days = [(start + timedelta(days=n)).isoformat() for n in range(10)]
    target = {"room_type_id": "dbl", "date_from": days[0], "date_to": days[9]}
    items: list[Json] = [
        {"type": "availability", **target, "availability": 5},
        {"type": "restrictions", **target, "rate_plan_id": "bar", "rate": "100.00",
         "min_stay_arrival": 2},
    ]  # fmt: skip
    desired: Desired = {}
    for item in items:
        apply(desired, item)
    await ok(await service.api.post("/v1/properties/p-1/ari", json={"items": items}))
    await service.wait_idle()
    # Someone edits inside Channex: two fields we pushed, and one we never sent.
    cell = {"property_id": property_id, "date": days[4]}
    room, plan = ids[("dbl", "")], ids[("dbl", "bar")]
    await ok(await service.direct.post("/availability", json={"values": [
        {**cell, "room_type_id": room, "availability": 1}]}))  # fmt: skip
    await ok(await service.direct.post("/restrictions", json={"values": [
        {**cell, "rate_plan_id": plan, "rate": "150.00", "stop_sell": True}]}))  # fmt: skip
    params = {"from": days[0], "to": days[9]}

    found = await drift(service, params)

    assert found["checked_cells"] == 20
    assert sorted(
        (d["type"], d["date"], d["field"], d["channex"]) for d in found["differences"]
    ) == [
        ("availability", days[4], "availability", 1),
        ("restrictions", days[4], "rate", "150.00"),
    ]
    assert await mismatches(service.tools, property_id, ids, desired) != []

    repaired = await drift(service, params, repair=True)
    await service.wait_idle()

    assert repaired["repaired"] is True
    assert await mismatches(service.tools, property_id, ids, desired) == []
    assert (await drift(service, params))["differences"] == []
    runs = (await ok(await service.api.get("/v1/properties/p-1/sync-runs")))["items"]
    assert [run["values_count"] for run in runs[:2]] == [1, 1]  # one cell each, not the horizon
