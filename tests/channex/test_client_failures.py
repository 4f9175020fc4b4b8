"""ChannexClient failure handling: retries on transient errors only, 429 cooldowns, typed errors."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from app.channex.ari_wire import AriMessage, ari_messages
from app.channex.client import ChannexClient
from app.channex.errors import (
    ChannexAuthError,
    ChannexBadRequestError,
    ChannexNotFoundError,
    ChannexRateLimitedError,
    ChannexUnavailableError,
    ChannexValidationError,
)
from app.channex.ratelimit import MemoryRateLimiter
from app.domain.ari import AriRun
from tests.channex.fakes import (
    API_KEY,
    BASE_URL,
    FakeClock,
    RecordedSleeps,
    ScriptedLimiter,
    payload,
)
from tests.factories import channex_item

PROPERTY_ID = "p1"
DAY = date(2031, 1, 1)
GROUP = {"data": channex_item("group", "g-1", title="Org")}


def availability() -> AriMessage:
    run = AriRun("rt1", DAY, DAY, None, (("availability", 1),))
    [message] = ari_messages("availability", PROPERTY_ID, [run])
    return message


def rate() -> AriMessage:
    run = AriRun("rp1", DAY, DAY, None, (("rate", "99.00"),))
    [message] = ari_messages("restrictions", PROPERTY_ID, [run])
    return message


async def test_503_then_200_is_retried_with_a_short_backoff(
    api: respx.MockRouter, client: ChannexClient, sleeps: RecordedSleeps
) -> None:
    route = api.get("/groups/g-1").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=GROUP)]
    )

    assert (await client.get_group("g-1")).id == "g-1"
    assert route.call_count == 2
    assert len(sleeps.delays) == 1
    assert 0 <= sleeps.delays[0] <= 8


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_persistent_5xx_gives_unavailable_after_max_attempts(
    api: respx.MockRouter, client: ChannexClient, status: int
) -> None:
    route = api.get("/groups/g-1").respond(status)

    with pytest.raises(ChannexUnavailableError) as caught:
        await client.get_group("g-1")

    assert route.call_count == 3  # the client fixture's max_attempts
    assert caught.value.status == status


async def test_timeouts_give_unavailable_after_max_attempts(
    api: respx.MockRouter, client: ChannexClient, sleeps: RecordedSleeps
) -> None:
    route = api.get("/groups/g-1").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(ChannexUnavailableError) as caught:
        await client.get_group("g-1")

    assert route.call_count == 3
    assert len(sleeps.delays) == 2
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


async def test_connect_error_then_success_is_retried(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.get("/groups/g-1").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=GROUP)]
    )

    assert (await client.get_group("g-1")).title == "Org"
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("slow"), httpx.Response(503), httpx.Response(500)]
)
async def test_a_create_that_may_have_landed_is_not_sent_twice(
    api: respx.MockRouter, client: ChannexClient, failure: httpx.Response | Exception
) -> None:
    # A timeout or a 5xx after the POST was sent may have created the group: a second POST
    # would make a twin, so the error goes to the caller, whose next try looks for it first.
    route = api.post("/groups").mock(side_effect=[failure, httpx.Response(201, json=GROUP)])

    with pytest.raises(ChannexUnavailableError):
        await client.create_group("Org")

    assert route.call_count == 1


async def test_a_create_that_never_reached_channex_is_retried(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.post("/groups").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json=GROUP)]
    )

    assert (await client.create_group("Org")).id == "g-1"
    assert route.call_count == 2


async def test_an_update_is_retried_after_a_timeout(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.put("/groups/g-1").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=GROUP)]
    )

    assert (await client.update_group("g-1", "Org")).title == "Org"
    assert route.call_count == 2


async def test_422_is_not_retried_and_names_the_rejected_fields(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    route = api.post("/groups").respond(422, json=payload("error_422"))

    with pytest.raises(ChannexValidationError) as caught:
        await client.create_group("")

    assert route.call_count == 1
    assert caught.value.status == 422
    assert caught.value.details == {"title": ["can't be blank"], "currency": ["is invalid"]}


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ChannexBadRequestError),
        (401, ChannexAuthError),
        (403, ChannexAuthError),
        (404, ChannexNotFoundError),
        (501, ChannexUnavailableError),
    ],
)
async def test_other_errors_are_not_retried(
    api: respx.MockRouter, client: ChannexClient, status: int, error: type[Exception]
) -> None:
    route = api.get("/groups/g-1").respond(status, json={"errors": {"code": "x", "title": "Nope"}})

    with pytest.raises(error, match="Nope"):
        await client.get_group("g-1")

    assert route.call_count == 1


async def test_404_with_an_html_body_is_still_typed(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    api.get("/groups/g-1").respond(404, text="<html>Not Found</html>")

    with pytest.raises(ChannexNotFoundError) as caught:
        await client.get_group("g-1")

    assert caught.value.code == "resource_not_found"


async def test_429_on_ari_starts_a_property_cooldown_and_is_not_retried(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    route = api.post("/availability").respond(
        429, json={"errors": {"code": "http_too_many_requests", "title": "Too Many Requests"}}
    )

    with pytest.raises(ChannexRateLimitedError) as caught:
        await client.push_ari(availability())

    assert route.call_count == 1
    assert limiter.cooldowns == [(PROPERTY_ID, 60.0)]
    assert (caught.value.retry_after, caught.value.property_id) == (60.0, PROPERTY_ID)
    assert (caught.value.status, caught.value.code) == (429, "http_too_many_requests")


async def test_429_honours_a_longer_retry_after(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    api.post("/restrictions").respond(429, headers={"Retry-After": "120"})

    with pytest.raises(ChannexRateLimitedError) as caught:
        await client.push_ari(rate())

    assert caught.value.retry_after == 120.0
    assert limiter.cooldowns == [(PROPERTY_ID, 120.0)]


async def test_429_outside_ari_raises_without_a_property_cooldown(
    api: respx.MockRouter, client: ChannexClient, limiter: ScriptedLimiter
) -> None:
    route = api.get("/groups/g-1").respond(429, headers={"Retry-After": "5"})

    with pytest.raises(ChannexRateLimitedError) as caught:
        await client.get_group("g-1")

    assert route.call_count == 1
    assert (caught.value.retry_after, caught.value.property_id) == (60.0, None)
    assert limiter.cooldowns == []


async def test_after_a_429_the_next_ari_call_waits_without_sending(
    sleeps: RecordedSleeps,
) -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as api:
        availability_route = api.post("/availability").respond(429)
        restrictions_route = api.post("/restrictions").respond(json={"data": []})
        async with ChannexClient(
            base_url=BASE_URL, api_key=API_KEY, limiter=limiter, sleep=sleeps
        ) as client:
            with pytest.raises(ChannexRateLimitedError):
                await client.push_ari(availability())
            clock.advance(10)
            with pytest.raises(ChannexRateLimitedError) as caught:
                await client.push_ari(rate())
            clock.advance(50)
            await client.push_ari(rate())

    assert caught.value.retry_after == pytest.approx(50)
    assert availability_route.call_count == 1
    assert restrictions_route.call_count == 1


async def test_the_api_key_never_reaches_the_logs(
    api: respx.MockRouter, client: ChannexClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.get("/groups/g-1").mock(side_effect=[httpx.Response(503), httpx.Response(200, json=GROUP)])

    with caplog.at_level(logging.DEBUG):
        await client.get_group("g-1")

    assert caplog.records
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(r.__dict__) for r in caplog.records)


async def test_429_reads_retry_after_given_as_an_http_date(
    api: respx.MockRouter, client: ChannexClient
) -> None:
    later = datetime.now(UTC) + timedelta(seconds=300)
    api.post("/availability").respond(429, headers={"Retry-After": format_datetime(later, True)})

    with pytest.raises(ChannexRateLimitedError) as caught:
        await client.push_ari(availability())

    assert caught.value.retry_after == pytest.approx(300, abs=2)


async def test_an_ari_retry_the_spacing_forbids_becomes_a_rate_limit_not_a_wait(
    sleeps: RecordedSleeps,
) -> None:
    limiter = MemoryRateLimiter(clock=FakeClock())
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/availability").respond(503)
        async with ChannexClient(
            base_url=BASE_URL, api_key=API_KEY, limiter=limiter, sleep=sleeps
        ) as client:
            with pytest.raises(ChannexRateLimitedError) as caught:
                await client.push_ari(availability())

    # The backoff sleep is not real time on the fake clock, so the whole spacing remains.
    assert caught.value.retry_after == pytest.approx(limiter.spacing_seconds)
    assert route.call_count == 1
