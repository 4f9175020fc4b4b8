"""The deliveries page and its 'retry now' action, and the webhook inbox page with what
became of each event."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import respx
from fastapi import FastAPI

from app.console.inbox import led_to
from app.db import utcnow
from app.models import WebhookEvent
from tests.api.test_bookings import PMS_URL, book, configure_endpoint
from tests.api.test_webhooks import ids, post_booking, resources, settle
from tests.booking_fakes import ChannexBookings
from tests.console.conftest import csrf_of, log_in
from tests.factories import onboard
from tests.fake_channex import FakeChannex


def row_of(html: str, attribute: str, value: object) -> str:
    found = re.search(rf'{attribute}="{value}".*?</tr>', html, re.S)
    assert found is not None, html
    return found.group(0)


def cell(row: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</td>', row, re.S)
    assert found is not None, row
    return " ".join(found.group(1).split())


async def test_retry_now_sends_a_backed_off_delivery_at_once_and_needs_csrf(
    app: FastAPI,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    await onboard(client)
    await configure_endpoint(client)
    # The PMS is down and asks for an hour: the delivery waits, left to the sweep.
    pms = router.post(PMS_URL).respond(503, headers={"Retry-After": "3600"})
    revision_id = await book(client, channex, bookings)
    await settle(app)
    assert pms.call_count == 1

    await log_in(browser)
    page = (await browser.get("/console/deliveries")).text
    row = row_of(page, "data-endpoint-id", 1)
    assert (cell(row, "pending"), cell(row, "failed"), cell(row, "delivered")) == ("1", "0", "0")
    assert cell(row, "endpoint-state").startswith("failing since ")
    oldest = cell(row, "oldest-pending")
    assert f"revision {revision_id}" in oldest
    assert "1 attempt(s)" in oldest
    assert 'data-testid="retry-now"' in row
    action = "/console/deliveries/endpoints/1/retry"

    pms.respond(204)
    for data in ({}, {"csrf": "forged"}):
        assert (await browser.post(action, data=data)).status_code == 403
    await settle(app)
    assert pms.call_count == 1  # a refused action sends nothing

    done = await browser.post(action, data={"csrf": csrf_of(page)})
    assert done.status_code == 303
    await settle(app)
    assert pms.call_count == 2
    after = (await browser.get(done.headers["location"])).text
    assert "Endpoint 1: 1 booking(s) with pending deliveries queued now." in after
    row = row_of(after, "data-endpoint-id", 1)
    assert (cell(row, "pending"), cell(row, "delivered")) == ("0", "1")
    assert cell(row, "endpoint-state") == "ok"
    assert cell(row, "oldest-pending") == "—"
    assert 'data-testid="retry-now"' not in row  # nothing left to retry


async def test_retry_now_leaves_a_disabled_endpoint_disabled(
    app: FastAPI,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
    router: respx.MockRouter,
) -> None:
    await onboard(client)
    await configure_endpoint(client)
    pms = router.post(PMS_URL).respond(410)
    await book(client, channex, bookings)
    await settle(app)
    await log_in(browser)
    page = (await browser.get("/console/deliveries")).text
    row = row_of(page, "data-endpoint-id", 1)
    assert "disabled" in cell(row, "endpoint-state")
    assert 'data-testid="retry-now"' not in row
    answer = await browser.post(
        "/console/deliveries/endpoints/1/retry", data={"csrf": csrf_of(page)}
    )
    await settle(app)
    assert pms.call_count == 1
    flash = (await browser.get(answer.headers["location"])).text
    assert "Retry of endpoint 1 refused: the PMS answered 410 Gone" in flash
    unknown = await browser.post(
        "/console/deliveries/endpoints/999/retry", data={"csrf": csrf_of(page)}
    )
    assert (
        "PMS endpoint &#39;999&#39; does not exist"
        in (await browser.get(unknown.headers["location"])).text
    )


async def test_the_inbox_shows_what_became_of_each_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    good = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=1)
    bad = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=2)
    bookings.revisions[bad]["status"] = "exploded"  # Channex serves it malformed
    await post_booking(client, prop, good, bookings.booking_of(good))
    await post_booking(client, prop, bad, bookings.booking_of(bad))
    await settle(app)
    async with resources(app).session_factory() as session:
        waiting = WebhookEvent(
            dedup_key="waiting", event="booking", channex_property_id=prop,
            channex_revision_id="r-later", body="{}", status="pending",
            received_at=utcnow() + timedelta(seconds=1),
        )  # fmt: skip
        session.add(waiting)
        await session.commit()
        waiting_id = waiting.id

    await log_in(browser)
    page = (await browser.get("/console/inbox")).text
    assert "3 events, page 1 of 1" in page
    stored = row_of(page, "data-event-id", 1)
    assert cell(stored, "event-state") == "processed (done)"
    assert cell(stored, "led-to") == (
        f"revision stored for booking {bookings.booking_of(good)} (sequence 1)"
    )
    assert ">p-1</a>" in stored  # our property, linked
    quarantined = row_of(page, "data-event-id", 2)
    assert cell(quarantined, "event-state") == "failed"
    assert "quarantined:" in cell(quarantined, "led-to")
    assert "still in quarantine" in cell(quarantined, "led-to")
    pending = row_of(page, "data-event-id", waiting_id)
    assert cell(pending, "event-state") == "pending"
    assert cell(pending, "led-to") == "waiting to be processed"
    assert page.index(f'data-event-id="{waiting_id}"') < page.index('data-event-id="1"')

    failed = (await browser.get("/console/inbox", params={"state": "failed"})).text
    assert "1 events, page 1 of 1" in failed
    assert 'data-event-id="2"' in failed
    assert 'data-event-id="1"' not in failed


def event(name: str, status: str, note: str | None = None) -> WebhookEvent:
    return WebhookEvent(event=name, status=status, note=note)


def test_what_an_event_led_to_is_said_by_its_kind_and_its_rows() -> None:
    assert led_to(event("activate_channel", "done"), "p-1", None, None, None, None) == (
        "channel rows of p-1 updated"
    )
    assert led_to(event("ari", "done"), "p-1", None, None, None, None) == (
        "drift check of p-1 asked for the dates Channex named"
    )
    assert led_to(
        event("review", "ignored", "event not handled"), None, None, None, None, None
    ) == ("event not handled")
    stale = led_to(event("booking", "done"), "p-1", None, "b-1", None, None)
    assert stale == "revision stored for booking b-1 (stale, kept)"
    reapplied = led_to(event("booking", "failed", "revision quarantined"), None, 2, "b-1",
                       "Channex served it malformed", utcnow())  # fmt: skip
    assert reapplied == (
        "revision stored for booking b-1 (sequence 2); quarantined: Channex served it malformed"
        " (re-applied since); revision quarantined"
    )
