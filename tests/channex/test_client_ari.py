"""ChannexClient ARI calls: endpoints, bodies, task ids, warnings and the limiter (§6)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
import respx

from app.channex.ari_wire import AriMessage, ari_messages
from app.channex.client import ChannexClient
from app.channex.errors import ChannexRateLimitedError
from app.domain.ari import AriRun
from tests.channex.fakes import BASE_URL, RecordedSleeps, ScriptedLimiter, payload
from tests.channex.items import has_null, sent_json

PROPERTY_ID = "716305c4-561a-4561-a187-7f5b8aeb5920"
RATE_PLAN_ID = "bab451e7-9ab1-4cc4-aa16-107bf7bbabb2"
DAY = date(2031, 1, 1)


def availability() -> AriMessage:
    run = AriRun("rt1", DAY, date(2031, 1, 5), None, (("availability", 4),))
    [message] = ari_messages("availability", PROPERTY_ID, [run])
    return message


def rate_only() -> AriMessage:
    [message] = ari_messages(
        "restrictions", PROPERTY_ID, [AriRun(RATE_PLAN_ID, DAY, DAY, None, (("rate", "120.00"),))]
    )
    return message


async def test_push_availability_posts_values_and_reads_task_ids(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    route = api.post("/availability").respond(json=payload("ari_push"))

    result = await client.push_ari(availability())

    assert sent_json(route.calls.last.request) == {
        "values": [
            {
                "property_id": PROPERTY_ID,
                "room_type_id": "rt1",
                "date_from": "2031-01-01",
                "date_to": "2031-01-05",
                "availability": 4,
            }
        ]
    }
    assert result.task_ids == ["76f5b5a2-3b5e-4c8f-9a56-0a8f2c4b1e01"]
    assert result.warnings[0]["warning"] == {
        "min_stay_arrival": ["must be greater than or equal to 1"]
    }
    assert limiter.acquires == [(PROPERTY_ID, "availability")]


async def test_push_restrictions_sends_only_the_fields_set(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    route = api.post("/restrictions").respond(
        json={
            "data": [{"id": "t1", "type": "task"}],
            "meta": {"message": "Success", "warnings": []},
        }
    )

    result = await client.push_ari(rate_only())

    body = sent_json(route.calls.last.request)
    assert body == {
        "values": [
            {
                "property_id": PROPERTY_ID,
                "rate_plan_id": RATE_PLAN_ID,
                "date_from": "2031-01-01",
                "date_to": "2031-01-01",
                "rate": "120.00",
            }
        ]
    }
    assert not has_null(body)
    assert (result.task_ids, result.warnings) == (["t1"], [])
    assert limiter.acquires == [(PROPERTY_ID, "restrictions")]


async def test_push_without_tasks_in_the_answer_gives_an_empty_result(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    api.post("/availability").respond(json={"meta": {"message": "Success"}})

    result = await client.push_ari(availability())

    assert (result.task_ids, result.warnings) == ([], [])


async def test_a_message_is_sent_as_built_and_counted_for_its_property(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    # The limiter counts per property, so a request carries one property's values (§6.5).
    route = api.post("/availability").respond(json=payload("ari_push"))
    message = availability()

    await client.push_ari(message)

    request = route.calls.last.request
    assert request.content == message.body
    assert request.headers["content-type"] == "application/json"
    assert {v["property_id"] for v in sent_json(request)["values"]} == {PROPERTY_ID}
    assert limiter.acquires == [(PROPERTY_ID, "availability")]


async def test_limiter_wait_on_ari_raises_without_sending_or_sleeping(
    sleeps: RecordedSleeps,
) -> None:
    limiter = ScriptedLimiter(4.5)
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        route = api.post("/availability").respond(json=payload("ari_push"))
        async with ChannexClient(
            base_url=BASE_URL, api_key="k", limiter=limiter, sleep=sleeps
        ) as client:
            with pytest.raises(ChannexRateLimitedError) as caught:
                await client.push_ari(availability())

    assert (caught.value.retry_after, caught.value.property_id) == (4.5, PROPERTY_ID)
    assert caught.value.status is None
    assert not route.called
    assert sleeps.delays == []


async def test_each_retry_of_an_ari_call_acquires_again(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    route = api.post("/restrictions").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=payload("ari_push"))]
    )

    await client.push_ari(rate_only())

    assert route.call_count == 2
    assert limiter.acquires == [(PROPERTY_ID, "restrictions")] * 2


async def test_get_availability_filters_dates_and_parses_the_grid(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    params = {
        "filter[property_id]": PROPERTY_ID,
        "filter[date][gte]": "2031-01-01",
        "filter[date][lte]": "2031-01-02",
    }
    api.get("/availability", params=params).respond(
        json={"data": {"rt1": {"2031-01-01": 3, "2031-01-02": 0}}}
    )

    grid = await client.get_availability(PROPERTY_ID, DAY, date(2031, 1, 2))

    assert grid == {"rt1": {DAY: 3, date(2031, 1, 2): 0}}
    assert limiter.acquires == [(PROPERTY_ID, "availability")]


async def test_get_restrictions_names_the_restrictions_it_wants(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    route = api.get("/restrictions").respond(
        json={"data": {RATE_PLAN_ID: {"2031-01-01": {"rate": "120.00", "min_stay_arrival": 2}}}}
    )

    grid = await client.get_restrictions(PROPERTY_ID, DAY, DAY, ["rate", "min_stay_arrival"])

    params = route.calls.last.request.url.params
    assert params["filter[restrictions]"] == "rate,min_stay_arrival"
    assert params["filter[property_id]"] == PROPERTY_ID
    assert grid == {RATE_PLAN_ID: {DAY: {"rate": "120.00", "min_stay_arrival": 2}}}
    assert limiter.acquires == [(PROPERTY_ID, "restrictions")]


async def test_get_restrictions_requires_at_least_one_name(client: ChannexClient) -> None:
    with pytest.raises(ValueError, match="restriction"):
        await client.get_restrictions(PROPERTY_ID, DAY, DAY, [])


async def test_onboarding_sleeps_through_short_limiter_waits(sleeps: RecordedSleeps) -> None:
    limiter = ScriptedLimiter(0.5, 1.0)
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.get("/webhooks").respond(json={"data": [], "meta": {"total": 0}})
        async with ChannexClient(
            base_url=BASE_URL, api_key="k", limiter=limiter, sleep=sleeps
        ) as client:
            assert await client.list_webhooks() == []

    assert sleeps.delays == [0.5, 1.0]
    assert route.call_count == 1
    assert limiter.acquires == [(None, None)] * 3


async def test_onboarding_raises_when_the_limiter_wait_would_be_too_long(
    sleeps: RecordedSleeps,
) -> None:
    limiter = ScriptedLimiter(1.5, 1.0)
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        route = api.get("/webhooks").respond(json={"data": []})
        async with ChannexClient(
            base_url=BASE_URL, api_key="k", limiter=limiter, sleep=sleeps, max_limiter_wait=2.0
        ) as client:
            with pytest.raises(ChannexRateLimitedError) as caught:
                await client.list_webhooks()

    assert (caught.value.retry_after, caught.value.property_id) == (1.0, None)
    assert sleeps.delays == [1.5]
    assert not route.called
