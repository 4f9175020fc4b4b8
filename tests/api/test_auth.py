"""API keys: global or scoped to one organization; a scoped key sees nothing of the others."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import GLOBAL_KEY, ORG1_KEY
from tests.factories import PROPERTY, seed_two_organizations
from tests.fake_channex import FakeChannex


def as_key(client: httpx.AsyncClient, key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}, {"Authorization": "Basic x"}],
)
async def test_requests_without_a_valid_key_are_401_problems(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    client.headers.pop("Authorization")
    response = await client.get("/v1/organizations", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


async def test_x_api_key_header_is_accepted(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization")
    response = await client.get("/v1/organizations", headers={"X-API-Key": GLOBAL_KEY})
    assert response.status_code == 200


async def test_health_needs_no_key(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as anonymous:
        assert (await anonymous.get("/health/live")).json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/organizations/org-2", None),
        ("PUT", "/v1/organizations/org-2", {"title": "Hijacked"}),
        ("DELETE", "/v1/organizations/org-2", None),
        ("GET", "/v1/properties/p-2", None),
        ("PUT", "/v1/properties/p-2", {**PROPERTY, "organization_id": "org-2"}),
        ("PUT", "/v1/properties/p-2", PROPERTY),  # claiming it into org-1
        ("DELETE", "/v1/properties/p-2", None),
        ("GET", "/v1/properties/p-2/room-types", None),
        (
            "PUT",
            "/v1/properties/p-2/room-types/x",
            {"title": "X", "count_of_rooms": 1, "occ_adults": 1},
        ),
        ("GET", "/v1/properties/p-2/rate-plans", None),
        ("GET", "/v1/properties/p-2/channels", None),
        ("GET", "/v1/properties/p-2/channex/room-types", None),
    ],
)
async def test_scoped_key_gets_404_outside_its_organization(
    client: httpx.AsyncClient, channex: FakeChannex, method: str, path: str, body: object
) -> None:
    await seed_two_organizations(client)
    calls_before = len(channex.calls)
    response = await client.request(method, path, json=body, headers=as_key(client, ORG1_KEY))
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
    assert len(channex.calls) == calls_before  # nothing reached Channex
    still = await client.get("/v1/organizations/org-2")
    assert still.json()["title"] == "Mountain Inns"
    assert still.json()["disconnected_at"] is None


async def test_scoped_key_lists_only_its_organization(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await seed_two_organizations(client)
    scoped = as_key(client, ORG1_KEY)
    orgs = (await client.get("/v1/organizations", headers=scoped)).json()
    props = (await client.get("/v1/properties", headers=scoped)).json()
    assert [o["id"] for o in orgs["items"]] == ["org-1"]
    assert [p["id"] for p in props["items"]] == ["p-1"]
    everything = (await client.get("/v1/properties")).json()
    assert everything["total"] == 2


async def test_scoped_key_works_inside_its_organization(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await seed_two_organizations(client)
    response = await client.get("/v1/properties/p-1", headers=as_key(client, ORG1_KEY))
    assert response.status_code == 200
    assert response.json()["organization_id"] == "org-1"


async def test_lists_are_paginated(client: httpx.AsyncClient, channex: FakeChannex) -> None:
    for i in range(5):
        await client.put(f"/v1/organizations/org-{i}", json={"title": f"Org {i}"})
    first = (await client.get("/v1/organizations?limit=2")).json()
    assert [o["id"] for o in first["items"]] == ["org-0", "org-1"]
    assert (first["total"], first["next_offset"]) == (5, 2)
    last = (await client.get("/v1/organizations?limit=2&offset=4")).json()
    assert [o["id"] for o in last["items"]] == ["org-4"]
    assert last["next_offset"] is None
