"""The one onboarding flow all four entities share (app/services/mapped_entity.py): what it
does without Channex, how it refuses, when it calls Channex, and the sweep's re-drive of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.db import utcnow
from app.main import create_app
from app.resources import Resources
from app.services.onboarding_retry import MODELS, list_unsynced, resync
from app.settings import Settings
from tests.conftest import GLOBAL_KEY
from tests.factories import PROPERTY, RATE, ROOM, onboard
from tests.fake_channex import FakeChannex

ORG = "/v1/organizations/org-1"
PROP = "/v1/properties/p-1"
ROOM_PATH = "/v1/properties/p-1/room-types/dbl"
RATE_PATH = "/v1/properties/p-1/room-types/dbl/rate-plans/bar"


@pytest.fixture
async def offline(settings: Settings, channex: FakeChannex) -> AsyncIterator[httpx.AsyncClient]:
    """The service with Channex sync switched off (the respx fake still sees any request)."""
    app = create_app(settings.model_copy(update={"channex_sync_enabled": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {GLOBAL_KEY}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://offline", headers=headers
        ) as client:
            yield client


async def fail_channex_once(client: httpx.AsyncClient, channex: FakeChannex, path: str) -> None:
    """Leave the row `error`: a rename Channex does not take."""
    current = (await client.get(path)).json()
    body: dict[str, object] = {"title": f"{current['title']} (renamed)"}
    if path == PROP:
        body = {**PROPERTY, **body}
    elif path == ROOM_PATH:
        body = {**ROOM, **body}
    channex.fail_next.extend(httpx.Response(503) for _ in range(10))
    assert (await client.put(path, json=body)).status_code == 503
    channex.fail_next.clear()
    assert (await client.get(path)).json()["sync_status"] == "error"


async def test_without_channex_every_entity_is_stored_pending_and_nothing_is_sent(
    offline: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(offline)
    await onboard(offline)  # a PMS retry changes nothing either

    for path, column in [
        (ORG, "channex_group_id"),
        (PROP, "channex_property_id"),
        (ROOM_PATH, "channex_room_type_id"),
        (RATE_PATH, "channex_rate_plan_id"),
    ]:
        body = (await offline.get(path)).json()
        assert (body["sync_status"], body[column]) == ("pending", None), path
    assert channex.calls == []


async def test_the_sweep_syncs_pending_rows_parents_first(
    app: FastAPI, offline: httpx.AsyncClient, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(offline)
    resources: Resources = app.state.resources
    channex_client = resources.channex
    assert channex_client is not None
    async with resources.session_factory() as session:
        for model in MODELS.values():
            await session.execute(update(model).values(updated_at=utcnow() - timedelta(minutes=5)))
        await session.commit()
        unsynced = await list_unsynced(session)
    assert [kind for kind, _ in unsynced] == ["organization", "property", "room_type", "rate_plan"]

    for kind, ident in [*reversed(unsynced), *unsynced]:  # children first wait for parents
        async with resources.session_factory() as session:
            if await resync(session, channex_client, kind, ident):
                await session.commit()

    assert [channex.creates(c) for c in ("groups", "properties", "room_types", "rate_plans")] == [
        1,
        1,
        1,
        1,
    ]
    (room,) = channex.store["room_types"].values()
    (rate,) = channex.store["rate_plans"].values()
    assert (rate["property_id"], rate["room_type_id"]) == (room["property_id"], room["id"])
    assert rate["options"] == [{"occupancy": 2, "is_primary": True, "rate": 10050}]
    assert (await client.get(RATE_PATH)).json()["channex_rate_plan_id"] == rate["id"]


@pytest.mark.parametrize(
    ("failed", "child", "body", "code"),
    [
        (ORG, "/v1/properties/p-2", PROPERTY, "organization_not_synced"),
        (PROP, "/v1/properties/p-1/room-types/new", ROOM, "property_not_synced"),
        (
            ROOM_PATH,
            "/v1/properties/p-1/room-types/dbl/rate-plans/new",
            RATE,
            "room_type_not_synced",
        ),
    ],
)
async def test_a_new_child_of_a_parent_not_in_channex_is_a_409_naming_the_parent(
    client: httpx.AsyncClient,
    channex: FakeChannex,
    failed: str,
    child: str,
    body: dict[str, object],
    code: str,
) -> None:
    await onboard(client)
    await fail_channex_once(client, channex, failed)
    sent = len(channex.calls)

    response = await client.put(child, json=body)

    assert response.status_code == 409, response.text
    assert response.json()["code"] == code
    assert len(channex.calls) == sent
    assert (await client.get(child)).status_code == 404  # nothing half-written


async def test_adopting_a_channex_id_another_row_maps_is_a_409(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    mapped = (await client.get(ROOM_PATH)).json()["channex_room_type_id"]
    sent = len(channex.calls)

    body = {**ROOM, "title": "Twin", "channex_room_type_id": mapped}
    response = await client.put("/v1/properties/p-1/room-types/twin", json=body)

    assert response.status_code == 409
    assert response.json()["code"] == "channex_id_taken"
    assert len(channex.calls) == sent
    listed = await client.get("/v1/properties/p-1/room-types")
    assert [rt["id"] for rt in listed.json()] == ["dbl"]


async def test_adopting_a_room_type_of_another_channex_property_is_a_422(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    elsewhere = channex.add("room_types", property_id="another", title="Twin", occ_adults=2)

    body = {**ROOM, "title": "Twin", "channex_room_type_id": elsewhere}
    response = await client.put("/v1/properties/p-1/room-types/twin", json=body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body.channex_room_type_id"
    assert channex.store["room_types"][elsewhere]["title"] == "Twin"  # not updated
    assert (await client.get("/v1/properties/p-1/room-types/twin")).status_code == 404


async def test_a_disconnected_parent_refuses_children(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    await client.delete(PROP)
    room = await client.put("/v1/properties/p-1/room-types/new", json=ROOM)
    assert (room.status_code, room.json()["code"]) == (409, "property_disconnected")
    await client.delete(ORG)
    prop = await client.put("/v1/properties/p-2", json=PROPERTY)
    assert (prop.status_code, prop.json()["code"]) == (409, "organization_disconnected")


async def test_a_property_cannot_move_to_another_organization(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    await client.put("/v1/organizations/org-2", json={"title": "Mountain Inns"})
    moved = await client.put(PROP, json={**PROPERTY, "organization_id": "org-2"})
    assert (moved.status_code, moved.json()["code"]) == (409, "property_in_other_organization")
    assert (await client.get(PROP)).json()["organization_id"] == "org-1"


async def test_reconnecting_resends_the_group_but_not_an_unchanged_property(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    await client.delete(PROP)
    sent = len(channex.calls)
    prop = await client.put(PROP, json=PROPERTY)
    assert prop.json()["disconnected_at"] is None
    assert len(channex.calls) == sent

    await client.delete(ORG)
    org = await client.put(ORG, json={"title": "Seaside Hotels"})
    assert org.json()["disconnected_at"] is None
    (call,) = channex.calls[sent:]
    assert (call.method, call.url.path) == (
        "PUT",
        f"/api/v1/groups/{org.json()['channex_group_id']}",
    )
