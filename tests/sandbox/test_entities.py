"""Auth, envelopes, pagination and validation of the entity endpoints (channex-api.md §1-§5)."""

from __future__ import annotations

import httpx

from tests.factories import created, make_hotel


async def test_missing_or_wrong_key_is_401_with_channex_error_object(
    api: httpx.AsyncClient,
) -> None:
    for headers in ({"user-api-key": ""}, {"user-api-key": "wrong"}):
        response = await api.get("/properties", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"errors": {"code": "unauthorized", "title": "Unauthorized"}}
    bearer = await api.get(
        "/properties", headers={"user-api-key": "", "Authorization": "Bearer test-key"}
    )
    assert bearer.status_code == 401


async def test_create_answers_201_with_jsonapi_item_repeating_the_id(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/groups", json={"group": {"title": "Org 1"}})
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["type"] == "group"
    assert data["attributes"] == {"id": data["id"], "title": "Org 1"}
    assert data["relationships"] == {"properties": {"data": []}}


async def test_lists_return_10_items_unless_paginated(api: httpx.AsyncClient) -> None:
    for n in range(12):
        await created(api, "/groups", "group", {"title": f"Group {n:02d}"})
    first = (await api.get("/groups")).json()
    assert len(first["data"]) == 10
    assert first["meta"] == {"page": 1, "limit": 10, "total": 12}
    second = (await api.get("/groups", params={"pagination[page]": 2})).json()
    assert [g["attributes"]["title"] for g in second["data"]] == ["Group 10", "Group 11"]
    everything = (await api.get("/groups", params={"pagination[limit]": 100})).json()
    assert len(everything["data"]) == 12
    too_big = await api.get("/groups", params={"pagination[limit]": 101})
    assert too_big.status_code == 400
    assert too_big.json()["errors"]["code"] == "bad_request"


async def test_invalid_room_type_is_422_with_messages_per_field(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    body = {"property_id": hotel.property_id, "title": None, "count_of_rooms": 0, "occ_adults": 2}
    response = await api.post("/room_types", json={"room_type": body})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["code"] == "validation_error"
    assert errors["details"]["title"] == ["can't be blank"]
    assert errors["details"]["count_of_rooms"] == ["must be greater than or equal to 1"]
    assert errors["details"]["default_occupancy"] == ["can't be blank"]


async def test_unknown_ids_are_rejected(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    missing = await api.get("/room_types/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["errors"]["code"] == "resource_not_found"
    body = {
        "property_id": hotel.property_id,
        "room_type_id": "nope",
        "title": "Other",
        "options": [{"occupancy": 3, "rate": 100}],
    }
    response = await api.post("/rate_plans", json={"rate_plan": body})
    assert response.status_code == 422
    assert response.json()["errors"]["details"]["room_type_id"] == ["is invalid"]


async def test_property_group_association_follows_channex_rules(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    other = await created(api, "/groups", "group", {"title": "Second"})
    path = f"/groups/{other}/properties/{hotel.property_id}"
    assert (await api.post(path)).json() == {"meta": {"message": "Success"}}
    again = await api.post(path)
    assert again.status_code == 422
    assert "hotel_id" in again.json()["errors"]["details"]
    prop = (await api.get(f"/properties/{hotel.property_id}")).json()["data"]
    assert {g["id"] for g in prop["relationships"]["groups"]["data"]} == {hotel.group_id, other}
    assert (await api.delete(path)).status_code == 200
    last = await api.delete(f"/groups/{hotel.group_id}/properties/{hotel.property_id}")
    assert last.status_code == 400
    assert (await api.delete(f"/groups/{hotel.group_id}")).status_code == 400


async def test_property_without_group_goes_to_default_group_with_default_settings(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/properties", json={"property": {"title": "H", "currency": "EUR"}})
    data = response.json()["data"]
    assert data["attributes"]["settings"]["state_length"] == 500
    assert len(data["relationships"]["groups"]["data"]) == 1
    bad = await api.post("/properties", json={"property": {"title": "H", "currency": "EURO"}})
    assert bad.json()["errors"]["details"] == {"currency": ["is invalid"]}


async def test_rate_plan_reads_rates_as_decimal_strings(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    plan = (await api.get(f"/rate_plans/{hotel.rate_plan_id}")).json()["data"]
    assert plan["attributes"]["options"] == [{"occupancy": 2, "is_primary": True, "rate": "100.00"}]
    assert plan["relationships"]["room_type"]["data"]["id"] == hotel.room_type_id
    move = {"rate_plan": {"room_type_id": "another"}}
    response = await api.put(f"/rate_plans/{hotel.rate_plan_id}", json=move)
    assert response.status_code == 422


async def test_deleting_a_property_with_channels_needs_force(
    api: httpx.AsyncClient, tools: httpx.AsyncClient
) -> None:
    hotel = await make_hotel(api)
    await tools.post(f"/properties/{hotel.property_id}/channels", json={"channel": "Expedia"})
    response = await api.delete(f"/properties/{hotel.property_id}")
    assert response.status_code == 422
    assert response.json()["errors"]["details"] == {"property": ["has channel(s)"]}
    forced = await api.delete(f"/properties/{hotel.property_id}", params={"force": "true"})
    assert forced.status_code == 200


async def test_ids_of_the_wrong_type_are_invalid_not_server_errors(api: httpx.AsyncClient) -> None:
    room = {"property_id": ["x"], "title": "T", "count_of_rooms": 1, "occ_adults": 1}
    room |= {"occ_children": 0, "occ_infants": 0, "default_occupancy": 1}
    response = await api.post("/room_types", json={"room_type": room})
    assert response.json()["errors"]["details"] == {"property_id": ["is invalid"]}
    hook = {"property_id": {"id": 1}, "callback_url": "http://x/y", "event_mask": "*"}
    assert (await api.post("/webhooks", json={"webhook": hook})).status_code == 422
    value = {"property_id": [], "room_type_id": "r", "date": "2030-01-01", "availability": 1}
    answer = await api.post("/availability", json={"values": [value]})
    assert answer.status_code == 200
    assert answer.json()["meta"]["warnings"][0]["warning"] == {"property_id": ["is invalid"]}
