"""ARI writes and reads: warnings in a 200, partial updates, `days`, limits (channex-api.md §6)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.sandbox.app import create_sandbox_app, stop
from app.sandbox.config import SandboxConfig
from tests.factories import Hotel, day, make_hotel, make_webhook, today
from tests.sandbox.servers import Receiver


def rate_value(hotel: Hotel, **fields: Any) -> dict[str, Any]:
    return {"property_id": hotel.property_id, "rate_plan_id": hotel.rate_plan_id, **fields}


async def restrictions(api: httpx.AsyncClient, hotel: Hotel, first: int, last: int) -> Any:
    params = {
        "filter[property_id]": hotel.property_id,
        "filter[date][gte]": day(first),
        "filter[date][lte]": day(last),
        "filter[restrictions]": "rate,min_stay_arrival,stop_sell,closed_to_arrival",
    }
    response = await api.get("/restrictions", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"][hotel.rate_plan_id]


async def test_availability_write_answers_task_id_and_is_read_back(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    value = {"property_id": hotel.property_id, "room_type_id": hotel.room_type_id}
    body = {"values": [{**value, "date_from": day(0), "date_to": day(2), "availability": 4}]}
    response = await api.post("/availability", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["meta"] == {"message": "Success", "warnings": []}
    assert [task["type"] for task in answer["data"]] == ["task"]
    params = {"filter[property_id]": hotel.property_id, "filter[date][gte]": day(0)}
    read = await api.get("/availability", params={**params, "filter[date][lte]": day(3)})
    assert read.json()["data"] == {hotel.room_type_id: {day(0): 4, day(1): 4, day(2): 4, day(3): 0}}


async def test_past_null_and_beyond_horizon_values_are_warnings_in_a_200(
    api: httpx.AsyncClient,
) -> None:
    hotel = await make_hotel(api)
    values = [
        rate_value(hotel, date=day(-1), rate="120.00"),
        rate_value(hotel, date=day(1), rate="120.00", stop_sell=None),
        rate_value(hotel, date_from=day(1), date_to=day(500), rate="120.00"),
        rate_value(hotel, date=day(2), rate=0),
        rate_value(hotel, date=day(3), min_stay_arrival=0),
        rate_value(hotel, date=day(499), rate="130.00"),
    ]
    response = await api.post("/restrictions", json={"values": values})
    assert response.status_code == 200
    warnings = response.json()["meta"]["warnings"]
    assert [w["warning"] for w in warnings] == [
        {"date": ["can't be in the past"]},
        {"stop_sell": ["Should be a non null value or not existed field"]},
        {"date_to": ["is out of state length"]},
        {"rate": ["must be greater than 0"]},
        {"min_stay_arrival": ["must be greater than or equal to 1"]},
    ]
    assert warnings[0]["date"] == day(-1)  # the rejected value is echoed back
    assert len(response.json()["data"]) == 1  # the one valid value was applied


async def test_everything_rejected_is_200_with_empty_data(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    response = await api.post("/restrictions", json={"values": [rate_value(hotel, date=day(-3))]})
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert len(response.json()["meta"]["warnings"]) == 1


async def test_missing_values_is_400_with_details_list(api: httpx.AsyncClient) -> None:
    response = await api.post("/availability", json={"value": []})
    assert response.status_code == 400
    assert response.json()["errors"]["details"] == ["values is required"]


async def test_restrictions_update_only_the_fields_sent(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    first = rate_value(hotel, date_from=day(0), date_to=day(1), rate="150.00", min_stay_arrival=3)
    await api.post("/restrictions", json={"values": [first]})
    await api.post("/restrictions", json={"values": [rate_value(hotel, date=day(1), rate=16000)]})
    cells = await restrictions(api, hotel, 0, 2)
    assert cells[day(0)] == {
        "rate": "150.00", "min_stay_arrival": 3, "stop_sell": False, "closed_to_arrival": False,
    }  # fmt: skip
    assert cells[day(1)]["rate"] == "160.00"
    assert cells[day(1)]["min_stay_arrival"] == 3
    assert cells[day(2)]["rate"] == "100.00"  # the rate plan's default


async def test_restrictions_honour_the_days_filter_and_last_value_wins(
    api: httpx.AsyncClient,
) -> None:
    hotel = await make_hotel(api)
    values = [
        rate_value(hotel, date_from=day(0), date_to=day(13), rate="100.00", stop_sell=False),
        rate_value(hotel, date_from=day(0), date_to=day(13), days=["sa", "su"], stop_sell=True),
    ]
    await api.post("/restrictions", json={"values": values})
    cells = await restrictions(api, hotel, 0, 13)
    closed = {d for d, cell in cells.items() if cell["stop_sell"]}
    weekend = {day(n) for n in range(14) if (today().weekday() + n) % 7 >= 5}
    assert closed == weekend
    assert len(closed) == 4


async def test_restrictions_read_requires_the_restrictions_filter(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    params = {"filter[property_id]": hotel.property_id, "filter[date]": day(0)}
    response = await api.get("/restrictions", params=params)
    assert response.status_code == 400
    assert response.json()["errors"]["details"] == ["restrictions is required"]


async def test_sandbox_exposes_received_ari_and_counters(
    api: httpx.AsyncClient, tools: httpx.AsyncClient
) -> None:
    hotel = await make_hotel(api)
    values = [rate_value(hotel, date=day(1), rate="99.50"), rate_value(hotel, date=day(-1))]
    await api.post("/restrictions", json={"values": values})
    avail = {"property_id": hotel.property_id, "room_type_id": hotel.room_type_id}
    await api.post("/availability", json={"values": [{**avail, "date": day(1), "availability": 2}]})
    ari = (await tools.get("/ari", params={"property_id": hotel.property_id})).json()["data"]
    assert ari["availability"] == {hotel.room_type_id: {day(1): 2}}
    assert ari["restrictions"] == {hotel.rate_plan_id: {day(1): {"rate": "99.50"}}}
    stats = (await tools.get("/stats")).json()["data"]
    assert stats["POST /restrictions"] == {
        "requests": 1, "values": 2, "rejected_values": 1, "rate_limited": 0,
    }  # fmt: skip
    assert stats["POST /availability"]["values"] == 1


async def test_rate_limit_is_10_per_property_per_endpoint_in_a_rolling_minute() -> None:
    # 0.02: the minute lasts 1.2 s, long enough to send 11 requests, short enough to wait out.
    app = create_sandbox_app(SandboxConfig(api_key="k", time_scale=0.02))
    transport = httpx.ASGITransport(app=app)
    headers = {"user-api-key": "k"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://s/api/v1", headers=headers
    ) as api:
        hotel, other = await make_hotel(api, "One"), await make_hotel(api, "Two")
        body = {"values": [rate_value(hotel, date=day(1), rate="120.00")]}
        statuses = [(await api.post("/restrictions", json=body)).status_code for _ in range(11)]
        assert statuses == [200] * 10 + [429]
        limited = await api.post("/restrictions", json=body)
        assert limited.json() == {
            "errors": {"code": "http_too_many_requests", "title": "Too Many Requests"}
        }
        other_body = {"values": [rate_value(other, date=day(1), rate="120.00")]}
        assert (await api.post("/restrictions", json=other_body)).status_code == 200
        availability = {
            "values": [
                {
                    "property_id": hotel.property_id,
                    "room_type_id": hotel.room_type_id,
                    "date": day(1),
                    "availability": 1,
                }
            ]
        }
        assert (await api.post("/availability", json=availability)).status_code == 200
        await asyncio.sleep(1.25)
        assert (await api.post("/restrictions", json=body)).status_code == 200
    assert app.state.sandbox.counter("POST /restrictions").rate_limited == 2
    await stop(app)


async def test_ari_webhook_carries_the_cells_written_and_the_acting_user(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(api, hotel, receiver.url, event_mask="ari", is_active=True, send_data=True)
    value = rate_value(hotel, date_from=day(1), date_to=day(2), stop_sell=True)
    await api.post("/restrictions", json={"values": [value]})
    (delivery,) = await receiver.wait_for(1)
    assert delivery.body["event"] == "ari"
    assert delivery.body["user_id"] is not None  # an API change has an actor, unlike OTA events
    assert delivery.body["payload"] == [
        {"date": day(1), "rate_plan_id": hotel.rate_plan_id, "stop_sell": True},
        {"date": day(2), "rate_plan_id": hotel.rate_plan_id, "stop_sell": True},
    ]


async def test_concurrent_writes_are_all_applied(api: httpx.AsyncClient) -> None:
    hotel = await make_hotel(api)
    values = [rate_value(hotel, date=day(n), rate=f"{100 + n}.00") for n in range(10)]
    answers = await asyncio.gather(
        *(api.post("/restrictions", json={"values": [v]}) for v in values)
    )
    assert {a.status_code for a in answers} == {200}
    cells = await restrictions(api, hotel, 0, 9)
    assert [cells[day(n)]["rate"] for n in range(10)] == [f"{100 + n}.00" for n in range(10)]


async def test_unknown_paths_answer_in_channex_envelope(api: httpx.AsyncClient) -> None:
    response = await api.post("/ari", json={})
    assert response.status_code == 404
    assert response.json()["errors"]["code"] == "resource_not_found"


async def test_min_stay_and_per_occupancy_rates_follow_the_plan_and_property(
    api: httpx.AsyncClient,
) -> None:
    hotel = await make_hotel(api)
    values = [
        rate_value(hotel, date=day(1), min_stay=2),
        rate_value(hotel, date=day(1), rates=[{"occupancy": 2, "rate": "90.00"}]),
        rate_value(hotel, date=day(1), rates=[{"occupancy": 5, "rate": "90.00"}]),
    ]
    answer = (await api.post("/restrictions", json={"values": values})).json()
    assert [w["warning"] for w in answer["meta"]["warnings"]] == [
        {"min_stay": ["is invalid"]},  # min_stay_type is "both"
        {"rates": ["is invalid"]},  # no occupancy option 5
    ]
    settings = {"property": {"settings": {"min_stay_type": "arrival"}}}
    await api.put(f"/properties/{hotel.property_id}", json=settings)
    await api.post("/restrictions", json={"values": [values[0]]})
    assert (await restrictions(api, hotel, 1, 1))[day(1)]["min_stay_arrival"] == 2
