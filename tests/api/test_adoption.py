"""Adversarial: one Channex account serves every organization, so adopting an existing
Channex entity must never reach another tenant's: a property only from the organization's own
group, a group only when no other organization maps it and, with an organization's own key,
only where the deployment allows it. A refusal writes nothing, here or in Channex."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.main import create_app
from app.models import Organization, Property
from app.resources import Resources
from app.settings import Settings
from tests.conftest import ORG1_KEY
from tests.factories import PROPERTY, seed_two_organizations
from tests.fake_channex import FakeChannex

ORG1 = {"Authorization": f"Bearer {ORG1_KEY}"}


def _channex_ids(channex: FakeChannex) -> dict[str, str]:
    """Channex property id by title."""
    return {attrs["title"]: pid for pid, attrs in channex.store["properties"].items()}


async def _count(app: FastAPI, model: type[object]) -> int:
    resources: Resources = app.state.resources
    async with resources.session_factory() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def test_a_property_of_another_group_cannot_be_adopted(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await seed_two_organizations(client)
    # A property of org-2's group that no row maps (made in Channex's own UI, say).
    alpine = channex.store["properties"][_channex_ids(channex)["Alpine Lodge"]]
    foreign = "9a6b7c8d-0000-4000-8000-000000000f0e"
    channex.store["properties"][foreign] = {**alpine, "title": "Alpine Annex"}
    before = dict(channex.store["properties"][foreign])
    properties = await _count(app, Property)

    body = {**PROPERTY, "title": "Taken Over", "channex_property_id": foreign}
    response = await client.put("/v1/properties/p-3", json=body, headers=ORG1)

    _refused(response, 403, "channex_property_in_other_group")
    assert response.json()["errors"][0]["loc"] == "body.channex_property_id"
    assert channex.store["properties"][foreign] == before  # title and currency untouched
    assert await _count(app, Property) == properties  # nothing written here either


async def test_a_property_of_the_organization_s_own_group_can_be_adopted(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await seed_two_organizations(client)
    seaside = channex.store["properties"][_channex_ids(channex)["Seaside Hotel"]]
    own = "9a6b7c8d-0000-4000-8000-000000000f0f"
    channex.store["properties"][own] = {**seaside, "title": "Seaside Annex"}

    body = {**PROPERTY, "title": "Seaside Annex", "channex_property_id": own}
    response = await client.put("/v1/properties/p-9", json=body, headers=ORG1)

    assert response.status_code == 200, response.text
    assert response.json()["channex_property_id"] == own


async def test_an_organization_s_own_key_cannot_adopt_a_group(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    group = "5d2f1c9e-0000-4000-8000-00000000abcd"
    channex.store["groups"][group] = {"title": "Someone's group"}
    organizations = await _count(app, Organization)

    body = {"title": "Mine now", "channex_group_id": group}
    response = await client.put("/v1/organizations/org-1", json=body, headers=ORG1)

    _refused(response, 403, "group_adoption_forbidden")
    assert channex.store["groups"][group]["title"] == "Someone's group"
    assert await _count(app, Organization) == organizations


async def test_a_group_mapped_by_another_organization_cannot_be_adopted_even_globally(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await seed_two_organizations(client)
    org2 = (await client.get("/v1/organizations/org-2")).json()

    body = {"title": "Mine now", "channex_group_id": org2["channex_group_id"]}
    response = await client.put("/v1/organizations/org-3", json=body)

    _refused(response, 409, "channex_id_taken")


@pytest.fixture
def allowing(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_scoped_group_adoption": True})


async def test_a_deployment_may_let_organization_keys_adopt_an_unmapped_group(
    allowing: Settings, channex: FakeChannex
) -> None:
    group = "5d2f1c9e-0000-4000-8000-00000000abce"
    channex.store["groups"][group] = {"title": "Our old group"}
    app = create_app(allowing)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            body = {"title": "Seaside Hotels", "channex_group_id": group}
            response = await client.put("/v1/organizations/org-1", json=body, headers=ORG1)

    assert response.status_code == 200, response.text
    assert response.json()["channex_group_id"] == group


async def test_nothing_is_adopted_while_channex_sync_is_off(
    settings: Settings, channex: FakeChannex
) -> None:
    app = create_app(settings.model_copy(update={"channex_sync_enabled": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            body = {"title": "Seaside", "channex_group_id": "5d2f1c9e-0000-4000-8000-00000000abcf"}
            response = await client.put(
                "/v1/organizations/org-1", json=body, headers={"X-API-Key": "global-test-key"}
            )

    _refused(response, 409, "adoption_needs_channex")
