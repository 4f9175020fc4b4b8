"""The operator console over HTTP: login, session cookie, CSRF, overview, quarantine."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from app.models import QuarantinedRevision
from app.settings import Settings
from tests.api.test_feed_quarantine import reconcile
from tests.api.test_webhooks import count, ids
from tests.booking_fakes import ChannexBookings
from tests.conftest import GLOBAL_KEY, ORG1_KEY
from tests.console.conftest import csrf_of, log_in
from tests.factories import onboard
from tests.fake_channex import FakeChannex


async def test_only_an_operator_key_logs_in(browser: httpx.AsyncClient) -> None:
    for key in ("wrong", ORG1_KEY, GLOBAL_KEY):  # a plain global API key is no operator
        refused = await log_in(browser, key)
        assert refused.status_code == 401, key
        assert "console_session" not in refused.cookies
    accepted = await log_in(browser)
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/console/"
    cookie = accepted.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=28800" in cookie
    assert "secure" not in cookie  # served over http here; over https it is Secure


async def test_pages_need_a_session_and_a_forged_cookie_is_none(
    browser: httpx.AsyncClient,
) -> None:
    for path in ("/console/", "/console/bookings"):
        answer = await browser.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/login"
    browser.cookies.set("console_session", "eyJvIjoib3BzIn0.deadbeef", path="/console")
    assert (await browser.get("/console/")).status_code == 303
    await log_in(browser)
    assert (await browser.get("/console/")).status_code == 200


async def test_a_post_without_the_right_csrf_token_is_refused(browser: httpx.AsyncClient) -> None:
    await log_in(browser)
    page = await browser.get("/console/")
    token = csrf_of(page.text)
    for data in ({}, {"csrf": "not-the-token"}):
        refused = await browser.post("/console/logout", data=data)
        assert refused.status_code == 403
        assert (await browser.get("/console/")).status_code == 200  # still logged in
    out = await browser.post("/console/logout", data={"csrf": token})
    assert out.status_code == 303
    assert (await browser.get("/console/")).status_code == 303


async def test_the_overview_lists_and_finds_an_onboarded_property(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    await onboard(client)
    await log_in(browser)
    page = await browser.get("/console/")
    assert page.status_code == 200
    assert ">p-1</a></td>" in page.text
    assert '<tr class="state-synced" ' in page.text  # onboarded into the fake Channex
    assert "1 properties" in page.text
    found = await browser.get("/console/", params={"q": "SEASIDE"})
    assert ">p-1</a></td>" in found.text
    missed = await browser.get("/console/", params={"q": "no-such-thing"})
    assert "No property found." in missed.text
    assert "0 properties" in missed.text


async def test_a_quarantined_revision_is_reapplied_by_the_form(
    app: FastAPI,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    channex: FakeChannex,
    bookings: ChannexBookings,
) -> None:
    await onboard(client)
    prop, room, rate = ids(channex)
    bad = bookings.add(prop, room_type_id=room, rate_plan_id=rate, minutes=1, guest="G1")
    bookings.revisions[bad]["status"] = "exploded"
    await reconcile(app)
    await log_in(browser)
    page = await browser.get("/console/bookings")
    assert bad in page.text
    token = csrf_of(page.text)
    action = f"/console/bookings/quarantine/{bad}/reapply"

    forged = await browser.post(action, data={"csrf": "forged"})
    assert forged.status_code == 403
    assert bad in (await browser.get("/console/bookings")).text

    still = await browser.post(action, data={"csrf": token})  # Channex still serves it bad
    assert still.status_code == 303
    assert f"Re-apply of {bad} failed" in (await browser.get(still.headers["location"])).text

    bookings.revisions[bad]["status"] = "new"
    done = await browser.post(action, data={"csrf": token})
    assert done.status_code == 303
    after = await browser.get(done.headers["location"])
    assert f"Revision {bad} re-applied." in after.text
    assert "Nothing in quarantine." in after.text
    assert await count(app, QuarantinedRevision) == 1  # resolved, kept for the record
    feed = (await client.get("/v1/bookings/revisions")).json()["items"]
    assert [i["id"] for i in feed] == [bad]


async def test_failed_logins_count_in_the_api_throttle(
    settings: Settings, browser: httpx.AsyncClient
) -> None:
    for _ in range(settings.auth_failures_per_minute):
        assert (await log_in(browser, "guess")).status_code == 401
    assert (await log_in(browser)).status_code == 429  # even the right key waits now
    api = await browser.get("/v1/organizations", headers={"X-API-Key": GLOBAL_KEY})
    assert api.status_code == 429  # one counter for the API and the console


async def test_a_replay_of_an_unknown_revision_comes_back_as_a_flash(
    browser: httpx.AsyncClient,
) -> None:
    await log_in(browser)
    token = csrf_of((await browser.get("/console/bookings")).text)
    answer = await browser.post("/console/bookings/revisions/nope/replay", data={"csrf": token})
    assert answer.status_code == 303
    page = await browser.get(answer.headers["location"])
    assert "Replay of nope failed" in page.text


async def test_every_page_links_to_every_page_and_loads_only_packaged_assets(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    await onboard(client)
    login = await browser.get("/console/login")
    assert re.findall(r'(?:src|href)="([^"]+)"', login.text) == ["/console/static/console.css"]
    await log_in(browser)
    pages = ["/console/", "/console/bookings", "/console/deliveries", "/console/inbox"]
    for path in [*pages, "/console/properties/p-1"]:
        page = await browser.get(path)
        assert page.status_code == 200, path
        links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        for target in pages:
            assert target in links, (path, target)
        assert all(link.startswith(("/console/", "?")) for link in links), links
    css = await browser.get("/console/static/console.css")
    assert css.status_code == 200
    assert "http" not in css.text  # no font or image from elsewhere
