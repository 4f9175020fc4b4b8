"""Following ARI to Channex: a full sync as a resource (queued, running, done or failed, with
its runs), and a PMS change (`change_id`) traced to the runs and task ids that carried it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.api.test_ari import wait_for_jobs
from tests.conftest import ORG1_KEY
from tests.factories import availability, onboard, restrictions, seed_two_organizations
from tests.fake_channex import FakeChannex
from tests.services.ari_support import FakeAri

ARI = "/v1/properties/p-1/ari"
SYNC = "/v1/properties/p-1/sync"
Json = dict[str, Any]


async def pushed(app: FastAPI, client: httpx.AsyncClient, *items: Json) -> Json:
    """POST /ari with the items, then every job run; the 202's body."""
    response = await client.post(ARI, json={"items": list(items)})
    assert response.status_code == 202, response.text
    await wait_for_jobs(app)
    body: Json = response.json()
    return body


async def change_of(client: httpx.AsyncClient, change_id: str) -> Json:
    response = await client.get(f"{ARI}/changes/{change_id}")
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


# --- Full syncs -------------------------------------------------------------------------------


async def test_a_full_sync_answers_where_to_follow_it_and_ends_done_with_its_runs(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    await pushed(app, client, availability(0, 9, 4))

    response = await client.post(SYNC)
    started = response.json()
    await wait_for_jobs(app)
    followed = await client.get(response.headers["location"])
    runs = (await client.get("/v1/properties/p-1/sync-runs")).json()["items"]

    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/properties/p-1/full-syncs/{started['id']}"
    assert started["state"] == "queued"
    assert started["runs"] == []
    assert followed.status_code == 200
    done = followed.json()
    assert done["state"] == "done"
    assert done["requested_at"] == started["requested_at"]
    assert done["started_at"] is not None
    assert done["finished_at"] >= done["started_at"]
    # No restriction cells stored: the full sync is one availability request.
    assert [(r["kind"], r["endpoint"]) for r in done["runs"]] == [("full", "availability")]
    assert done["runs"][0]["task_ids"]
    assert done["runs"][0]["full_sync_id"] == started["id"]
    assert [r["full_sync_id"] for r in runs] == [started["id"], None]  # newest first
    assert len(fake.writes("availability")) == 2


async def test_a_full_sync_asked_for_while_one_is_queued_joins_it_not_the_running_one(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    await pushed(app, client, availability(0, 9, 4))
    asked: list[Json] = []

    async def ask_twice_while_sending(endpoint: str) -> None:
        if not asked:  # during the first full sync's request, after it read the horizon
            for _ in range(2):
                asked.append((await client.post(SYNC)).json())

    fake.during = ask_twice_while_sending
    first = (await client.post(SYNC)).json()
    await wait_for_jobs(app)
    running_one = (await client.get(f"/v1/properties/p-1/full-syncs/{first['id']}")).json()
    next_one = (await client.get(f"/v1/properties/p-1/full-syncs/{asked[0]['id']}")).json()

    assert asked[0]["id"] != first["id"]  # the running one had read the horizon already
    assert asked[1]["id"] == asked[0]["id"]  # the queued one is joined, not repeated
    assert [a["state"] for a in asked] == ["queued", "queued"]
    assert running_one["state"] == next_one["state"] == "done"
    assert next_one["started_at"] >= running_one["finished_at"]
    assert [r["full_sync_id"] for r in next_one["runs"]] == [next_one["id"]]
    assert len(fake.writes("availability")) == 1 + 2  # the push, then each full sync once


async def test_a_full_sync_channex_rejects_ends_failed_and_its_run_says_why(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    await pushed(app, client, availability(0, 9, 4))
    rejection = {"errors": {"code": "validation_error", "title": "Validation Error"}}
    fake.script = [httpx.Response(422, json=rejection)]

    started = (await client.post(SYNC)).json()
    await wait_for_jobs(app)
    failed = (await client.get(f"/v1/properties/p-1/full-syncs/{started['id']}")).json()

    assert failed["state"] == "failed"
    assert failed["finished_at"] is not None
    assert [r["outcome"] for r in failed["runs"]] == ["failed"]
    assert failed["runs"][0]["error"]


async def test_a_full_sync_is_found_only_under_its_own_property_and_key(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    channex.ari = FakeAri().handle
    await seed_two_organizations(client)
    started = (await client.post(SYNC)).json()
    await wait_for_jobs(app)
    org1 = {"Authorization": f"Bearer {ORG1_KEY}"}

    own = await client.get(f"/v1/properties/p-1/full-syncs/{started['id']}", headers=org1)
    elsewhere = await client.get(f"/v1/properties/p-2/full-syncs/{started['id']}")
    unknown = await client.get(f"/v1/properties/p-1/full-syncs/{started['id'] + 1}")
    other_key = await client.post("/v1/properties/p-2/sync", headers=org1)

    assert own.status_code == 200
    assert elsewhere.status_code == 404
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"
    assert other_key.status_code == 404


# --- Changes ----------------------------------------------------------------------------------


async def test_a_change_is_pending_then_in_sync_with_the_runs_and_task_ids_that_carried_it(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    body = {"items": [availability(0, 9, 4), restrictions(0, 4, rate="99")]}

    response = await client.post(ARI, json=body)
    accepted = response.json()
    before = await change_of(client, accepted["change_id"])
    await wait_for_jobs(app)
    after = await change_of(client, accepted["change_id"])
    runs = (await client.get("/v1/properties/p-1/sync-runs")).json()["items"]

    assert response.headers["location"] == f"{ARI}/changes/{accepted['change_id']}"
    assert before["state"] == "pending"
    assert before["cells"]["pending"] == 15
    assert before["runs"] == []
    assert after["state"] == "in_sync"
    assert after["cells"] == {"in_sync": 15, "pending": 0, "held": 0, "failed": 0,
                              "superseded": 0}  # fmt: skip
    assert sorted(r["endpoint"] for r in after["runs"]) == ["availability", "restrictions"]
    assert {r["id"] for r in after["runs"]} == {r["id"] for r in runs}
    assert all(r["task_ids"] for r in after["runs"])
    assert (after["items"], after["cells_changed"]) == (2, 15)


async def test_a_later_change_to_the_same_cells_supersedes_the_earlier_one(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    first = await pushed(app, client, availability(0, 9, 4))
    second = await pushed(app, client, availability(0, 4, 2))
    partly = await change_of(client, first["change_id"])
    third = await pushed(app, client, availability(5, 9, 1))
    wholly = await change_of(client, first["change_id"])
    same_value = await pushed(app, client, availability(0, 4, 2))  # changes nothing

    assert partly["state"] == "in_sync"  # what is still its own is in Channex
    assert (partly["cells"]["in_sync"], partly["cells"]["superseded"]) == (5, 5)
    assert wholly["state"] == "superseded"
    assert (wholly["cells"]["in_sync"], wholly["cells"]["superseded"]) == (0, 10)
    assert len(wholly["runs"]) == 1  # the run that sent it, still shown
    later = [await change_of(client, c["change_id"]) for c in (second, third)]
    assert [c["state"] for c in later] == ["in_sync", "in_sync"]
    assert [c["cells"]["in_sync"] for c in later] == [5, 5]
    assert {r["id"] for r in later[0]["runs"]}.isdisjoint(r["id"] for r in wholly["runs"])
    assert same_value["cells_changed"] == 0
    assert (await change_of(client, same_value["change_id"]))["state"] == "in_sync"
    assert (await change_of(client, second["change_id"]))["cells"]["in_sync"] == 5


async def test_a_change_channex_drops_values_of_is_failed(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri(reject=lambda value: {"rate": ["must be less than 10000"]})
    channex.ari = fake.handle
    await onboard(client)

    change = await pushed(app, client, restrictions(0, 2, rate="99999"))
    traced = await change_of(client, change["change_id"])

    assert traced["state"] == "failed"
    assert traced["cells"]["failed"] == 3
    assert [r["outcome"] for r in traced["runs"]] == ["failed"]


async def test_a_full_sync_carries_the_change_channex_lacked_and_not_those_it_had(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await onboard(client)
    had = await pushed(app, client, availability(0, 9, 4))
    rejection = {"errors": {"code": "validation_error", "title": "Validation Error"}}
    fake.script = [httpx.Response(422, json=rejection)]
    lacked = await pushed(app, client, availability(3, 3, 1))
    rejected = await change_of(client, lacked["change_id"])

    full = (await client.post(SYNC)).json()
    await wait_for_jobs(app)
    kept = await change_of(client, had["change_id"])
    carried = await change_of(client, lacked["change_id"])

    assert rejected["state"] == "failed"
    assert [r["kind"] for r in kept["runs"]] == ["incremental"]  # in Channex before
    assert [(r["kind"], r["outcome"]) for r in carried["runs"]] == [
        ("incremental", "failed"), ("full", "success"),
    ]  # fmt: skip
    assert carried["runs"][1]["full_sync_id"] == full["id"]
    assert carried["state"] == "in_sync"


async def test_a_change_is_found_only_under_its_own_property_and_key(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    channex.ari = FakeAri().handle
    await seed_two_organizations(client)
    change = (await client.post(ARI, json={"items": [availability(0, 1, 1)]})).json()
    org1 = {"Authorization": f"Bearer {ORG1_KEY}"}

    own = await client.get(f"{ARI}/changes/{change['change_id']}", headers=org1)
    elsewhere = await client.get(f"/v1/properties/p-2/ari/changes/{change['change_id']}")
    unknown = await client.get(f"{ARI}/changes/{'0' * 32}")
    malformed = await client.get(f"{ARI}/changes/nope")

    assert own.status_code == 200
    assert elsewhere.status_code == 404
    assert unknown.status_code == 404
    assert malformed.status_code == 422
