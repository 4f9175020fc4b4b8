"""Drift over the API: read Channex back, report what differs from what we pushed, and repair
exactly those cells through the normal push (respx fake of Channex's ARI endpoints)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
from arq.worker import Retry
from fastapi import FastAPI
from sqlalchemy import select

from app.db import utcnow
from app.domain.ari_schedule import nightly_slot
from app.jobs.ari import nightly_ari, nightly_pending
from app.jobs.context import WorkerContext
from app.jobs.requests import NIGHTLY_ARI
from app.models import AriState, Property
from app.resources import Resources
from app.settings import Settings
from tests.api.test_ari import wait_for_jobs
from tests.conftest import ORG1_KEY
from tests.factories import ari_day, availability, onboard, restrictions
from tests.fake_channex import FakeChannex
from tests.services.ari_support import FakeAri
from tests.waiting import past_our_limiter

RANGE = {"from": ari_day(0), "to": ari_day(9)}


async def drift(
    client: httpx.AsyncClient, *, repair: bool = False, params: dict[str, str] = RANGE
) -> httpx.Response:
    """GET .../drift (or POST .../drift/repair), waiting out our own limiter's spacing."""
    if repair:
        return await past_our_limiter(
            lambda: client.post("/v1/properties/p-1/drift/repair", params=params)
        )
    return await past_our_limiter(lambda: client.get("/v1/properties/p-1/drift", params=params))


async def pushed_hotel(app: FastAPI, client: httpx.AsyncClient, fake: FakeAri) -> tuple[str, str]:
    """p-1 with 10 days pushed (availability 4; rate 99.50, no stop sell); Channex ids back."""
    await onboard(client)
    body = {"items": [availability(0, 9, 4), restrictions(0, 9, rate="99.5", stop_sell=False)]}
    assert (await client.post("/v1/properties/p-1/ari", json=body)).status_code == 202
    await wait_for_jobs(app)
    room = (await client.get("/v1/properties/p-1/room-types/dbl")).json()
    plan = (await client.get("/v1/properties/p-1/room-types/dbl/rate-plans/bar")).json()
    return room["channex_room_type_id"], plan["channex_rate_plan_id"]


def day(offset: int) -> date:
    return date.fromisoformat(ari_day(offset))


async def test_drift_reports_only_the_fields_changed_inside_channex(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    room, plan = await pushed_hotel(app, client, fake)
    assert (await drift(client)).json()["differences"] == []
    fake.availability[(room, day(3))] = 7
    fake.restrictions[(plan, day(5))]["rate"] = "120.00"
    fake.restrictions[(plan, day(6))]["stop_sell"] = 1  # Channex may answer flags as 0/1
    writes = len(fake.requests)  # writes only: the fake does not record reads

    response = await drift(client)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["checked_cells"] == 20
    assert body["repaired"] is False
    assert sorted(body["differences"], key=lambda d: (d["date"], d["type"])) == [
        {"type": "availability", "room_type_id": "dbl", "rate_plan_id": None, "date": ari_day(3),
         "field": "availability", "pushed": 4, "channex": 7},
        {"type": "restrictions", "room_type_id": "dbl", "rate_plan_id": "bar", "date": ari_day(5),
         "field": "rate", "pushed": "99.50", "channex": "120.00"},
        {"type": "restrictions", "room_type_id": "dbl", "rate_plan_id": "bar", "date": ari_day(6),
         "field": "stop_sell", "pushed": False, "channex": 1},
    ]  # fmt: skip
    await wait_for_jobs(app)
    assert len(fake.requests) == writes  # a check alone sends nothing
    state = await client.get("/v1/properties/p-1/ari", params=RANGE)
    assert {c["status"] for c in state.json()["cells"]} == {"in_sync"}


async def test_repair_resends_exactly_the_drifted_fields_and_converges(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    room, plan = await pushed_hotel(app, client, fake)
    fake.availability[(room, day(3))] = 0
    fake.restrictions[(plan, day(5))]["rate"] = "120.00"
    fake.restrictions[(plan, day(6))]["rate"] = "120.00"
    sent = (len(fake.writes("availability")), len(fake.writes("restrictions")))

    response = await drift(client, repair=True)

    assert response.status_code == 200, response.text
    assert response.json()["repaired"] is True
    assert len(response.json()["differences"]) == 3
    await wait_for_jobs(app)
    availability_writes, restriction_writes = (
        fake.writes("availability"),
        fake.writes("restrictions"),
    )
    assert (len(availability_writes), len(restriction_writes)) == (sent[0] + 1, sent[1] + 1)
    property_id = availability_writes[-1][0]["property_id"]
    assert availability_writes[-1] == [
        {
            "property_id": property_id,
            "room_type_id": room,
            "date_from": ari_day(3),
            "date_to": ari_day(3),
            "availability": 4,
        }
    ]
    assert restriction_writes[-1] == [
        {"property_id": property_id, "rate_plan_id": plan, "date_from": ari_day(5),
         "date_to": ari_day(6), "rate": "99.50"}
    ]  # fmt: skip
    assert (await drift(client)).json()["differences"] == []
    runs = (await client.get("/v1/properties/p-1/sync-runs")).json()["items"]
    assert {run["kind"] for run in runs} <= {"incremental"}  # never a full sync


async def test_drift_needs_a_valid_range_and_the_caller_s_property(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    channex.ari = FakeAri().handle
    await onboard(client)
    backwards = {"from": ari_day(5), "to": ari_day(1)}
    assert (await client.get("/v1/properties/p-1/drift", params=backwards)).status_code == 422
    other = {"Authorization": f"Bearer {ORG1_KEY}"}
    await client.put("/v1/organizations/org-2", json={"title": "Other"})
    body: dict[str, Any] = {"organization_id": "org-2", "title": "Theirs", "currency": "EUR"}
    assert (await client.put("/v1/properties/p-2", json=body)).status_code == 200
    response = await client.get("/v1/properties/p-2/drift", params=RANGE, headers=other)
    assert response.status_code == 404


async def run_nightly(ctx: WorkerContext, property_pk: int) -> None:
    """The job as the queue runs it: again after the defer while our limiter says wait."""
    for _ in range(5):
        try:
            return await nightly_ari(ctx, property_pk)
        except Retry as retry:
            await asyncio.sleep((retry.defer_score or 0) / 1000)
    raise AssertionError("the nightly job kept deferring")


async def test_the_nightly_job_is_due_once_records_drift_and_repairs_if_configured(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, settings: Settings
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    room, _ = await pushed_hotel(app, client, fake)
    fake.availability[(room, day(3))] = 0
    resources: Resources = app.state.resources
    async with resources.session_factory() as session:
        stmt = select(Property).where(Property.pms_property_id == "p-1")
        prop = (await session.execute(stmt)).scalar_one()
        slot = nightly_slot(utcnow(), prop.timezone, prop.id)
        assert await nightly_pending(session, slot - timedelta(minutes=1)) == []  # peak hours
        [job] = await nightly_pending(session, slot + timedelta(minutes=1))
    assert (job.job_name, job.args) == (NIGHTLY_ARI, (prop.id,))
    ctx = resources.context()
    ctx["settings"] = settings.model_copy(update={"ari_nightly_drift_repair": True})
    writes = len(fake.writes("availability"))
    restriction_writes = len(fake.writes("restrictions"))

    await run_nightly(ctx, prop.id)
    await wait_for_jobs(app)

    async with resources.session_factory() as session:
        state = await session.get(AriState, prop.id)
        assert state is not None
        assert (state.drift_differences, state.nightly_at is not None) == (1, True)
        assert await nightly_pending(session, slot + timedelta(minutes=2)) == []  # once a day
    repaired = fake.writes("availability")[writes:]
    assert [[(v["date_from"], v["availability"]) for v in values] for values in repaired] == [
        [(ari_day(3), 4)]
    ]
    assert len(fake.writes("restrictions")) == restriction_writes  # nothing drifted there


async def test_the_optional_daily_full_sync_runs_from_the_nightly_job(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex, settings: Settings
) -> None:
    fake = FakeAri()
    channex.ari = fake.handle
    await pushed_hotel(app, client, fake)
    resources: Resources = app.state.resources
    async with resources.session_factory() as session:
        stmt = select(Property.id).where(Property.pms_property_id == "p-1")
        property_pk = (await session.execute(stmt)).scalar_one()
    ctx = resources.context()
    only_full = {"ari_nightly_drift_check": False, "ari_daily_full_sync": True}
    ctx["settings"] = settings.model_copy(update=only_full)

    await run_nightly(ctx, property_pk)
    await wait_for_jobs(app)

    runs = (await client.get("/v1/properties/p-1/sync-runs")).json()["items"]
    full = [(run["endpoint"], run["values_count"]) for run in runs if run["kind"] == "full"]
    assert sorted(full) == [("availability", 1), ("restrictions", 1)]
    async with resources.session_factory() as session:
        state = await session.get(AriState, property_pk)
        assert state is not None
        assert state.drift_checked_at is None  # the drift check was switched off
        assert state.nightly_at is not None
