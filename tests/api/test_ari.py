"""The ARI API: all-or-nothing batches, background pushes, state, full sync and sync runs."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.resources import Resources
from tests.conftest import ORG1_KEY
from tests.factories import ari_day, availability, onboard, restrictions
from tests.fake_channex import FakeChannex
from tests.services.ari_support import FakeAri


async def wait_for_jobs(app: FastAPI) -> None:
    resources: Resources = app.state.resources
    await resources.queue.wait_idle(20)  # type: ignore[attr-defined]


async def test_a_batch_is_rejected_whole_with_an_error_per_item(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    items = [
        availability(0, 3, 4),
        availability(0, 3, 4, room="unknown"),
        restrictions(0, 1, rate="0"),
        restrictions(0, 1, rate=None),
        {**availability(0, 3, 4), "date_from": ari_day(-5)},
        restrictions(0, 600, min_stay_arrival=2),
        restrictions(0, 1, rates=[{"occupancy": 2, "rate": "90"}]),
    ]
    response = await client.post("/v1/properties/p-1/ari", json={"items": items})
    assert response.status_code == 422, response.text
    locs = sorted(error["loc"] for error in response.json()["errors"])
    assert locs == [
        "body.items.2.restrictions.rate",
        "body.items.3.restrictions.rate",
    ]
    # Mapping, horizon and sell-mode problems are checked once the form is valid.
    items = [items[0], items[1], items[4], items[5], items[6]]
    response = await client.post("/v1/properties/p-1/ari", json={"items": items})
    assert response.status_code == 422, response.text
    locs = sorted(error["loc"] for error in response.json()["errors"])
    assert locs == [
        "body.items.1.room_type_id",
        "body.items.2.date_from",
        "body.items.3.date_to",
        "body.items.4.rates",
    ]
    state = await client.get(
        "/v1/properties/p-1/ari", params={"from": ari_day(0), "to": ari_day(10)}
    )
    assert state.json()["cells"] == []  # nothing half-written


async def test_accepted_changes_are_pushed_in_the_background_and_shown_in_sync(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    body = {"items": [availability(0, 9, 4), restrictions(0, 9, rate="99.5", stop_sell=False)]}
    response = await client.post("/v1/properties/p-1/ari", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["cells_changed"] == 20
    pending = await client.get(
        "/v1/properties/p-1/ari", params={"from": ari_day(0), "to": ari_day(0)}
    )
    assert {c["status"] for c in pending.json()["cells"]} == {"pending"}
    await wait_for_jobs(app)
    assert len(fake.writes("availability")) == 1
    assert len(fake.writes("restrictions")) == 1
    state = await client.get(
        "/v1/properties/p-1/ari", params={"from": ari_day(0), "to": ari_day(9)}
    )
    cells = state.json()["cells"]
    assert len(cells) == 20
    assert {c["status"] for c in cells} == {"in_sync"}
    assert {"type": "restrictions", "room_type_id": "dbl", "rate_plan_id": "bar",
            "date": ari_day(0), "desired": {"rate": "99.50", "stop_sell": False},
            "status": "in_sync", "failure": None} in cells  # fmt: skip
    runs = (await client.get("/v1/properties/p-1/sync-runs")).json()
    assert runs["total"] == 2
    newest = runs["items"][0]
    assert newest["outcome"] == "success"
    assert newest["requests_count"] == 1
    assert newest["task_ids"]
    assert newest["kind"] == "incremental"
    one = await client.get(f"/v1/properties/p-1/sync-runs/{newest['id']}")
    assert one.json() == newest


async def test_full_sync_is_accepted_and_sends_the_horizon(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    await client.post("/v1/properties/p-1/ari", json={"items": [availability(0, 9, 4)]})
    await wait_for_jobs(app)
    response = await client.post("/v1/properties/p-1/sync")
    assert response.status_code == 202, response.text
    await wait_for_jobs(app)
    runs = (await client.get("/v1/properties/p-1/sync-runs")).json()["items"]
    assert [(r["kind"], r["endpoint"]) for r in runs[:1]] == [("full", "availability")]
    assert len(fake.writes("availability")) == 2


async def test_another_organization_s_key_cannot_see_or_write_ari(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    await client.put("/v1/organizations/org-2", json={"title": "Other"})
    other = {"organization_id": "org-2", "title": "Other Hotel", "currency": "EUR"}
    assert (await client.put("/v1/properties/p-2", json=other)).status_code == 200
    headers = {"Authorization": f"Bearer {ORG1_KEY}"}
    body = {"items": [availability(0, 1, 1)]}
    response = await client.post("/v1/properties/p-2/ari", json=body, headers=headers)
    assert response.status_code == 404
    response = await client.get("/v1/properties/p-2/sync-runs", headers=headers)
    assert response.status_code == 404


async def test_a_500_day_batch_over_30_rate_plans_is_stored_whole(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    room = {"title": "Room", "count_of_rooms": 5, "occ_adults": 2}
    rate = {"title": "Rate", "options": [{"occupancy": 2, "rate": "100"}]}
    items = []
    for n in range(10):
        await client.put(f"/v1/properties/p-1/room-types/r{n}", json=room)
        for plan in ("a", "b", "c"):
            path = f"/v1/properties/p-1/room-types/r{n}/rate-plans/{plan}"
            assert (await client.put(path, json={**rate, "title": plan})).status_code == 200
            items.append({**restrictions(0, 490, rate="120", min_stay_arrival=1),
                          "room_type_id": f"r{n}", "rate_plan_id": plan})  # fmt: skip
    # How fast is the benchmark's business (benchmarks/ari.py prints it); this checks it all lands.
    response = await client.post("/v1/properties/p-1/ari", json={"items": items})
    assert response.status_code == 202, response.text
    assert response.json()["cells_changed"] == 30 * 491
    last = await client.get(
        "/v1/properties/p-1/ari", params={"from": ari_day(490), "to": ari_day(490)}
    )
    desired = [(c["room_type_id"], c["rate_plan_id"], c["desired"]) for c in last.json()["cells"]]
    assert sorted(desired, key=str) == sorted(
        ((i["room_type_id"], i["rate_plan_id"], {"rate": "120.00", "min_stay_arrival": 1})
         for i in items), key=str,
    )  # fmt: skip
