"""The hotel connects Booking.com as it would click it (issue 15): in a real Chromium, the
PMS's page embeds the session URL channel-sync answered, the hotel picks Booking.com in the
sandbox's channel iframe, enters its hotel id, maps the room and connects; the API lists the
channel pending, the hotel approves, the API lists it live. Then a guest books on that
channel and the booking reaches the PMS's endpoint, signed. Screenshots of every step land in
tests/artifacts/test_a_hotel_connects_booking_com_in_the_iframe_and_its_bookings_arrive*/."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from html import escape

import httpx
from playwright.async_api import Page, expect
from standardwebhooks.webhooks import Webhook

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from app.services.delivery import new_secret
from tests.browser import BROWSER_MARKS, Shots
from tests.conftest import FAST_RATE_LIMIT_PER_MINUTE
from tests.e2e.live import live_service
from tests.factories import book_in_sandbox, onboard_property
from tests.sandbox.servers import Receiver, serve
from tests.waiting import eventually

pytestmark = BROWSER_MARKS

SANDBOX_KEY = "channel-connect-sandbox-key"
DEADLINE_SECONDS = 30.0  # a hang guard; each wait takes a second or two


async def poll(check: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    try:
        await eventually(check, DEADLINE_SECONDS, poll=0.2)
    except TimeoutError:
        raise AssertionError(f"not within {DEADLINE_SECONDS} s: {what}") from None


async def listed(api: httpx.AsyncClient) -> list[tuple[str, bool]]:
    """The property's channels as the PMS sees them: (OTA code, is_active)."""
    response = await api.get("/v1/properties/p-1/channels")
    assert response.status_code == 200, response.text
    return [(c["channel"], c["is_active"]) for c in response.json()]


async def test_a_hotel_connects_booking_com_in_the_iframe_and_its_bookings_arrive(
    database_url: str, browser_page: tuple[Page, Shots]
) -> None:
    page, shots = browser_page
    sandbox = create_sandbox_app(
        SandboxConfig(api_key=SANDBOX_KEY, rate_limit_per_minute=FAST_RATE_LIMIT_PER_MINUTE)
    )
    state: SandboxState = sandbox.state.sandbox
    receiver = Receiver()
    secret = new_secret()
    async with (
        serve(sandbox) as sandbox_url,
        serve(receiver.app()) as pms_url,
        live_service(
            database_url, sandbox_url, SANDBOX_KEY,
            pms_delivery_url=f"{pms_url}/hook", pms_delivery_secret=secret,
        ) as (api, tools),
    ):  # fmt: skip
        hotel = await onboard_property(api, "org-1", "p-1")
        await poll(lambda: len(state.store.webhooks) == 1, "channel-sync's webhook registered")

        # 1. the PMS asks for a session: Booking.com or Expedia, availability read-only
        options = {"channels": ["BDC", "EXP"], "language": "en", "read_only_availability": True}
        response = await api.post("/v1/properties/p-1/channels/session", json=options)
        assert response.status_code == 201, response.text
        url = response.json()["url"]
        assert url.startswith(f"{sandbox_url}/auth/exchange?oauth_session_key=")

        # 2. the PMS's page embeds it; the hotel fills the form inside the iframe
        await page.set_content(
            "<!doctype html><title>PMS: channels</title><h1>Connect your OTAs</h1>"
            f'<iframe title="Channex" src="{escape(url)}" width="1100" height="720"></iframe>'
        )
        frame = page.frame_locator("iframe")
        await expect(frame.get_by_role("heading", name="Connect a channel")).to_be_visible()
        await expect(frame.get_by_text("read only here")).to_be_visible()
        assert await frame.get_by_role("radio").count() == 2  # Booking.com and Expedia only
        await shots.take("form")
        await frame.get_by_label("Booking.com").check()
        await frame.get_by_label("Hotel id at the OTA").fill("1234567")
        plan = "Double / Best Available Rate"
        await frame.get_by_label(f"map {plan}").check()
        await frame.get_by_label(f"OTA room code of {plan}").fill("123456701")
        await frame.get_by_label(f"OTA rate code of {plan}").fill("BAR")
        await shots.take("form-filled")
        await frame.get_by_role("button", name="Connect").click()

        # 3. pending in Channex: the API lists the channel, not active
        await expect(frame.locator("#channel-state")).to_have_text("pending")
        await shots.take("pending")

        async def pending() -> bool:
            return await listed(api) == [("BookingCom", False)]

        await poll(pending, "the channel listed pending")
        [channel] = state.store.channels.values()
        assert channel.attrs["settings"] == {"hotel_id": "1234567"}
        [mapping] = channel.attrs["rate_plans"]
        assert mapping["rate_plan_id"] == hotel.channex_rate_plan_id

        # 4. the hotel approves Channex at Booking.com: live
        await frame.get_by_role("button", name="Approve").click()
        await expect(frame.locator("#channel-state")).to_have_text("live")
        await shots.take("live")

        async def live() -> bool:
            return await listed(api) == [("BookingCom", True)]

        await poll(live, "the channel listed live")

        # 5. the link was for one use: opening it again is refused
        again = await page.context.new_page()
        refused = await again.goto(url)
        assert refused is not None
        assert refused.status == 401
        await expect(again.get_by_text("expired or was used already")).to_be_visible()
        await again.close()

        # 6. a guest books on Booking.com: the booking reaches the PMS, signed
        booked = await book_in_sandbox(tools, hotel, arrival=10)
        await receiver.wait_for(1, seconds=DEADLINE_SECONDS)
        [received] = receiver.received
        raw = json.dumps(received.body, separators=(",", ":"))
        delivery = Webhook(secret).verify(raw, received.headers)
        assert delivery["data"]["booking_id"] == booked["booking_id"]
        assert delivery["data"]["id"] == booked["revision_id"]
        assert delivery["data"]["property_id"] == "p-1"
    assert [p.name for p in shots.taken] == [
        "01-form.png", "02-form-filled.png", "03-pending.png", "04-live.png",
    ]  # fmt: skip
