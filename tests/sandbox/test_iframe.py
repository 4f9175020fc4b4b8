"""The sandbox's channel iframe (channex-api.md §9.4): one-time tokens, single use and
15 minutes, tied to their property; the exchange page where a hotel picks an OTA and maps its
rate plans; the channel created inactive (`new_channel`), then approved (`activate_channel`)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.server import RedactTokens
from app.sandbox.state import SandboxState
from tests.factories import Hotel, created, make_hotel, make_webhook
from tests.sandbox.servers import Receiver

JSON = {"Accept": "application/json"}


@pytest.fixture
async def browser(sandbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The hotel's browser on the sandbox's root (its pages need no API key)."""
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def token_for(api: httpx.AsyncClient, property_id: str, **extra: str) -> str:
    body = {"one_time_token": {"property_id": property_id, "username": "hotel", **extra}}
    response = await api.post("/auth/one_time_token", json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["token"]
    return token


def exchange(token: str, property_id: str, **options: str) -> str:
    query = {"oauth_session_key": token, "app_mode": "headless", "redirect_to": "/channels",
             "property_id": property_id, **options}  # fmt: skip
    return "/auth/exchange?" + "&".join(f"{k}={v}" for k, v in query.items())


async def test_a_token_opens_the_page_once(
    api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    hotel = await make_hotel(api)
    token = await token_for(api, hotel.property_id)

    first = await browser.get(exchange(token, hotel.property_id))
    again = await browser.get(exchange(token, hotel.property_id))
    as_json = await browser.get(exchange(token, hotel.property_id), headers=JSON)

    assert first.status_code == 200, first.text
    assert '<form method="post" action="channels">' in first.text
    assert first.headers["cache-control"] == "no-store"
    assert again.status_code == 401
    assert "expired or was used already" in again.text
    assert as_json.status_code == 401
    assert as_json.json() == {"errors": {"code": "unauthorized", "title": "Unauthorized"}}


async def test_a_token_expires_after_15_minutes(
    api: httpx.AsyncClient, browser: httpx.AsyncClient, sandbox: SandboxState
) -> None:
    hotel = await make_hotel(api)
    fresh, late = await token_for(api, hotel.property_id), await token_for(api, hotel.property_id)
    made = sandbox.clock()
    sandbox.clock = lambda: made + timedelta(minutes=14, seconds=59)
    assert (await browser.get(exchange(fresh, hotel.property_id))).status_code == 200

    sandbox.clock = lambda: made + timedelta(minutes=15)
    response = await browser.get(exchange(late, hotel.property_id), headers=JSON)

    assert response.status_code == 401
    assert response.json()["errors"]["title"] == "Token expired"


async def test_a_token_opens_only_its_own_property(
    api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    hotel, other = await make_hotel(api, "One"), await make_hotel(api, "Two")
    token = await token_for(api, hotel.property_id)

    wrong = await browser.get(exchange(token, other.property_id))
    unknown = await browser.get(exchange("not-a-token", hotel.property_id))
    right = await browser.get(exchange(token, hotel.property_id))  # not spent by the wrong try

    assert (wrong.status_code, unknown.status_code, right.status_code) == (401, 401, 200)


async def test_tokens_need_a_known_property_its_group_and_a_key(
    api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    hotel, other = await make_hotel(api, "One"), await make_hotel(api, "Two")
    unknown = {"one_time_token": {"property_id": other.group_id, "username": "hotel"}}
    wrong_group = {"one_time_token": {"property_id": hotel.property_id, "username": "hotel",
                                      "group_id": other.group_id}}  # fmt: skip

    assert (await api.post("/auth/one_time_token", json=unknown)).json()["errors"]["details"] == {
        "property_id": ["is invalid"]
    }
    assert (await api.post("/auth/one_time_token", json=wrong_group)).status_code == 422
    assert (await api.post("/auth/one_time_token", json={})).status_code == 400
    keyless = await browser.post("/api/v1/auth/one_time_token", json=unknown)
    assert keyless.status_code == 401
    assert await token_for(api, hotel.property_id, group_id=hotel.group_id)


def form_field(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, f"no {name} in the page"
    return found.group(1)


async def open_form(api: httpx.AsyncClient, browser: httpx.AsyncClient, hotel: Hotel) -> str:
    token = await token_for(api, hotel.property_id)
    page = await browser.get(exchange(token, hotel.property_id, channels="BDC,ABB", lng="de"))
    assert page.status_code == 200, page.text
    return page.text


async def test_the_hotel_connects_an_ota_pending_then_approved_with_webhooks(
    api: httpx.AsyncClient, browser: httpx.AsyncClient, sandbox: SandboxState, receiver: Receiver
) -> None:
    hotel = await make_hotel(api)
    await make_webhook(api, hotel, receiver.url, event_mask="*", is_active=True, send_data=True)
    page = await open_form(api, browser, hotel)
    assert '<html lang="de">' in page
    offered = re.findall(r'name="channel" value="(\w+)"', page)
    assert offered == ["BookingCom", "AirBNB"]  # the PMS's filter, in its order
    session = form_field(page, "session")
    plan = hotel.rate_plan_id
    form = {"session": session, "channel": "BookingCom", "hotel_id": " 1234567 ",
            f"map:{plan}": "on", f"room_code:{plan}": "101",
            f"rate_code:{plan}": "BAR"}  # fmt: skip

    pending = await browser.post("/auth/channels", data=form)

    assert pending.status_code == 201, pending.text
    assert 'id="channel-state">pending<' in pending.text
    [channel] = sandbox.store.channels.values()
    assert channel.property_ids == [hotel.property_id]
    assert channel.attrs["is_active"] is False
    assert channel.attrs["settings"] == {"hotel_id": "1234567"}
    assert [(m["rate_plan_id"], m["settings"]) for m in channel.attrs["rate_plans"]] == [
        (plan, {"room_type_code": "101", "rate_plan_code": "BAR"})
    ]
    [created_event] = await receiver.wait_for(1)
    assert created_event.body["event"] == "new_channel"
    assert created_event.body["payload"]["channel_id"] == channel.id

    approve = {"session": session, "channel_id": form_field(pending.text, "channel_id")}
    live = await browser.post("/auth/channels/approve", data=approve)

    assert live.status_code == 200, live.text
    assert 'id="channel-state">live<' in live.text
    assert channel.attrs["is_active"] is True
    events = [r.body["event"] for r in await receiver.wait_for(2)]
    assert events == ["new_channel", "activate_channel"]
    listed = await api.get("/channels", params={"filter[property_id]": hotel.property_id})
    assert listed.json()["data"][0]["attributes"]["is_active"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": "Expedia"}, "Pick one of the OTAs offered."),
        ({"hotel_id": ""}, "Enter the hotel id at the OTA."),
        ({"map": None}, "Map at least one rate plan."),
        ({"rate_code": ""}, "Each mapped rate plan needs its OTA room code and rate code."),
    ],
)
async def test_a_form_with_a_mistake_is_shown_again_and_creates_nothing(
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    sandbox: SandboxState,
    change: dict[str, str | None],
    message: str,
) -> None:
    hotel = await make_hotel(api)
    page = await open_form(api, browser, hotel)
    plan = hotel.rate_plan_id
    form: dict[str, str | None] = {
        "session": form_field(page, "session"), "channel": "BookingCom", "hotel_id": "42",
        "map": "on", "room_code": "101", "rate_code": "BAR",
    }  # fmt: skip
    form.update(change)
    names = {
        "map": f"map:{plan}",
        "room_code": f"room_code:{plan}",
        "rate_code": f"rate_code:{plan}",
    }
    data = {names.get(k, k): v for k, v in form.items() if v is not None}

    response = await browser.post("/auth/channels", data=data)

    assert response.status_code == 422
    assert message in response.text
    assert form_field(response.text, "hotel_id") == data["hotel_id"]  # what was typed stays
    assert sandbox.store.channels == {}


async def test_a_form_without_a_session_is_refused(
    api: httpx.AsyncClient, browser: httpx.AsyncClient, sandbox: SandboxState
) -> None:
    hotel = await make_hotel(api)
    second = await created(api, "/rate_plans", "rate_plan", {
        "property_id": hotel.property_id, "room_type_id": hotel.room_type_id, "title": "Flex",
        "options": [{"occupancy": 2, "is_primary": True, "rate": 12000}]})  # fmt: skip
    page = await open_form(api, browser, hotel)
    assert f'name="map:{second}"' in page  # every rate plan of the property is offered

    forged = {"session": "guessed", "channel": "BookingCom", "hotel_id": "42"}
    response = await browser.post("/auth/channels", data=forged)
    approve = await browser.post("/auth/channels/approve", data={"session": "guessed"})

    assert (response.status_code, approve.status_code) == (401, 401)
    assert sandbox.store.channels == {}


def test_the_standalone_sandbox_s_access_log_masks_the_token() -> None:
    # uvicorn's access line: client, method, full path with query, HTTP version, status.
    path = "/auth/exchange?oauth_session_key=s3cr3t-Token_x&app_mode=headless&property_id=p"
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200), None,
    )  # fmt: skip

    assert RedactTokens().filter(record)

    line = record.getMessage()
    assert "s3cr3t" not in line
    assert "oauth_session_key=[redacted]&app_mode=headless&property_id=p" in line
