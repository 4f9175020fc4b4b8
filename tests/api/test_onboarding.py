"""Onboarding and mapping through the API against a respx fake of Channex."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.factories import PROPERTY, ROOM, onboard
from tests.fake_channex import FakeChannex


async def test_onboarding_creates_each_channex_entity_once(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    await onboard(client)  # a PMS retry, or a re-run after a restart

    assert [channex.creates(c) for c in ("groups", "properties", "room_types", "rate_plans")] == [
        1,
        1,
        1,
        1,
    ]
    group_id = next(iter(channex.store["groups"]))
    (prop,) = channex.store["properties"].values()
    assert prop["group_id"] == group_id
    assert prop["currency"] == "EUR"
    (room,) = channex.store["room_types"].values()
    assert room["property_id"] == prop["id"]
    assert (room["occ_adults"], room["default_occupancy"], room["count_of_rooms"]) == (2, 2, 12)
    (rate,) = channex.store["rate_plans"].values()
    assert rate["room_type_id"] == room["id"]
    assert rate["options"] == [{"occupancy": 2, "is_primary": True, "rate": 10050}]


async def test_repeated_put_without_changes_does_not_call_channex(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    before = len(channex.calls)
    await onboard(client)
    assert len(channex.calls) == before


async def test_changed_title_updates_the_channex_group(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await client.put("/v1/organizations/org-1", json={"title": "Old"})
    response = await client.put("/v1/organizations/org-1", json={"title": "New"})
    body = response.json()
    assert body["sync_status"] == "synced"
    assert body["updated_at"].endswith("Z")  # UTC and says so, on SQLite too
    assert channex.store["groups"][body["channex_group_id"]]["title"] == "New"
    assert channex.creates("groups") == 1


async def test_group_created_but_not_recorded_is_adopted_not_duplicated(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    # As if a previous attempt crashed after Channex created the group.
    orphan = channex.add("groups", title="Seaside Hotels")
    response = await client.put("/v1/organizations/org-1", json={"title": "Seaside Hotels"})
    assert response.json()["channex_group_id"] == orphan
    assert channex.creates("groups") == 0


async def test_adopting_an_existing_room_type_maps_it(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    prop_id = next(iter(channex.store["properties"]))
    existing = channex.add("room_types", property_id=prop_id, title="Twin", occ_adults=2)
    body = {**ROOM, "title": "Twin Room", "channex_room_type_id": existing}
    response = await client.put("/v1/properties/p-1/room-types/twin", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["channex_room_type_id"] == existing
    assert channex.store["room_types"][existing]["title"] == "Twin Room"
    assert channex.creates("room_types") == 1  # only the first onboarding's


async def test_adopting_an_unknown_channex_id_is_a_422_naming_the_field(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    body = {**ROOM, "channex_room_type_id": "00000000-0000-0000-0000-000000000000"}
    response = await client.put("/v1/properties/p-1/room-types/ghost", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == "body.channex_room_type_id"
    listed = await client.get("/v1/properties/p-1/room-types")
    assert [rt["id"] for rt in listed.json()] == ["dbl"]  # nothing half-written


async def test_channex_422_is_a_422_that_names_channex_s_field(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    channex.fail_next.append(
        httpx.Response(
            422,
            json={
                "errors": {
                    "code": "validation_error",
                    "title": "Validation Error",
                    "details": {"title": ["has already been taken"]},
                }
            },
        )
    )
    response = await client.put("/v1/organizations/org-1", json={"title": "Taken"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "channex_rejected"
    assert problem["errors"] == [
        {"loc": "channex.title", "message": "has already been taken", "code": "channex_rejected"}
    ]
    assert (await client.get("/v1/organizations/org-1")).status_code == 404


async def test_channex_down_is_a_503_and_the_failure_is_recorded(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    channex.fail_next.extend(httpx.Response(503) for _ in range(10))
    response = await client.put("/v1/organizations/org-1", json={"title": "Renamed"})
    assert response.status_code == 503
    assert response.json()["code"] == "channex_unavailable"
    assert "Retry-After" in response.headers
    org = (await client.get("/v1/organizations/org-1")).json()
    assert org["sync_status"] == "error"
    assert org["title"] == "Renamed"  # the desired value is kept for the retry
    assert "ChannexUnavailableError" in org["last_error"]


async def test_rate_plan_occupancy_above_room_adults_is_rejected(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    body = {"title": "Family", "options": [{"occupancy": 3, "rate": "90"}]}
    response = await client.put("/v1/properties/p-1/room-types/dbl/rate-plans/fam", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "body.options.0.occupancy"
    assert channex.creates("rate_plans") == 1


async def test_property_before_its_organization_is_synced_is_a_conflict(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    response = await client.put("/v1/properties/p-1", json=PROPERTY)
    assert response.status_code == 404  # the organization does not exist yet
    assert response.json()["code"] == "not_found"


async def test_refresh_marks_mappings_whose_channex_side_is_gone(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    room_id = next(iter(channex.store["room_types"]))
    del channex.store["room_types"][room_id]
    response = await client.post("/v1/properties/p-1/channex/refresh")
    assert response.json() == {
        "room_types_missing": ["dbl"],
        "rate_plans_missing": [],
        "restored": 0,
    }
    room = (await client.get("/v1/properties/p-1/room-types/dbl")).json()
    assert room["sync_status"] == "missing"


async def test_channex_listing_shows_which_entity_is_mapped(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    prop_id = next(iter(channex.store["properties"]))
    for i in range(12):  # more than Channex's default page of 10
        channex.add("room_types", property_id=prop_id, title=f"Extra {i}", occ_adults=1)
    listed = (await client.get("/v1/properties/p-1/channex/room-types")).json()
    assert len(listed) == 13
    assert [r["mapped_room_type_id"] for r in listed if r["mapped_room_type_id"]] == ["dbl"]


async def test_channels_list_reports_connection_state(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    prop_id = next(iter(channex.store["properties"]))
    channex.add("channels", channel="BookingCom", title="Booking.com", is_active=True,
                properties=[prop_id])  # fmt: skip
    listed = (await client.get("/v1/properties/p-1/channels")).json()
    assert [(c["channel"], c["is_active"]) for c in listed] == [("BookingCom", True)]


async def test_unmapping_a_room_type_keeps_it_in_channex(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    response = await client.delete("/v1/properties/p-1/room-types/dbl")
    assert response.status_code == 204
    assert (await client.get("/v1/properties/p-1/room-types/dbl")).status_code == 404
    assert (await client.get("/v1/properties/p-1/rate-plans")).json() == []
    assert len(channex.store["room_types"]) == 1


async def test_disconnect_keeps_the_organization_and_put_reconnects(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    await onboard(client)
    gone = await client.delete("/v1/organizations/org-1")
    assert gone.json()["disconnected_at"] is not None
    assert (await client.get("/v1/organizations/org-1")).status_code == 200
    again = await client.put("/v1/organizations/org-1", json={"title": "Seaside Hotels"})
    assert again.json()["disconnected_at"] is None
    assert channex.creates("groups") == 1


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**PROPERTY, "currency": "EURO"}, "body.currency"),
        ({**PROPERTY, "timezone": "Mars/Olympus"}, "body.timezone"),
        ({**PROPERTY, "state_length": 50}, "body.state_length"),
        ({**PROPERTY, "surprise": 1}, "body.surprise"),
    ],
)
async def test_invalid_property_bodies_are_422_with_the_field(
    client: httpx.AsyncClient, body: dict[str, object], loc: str
) -> None:
    await client.put("/v1/organizations/org-1", json={"title": "Seaside Hotels"})
    response = await client.put("/v1/properties/p-1", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert loc in [e["loc"] for e in problem["errors"]]


async def test_malformed_json_is_a_problem_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/v1/organizations/org-1",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert json.loads(response.text)["code"] == "validation_error"


@pytest.mark.parametrize(
    "error",
    [
        {"code": "validation_error", "title": "Validation Error",
         "details": {"base": ["room types limit reached for this property"]}},
        {"code": "limit_exceeded", "title": "Rate plans limit exceeded"},
        {"code": "forbidden", "title": "Maximum number of room types reached"},
    ],
)  # fmt: skip
async def test_channex_s_size_limit_is_a_409_of_its_own(
    client: httpx.AsyncClient, channex: FakeChannex, error: dict[str, object]
) -> None:
    """Channex's size limits (enforced from 14 Dec 2026) in a form it has not documented: any
    refusal that speaks of a limit is `channex_limit_reached`, not a retryable error."""
    await client.put("/v1/organizations/org-1", json={"title": "Seaside Hotels"})
    await client.put("/v1/properties/p-1", json=PROPERTY)
    status = 403 if error["code"] == "forbidden" else 422
    channex.fail_next.append(httpx.Response(status, json={"errors": error}))
    response = await client.put("/v1/properties/p-1/room-types/dbl", json=ROOM)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "channex_limit_reached"
    assert str(error["title"]) in response.json()["detail"]
    assert (await client.get("/v1/properties/p-1/room-types/dbl")).status_code == 404


async def test_a_channex_422_without_a_limit_stays_channex_rejected(
    client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    """The rate limit (a 429) and other refusals are not taken for a size limit."""
    error = {"code": "validation_error", "title": "Invalid", "details": {"title": ["too long"]}}
    channex.fail_next.append(httpx.Response(422, json={"errors": error}))
    response = await client.put("/v1/organizations/org-1", json={"title": "Seaside"})
    assert response.json()["code"] == "channex_rejected"
