"""Onboarding that Channex refused for a while is re-driven by the sweep."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from app.db import utcnow
from app.jobs.onboarding import scan_onboarding, sync_onboarding
from app.jobs.requests import JobRequest
from app.models import Organization, Property
from app.resources import Resources
from tests.factories import PROPERTY
from tests.fake_channex import FakeChannex


async def run(resources: Resources, job: JobRequest) -> None:
    kind, ident = job.args
    await sync_onboarding(resources.context(), str(kind), int(ident))


async def age_rows(resources: Resources) -> None:
    """As if the failure happened a while ago (the scanner leaves fresh ones to the PMS)."""
    past = utcnow() - timedelta(minutes=5)
    async with resources.session_factory() as session:
        for model in (Organization, Property):
            await session.execute(update(model).values(updated_at=past))
        await session.commit()


async def test_a_failed_update_is_retried_until_channex_takes_it(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    resources: Resources = app.state.resources
    created = await client.put("/v1/organizations/org-1", json={"title": "Old"})
    channex.fail_next.extend(httpx.Response(503) for _ in range(10))
    failed = await client.put("/v1/organizations/org-1", json={"title": "New"})
    assert failed.status_code == 503
    channex.fail_next.clear()

    async with resources.session_factory() as session:
        assert await scan_onboarding(session) == []  # too fresh: the PMS retries first
    await age_rows(resources)
    async with resources.session_factory() as session:
        (pending,) = await scan_onboarding(session)
    assert pending.job_name == "sync_onboarding"
    await run(resources, pending)

    org = (await client.get("/v1/organizations/org-1")).json()
    assert (org["sync_status"], org["last_error"]) == ("synced", None)
    group_id = created.json()["channex_group_id"]
    assert channex.store["groups"][group_id]["title"] == "New"
    assert channex.creates("groups") == 1


async def test_a_still_failing_retry_records_the_error(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    resources: Resources = app.state.resources
    await client.put("/v1/organizations/org-1", json={"title": "Old"})
    channex.fail_next.extend(httpx.Response(503) for _ in range(10))
    await client.put("/v1/organizations/org-1", json={"title": "New"})
    await age_rows(resources)
    async with resources.session_factory() as session:
        (pending,) = await scan_onboarding(session)
    channex.fail_next.extend(httpx.Response(503) for _ in range(10))
    await run(resources, pending)
    org = (await client.get("/v1/organizations/org-1")).json()
    assert org["sync_status"] == "error"
    assert "ChannexUnavailableError" in org["last_error"]


async def test_a_child_waits_for_its_parent(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    resources: Resources = app.state.resources
    await client.put("/v1/organizations/org-1", json={"title": "Seaside"})
    await client.put("/v1/properties/p-1", json=PROPERTY)
    async with resources.session_factory() as session:
        await session.execute(update(Organization).values(sync_status="error"))
        await session.execute(update(Property).values(sync_status="error", title="Renamed"))
        await session.commit()
    await age_rows(resources)

    def property_calls() -> int:
        return sum("/properties" in str(request.url) for request in channex.calls)

    calls = property_calls()
    async with resources.session_factory() as session:
        jobs = await scan_onboarding(session)
    prop_job = next(job for job in jobs if job.args[0] == "property")
    await run(resources, prop_job)
    assert property_calls() == calls  # the organization is not synced: nothing sent
    org_job = next(job for job in jobs if job.args[0] == "organization")
    await run(resources, org_job)
    await run(resources, prop_job)
    prop = (await client.get("/v1/properties/p-1")).json()
    assert prop["sync_status"] == "synced"
    (stored,) = channex.store["properties"].values()
    assert stored["title"] == "Renamed"
