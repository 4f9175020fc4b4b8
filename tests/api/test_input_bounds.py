"""Adversarial: values no column can hold are a 422 with the field, on both databases, never
a 500 from a statement PostgreSQL refuses (integers past the column's range, NUL in text)."""

from __future__ import annotations

import httpx
import pytest

from app.db import MAX_INT
from app.services.bookings import encode_cursor
from tests.factories import RATE, onboard


def _assert_invalid(response: httpx.Response, loc: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert loc in [error["loc"] for error in body["errors"]]


@pytest.mark.parametrize("offset", [MAX_INT + 1, 9223372036854775808])
async def test_an_offset_past_the_range_is_422(client: httpx.AsyncClient, offset: int) -> None:
    response = await client.get("/v1/organizations", params={"offset": offset})
    _assert_invalid(response, "query.offset")


async def test_an_offset_at_the_range_is_an_empty_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/organizations", params={"offset": MAX_INT})
    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_a_sync_run_id_past_the_range_is_422(client: httpx.AsyncClient) -> None:
    await onboard(client)
    response = await client.get(f"/v1/properties/p-1/sync-runs/{MAX_INT + 1}")
    _assert_invalid(response, "path.run_id")


async def test_a_cursor_past_the_range_is_422(client: httpx.AsyncClient) -> None:
    for position in (MAX_INT + 1, -1):
        cursor = encode_cursor(position)
        response = await client.get("/v1/bookings/revisions", params={"after": cursor})
        _assert_invalid(response, "query.after")


@pytest.mark.parametrize(
    "url",
    ["/v1/organizations/org%00", "/v1/bookings/revisions?after=p%00", "/v1/organizations?x=%00"],
)
async def test_nul_in_a_path_or_query_is_422(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(url)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/organizations/org-1", {"title": "Sea\u0000side"}),
        ("/v1/organizations/org-1", {"title": "Seaside", "channex_group_id": "."}),
        ("/v1/organizations/org-1", {"title": "Seaside", "channex_group_id": "g\u0000"}),
    ],
    ids=["nul-title", "dot-channex-id", "nul-channex-id"],
)
async def test_nul_in_body_text_and_non_uuid_channex_ids_are_422(
    client: httpx.AsyncClient, path: str, body: dict[str, object]
) -> None:
    response = await client.put(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_nul_in_a_rate_plan_s_meal_type_is_422(client: httpx.AsyncClient) -> None:
    await onboard(client)
    body = {**RATE, "meal_type": "break\u0000fast"}
    response = await client.put("/v1/properties/p-1/room-types/dbl/rate-plans/bb", json=body)
    assert response.status_code == 422, response.text
