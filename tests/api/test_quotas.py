"""Adversarial: an organization cannot create Channex entities past its quotas, which are
checked before any call to Channex; what exists can always be updated."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings
from tests.factories import PROPERTY, RATE, ROOM, onboard
from tests.fake_channex import FakeChannex


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "quota_properties_per_organization": 1,
            "quota_room_types_per_property": 1,
            "quota_rate_plans_per_room_type": 1,
        }
    )


def _quota_exceeded(response: httpx.Response, what: str) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "quota_exceeded"
    assert what in body["detail"]


async def test_a_new_entity_past_its_quota_is_refused_before_channex_hears_of_it(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)  # one of each: every quota is full
    calls = len(channex.calls)

    second_property = await client.put("/v1/properties/p-2", json=PROPERTY)
    second_room = await client.put("/v1/properties/p-1/room-types/twn", json=ROOM)
    second_rate = await client.put("/v1/properties/p-1/room-types/dbl/rate-plans/nr", json=RATE)

    _quota_exceeded(second_property, "1 properties per organization")
    _quota_exceeded(second_room, "1 room types per property")
    _quota_exceeded(second_rate, "1 rate plans per room type")
    assert len(channex.calls) == calls
    listed = (await client.get("/v1/properties")).json()
    assert [p["id"] for p in listed["items"]] == ["p-1"]


async def test_what_exists_is_updated_whatever_the_quota(client: httpx.AsyncClient) -> None:
    await onboard(client)

    renamed = await client.put("/v1/properties/p-1", json={**PROPERTY, "title": "Renamed"})

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["title"] == "Renamed"
