"""The operator console in a real Chromium, against the live service over real HTTP and the
Channex sandbox: log in with an operator key, find the onboarded property on the overview,
watch an ARI cell go from pending to in sync on its calendar, and re-apply a quarantined
revision with a click. Screenshots of every step land in tests/artifacts/; with
CONSOLE_README_SHOTS set, three of them are copied to docs/images/ for the README."""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Page, expect

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.ota import Guest, OtaBooking
from app.sandbox.reservations import create_booking
from app.sandbox.state import SandboxState
from app.settings import ApiKey
from tests.browser import BROWSER_MARKS, Shots
from tests.conftest import FAST_RATE_LIMIT_PER_MINUTE, GLOBAL_KEY, ORG1_KEY
from tests.e2e.ari_support import ok
from tests.e2e.live import live_service
from tests.factories import PROPERTY, ROOM, onboard_step, onboard_two_rooms
from tests.sandbox.servers import serve
from tests.waiting import eventually

pytestmark = BROWSER_MARKS

SANDBOX_KEY = "console-browser-sandbox-key"
OPERATOR_KEY = "console-browser-operator-key"
DEADLINE_SECONDS = 30.0  # a hang guard; each wait takes a second or two
# Long enough for the page to show the cell pending before the push (the tests' usual
# debounce is 0.3 s, gone before a browser has loaded the page).
DEBOUNCE_SECONDS = 3.0
IMAGES = Path(__file__).parents[2] / "docs" / "images"
# Which screenshots the README shows, under which name.
README_SHOTS = {
    "overview-after": "console-overview.png",
    "property-pending": "console-property.png",
    "bookings-quarantined": "console-bookings.png",
}


async def reload_until(page: Page, check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Reload the page until `check()` holds: the page has no live updates, an operator
    reloads. Fails after the deadline."""

    async def shown() -> bool:
        await page.reload()
        return await check()

    try:
        await eventually(shown, DEADLINE_SECONDS, poll=0.3)
    except TimeoutError:
        raise AssertionError(f"not within {DEADLINE_SECONDS} s: {what}") from None


async def onboard_more(api: httpx.AsyncClient) -> None:
    """Two more properties in another organization, for the overview to list and the search
    to leave out."""
    await onboard_step(api, "/v1/organizations/org-2", {"title": "Harbour Group"})
    for code, title in (("h-1", "Harbour Inn"), ("h-2", "Mountain Lodge")):
        await onboard_step(
            api, f"/v1/properties/{code}", {**PROPERTY, "organization_id": "org-2", "title": title}
        )
        await onboard_step(api, f"/v1/properties/{code}/room-types/std", ROOM)


def fortnight(first: date) -> list[dict[str, object]]:
    """Availability and a rate for each of p-1's room types and rate plans, 14 days."""
    span = {"date_from": first.isoformat(), "date_to": (first + timedelta(days=13)).isoformat()}
    items: list[dict[str, object]] = []
    for room in ("dbl", "twn"):
        items.append({"type": "availability", "room_type_id": room, "availability": 6, **span})
        items.append({"type": "restrictions", "room_type_id": room, "rate_plan_id": "bar",
                      "rate": "110.00", **span})  # fmt: skip
    return items


def poison_booking(state: SandboxState, property_id: str, room: tuple[str, str]) -> str:
    """A booking whose revision Channex serves malformed (an unknown status): channel-sync
    must quarantine it. Made in the sandbox's state with no await between the booking and
    the damage, so the service never reads the good copy first."""
    arrival = datetime.now(UTC).date() + timedelta(days=20)
    request = OtaBooking(
        channel="BookingCom", room_type_id=room[0], rate_plan_id=room[1],
        arrival_date=arrival, departure_date=arrival + timedelta(days=2),
        guest=Guest(name="Grace", surname="Hopper"),
    )  # fmt: skip
    revision = create_booking(state, property_id, request)
    assert not isinstance(revision, str)
    revision.attrs["status"] = "exploded"
    return revision.id


async def test_an_operator_watches_a_cell_sync_and_reapplies_a_quarantined_revision(
    database_url: str, browser_page: tuple[Page, Shots]
) -> None:
    page, shots = browser_page
    sandbox = create_sandbox_app(
        SandboxConfig(api_key=SANDBOX_KEY, rate_limit_per_minute=FAST_RATE_LIMIT_PER_MINUTE, seed=7)
    )
    state: SandboxState = sandbox.state.sandbox
    keys = [
        ApiKey(name="pms", key=GLOBAL_KEY),
        ApiKey(name="org-1", key=ORG1_KEY, organization_id="org-1"),
        ApiKey(name="ops", key=OPERATOR_KEY, operator=True),
    ]
    async with (
        serve(sandbox) as sandbox_url,
        live_service(
            database_url, sandbox_url, SANDBOX_KEY,
            api_keys=keys, ari_push_debounce_seconds=DEBOUNCE_SECONDS,
        ) as (api, tools),
    ):  # fmt: skip
        channex_property, rooms = await onboard_two_rooms(api)
        await onboard_more(api)
        today = datetime.now(ZoneInfo(str(PROPERTY["timezone"]))).date()
        await ok(await api.post("/v1/properties/p-1/ari", json={"items": fortnight(today)}))
        base = str(api.base_url).rstrip("/")

        # Log in.
        await page.goto(f"{base}/console/")
        await expect(page).to_have_url(f"{base}/console/login")
        await page.fill("input[name=key]", OPERATOR_KEY)
        await shots.take("login")
        await page.click("button[type=submit]")
        await expect(page.get_by_role("heading", name="Properties")).to_be_visible()
        await expect(page.get_by_text("3 properties")).to_be_visible()
        await shots.take("overview")

        # Search the overview, open the property.
        await page.fill("input[name=q]", "seaside")
        await page.click("form.search button")
        await expect(page).to_have_url(f"{base}/console/?q=seaside")
        await expect(page.get_by_text("1 properties")).to_be_visible()
        await expect(page.get_by_text("Harbour Inn")).to_have_count(0)
        row = page.locator("tr.state-synced", has_text="Seaside Hotel")
        await expect(row).to_have_count(1)
        await shots.take("overview-search")
        await row.get_by_role("link", name="p-1").click()
        await expect(page.get_by_role("heading", name="Seaside Hotel p-1")).to_be_visible()
        cells = page.locator("td.cell")

        async def all_in_sync() -> bool:
            return await page.locator("td.cell-in_sync").count() == 4 * 14 == await cells.count()

        await reload_until(page, all_in_sync, "the first fortnight in sync on the page")

        # An ARI change through the API: its cell pending, then in sync once pushed.
        day = today + timedelta(days=2)
        items = [{"type": "availability", "room_type_id": "dbl", "availability": 4,
                  "date_from": day.isoformat(), "date_to": day.isoformat()}]  # fmt: skip
        await ok(await api.post("/v1/properties/p-1/ari", json={"items": items}))
        cell = page.locator(f'tr[data-row="availability:Room dbl"] td[data-date="{day}"]')
        await page.reload()
        await expect(cell).to_have_class("cell cell-pending")
        await expect(cell).to_have_text("pending")
        await expect(page.locator("td.cell-pending")).to_have_count(1)
        await shots.take("property-pending")

        async def pushed() -> bool:
            # The page reads the runs before the cells, each query its own snapshot on
            # PostgreSQL (read committed): a reload during the push's commit can show the
            # cell in sync and not yet its run.
            run = page.locator("tr", has_text=f"{day} \N{EN DASH} {day}").locator(
                "td.outcome-success"
            )
            in_sync = "cell-in_sync" in (await cell.get_attribute("class") or "")
            return in_sync and await run.count() == 1

        await reload_until(page, pushed, "the cell in sync and its push's run on the page")
        await expect(cell).to_have_text("in sync")
        assert '"availability": 4' in (await cell.get_attribute("title") or "")
        await shots.take("property-in-sync")

        # A revision Channex serves malformed is quarantined (and acked).
        await ok(await tools.post(f"/properties/{channex_property}/channels",
                                  json={"channel": "BookingCom"}))  # fmt: skip
        async with state.lock:
            bad = poison_booking(state, channex_property, rooms[0])
        booking_id = state.store.revisions[bad].booking_id

        async def quarantined() -> bool:
            problems = await ok(await api.get("/v1/bookings/problems"))
            return bad in [q["revision_id"] for q in problems["quarantined_revisions"]]

        try:
            await eventually(quarantined, DEADLINE_SECONDS, poll=0.3)
        except TimeoutError:
            raise AssertionError(f"{bad} not quarantined within {DEADLINE_SECONDS} s") from None
        await page.get_by_role("link", name="Bookings").click()
        reapply = page.locator(f'form[action="/console/bookings/quarantine/{bad}/reapply"] button')
        await expect(reapply).to_be_visible()
        await shots.take("bookings-quarantined")
        missing = await api.get(f"/v1/bookings/{booking_id}")
        assert missing.status_code == 404, missing.text  # not applied yet

        # Channex serves it correctly again: one click re-applies it.
        state.store.revisions[bad].attrs["status"] = "new"
        await reapply.click()
        await expect(page.get_by_text(f"Revision {bad} re-applied.")).to_be_visible()
        await expect(page.get_by_text("Nothing in quarantine.")).to_be_visible()
        await shots.take("bookings-reapplied")

        booking = await ok(await api.get(f"/v1/bookings/{booking_id}"))
        assert (booking["status"], booking["current_revision_id"]) == ("new", bad)
        problems = await ok(await api.get("/v1/bookings/problems"))
        assert problems["quarantined_revisions"] == []
        feed = await ok(await api.get("/v1/bookings/revisions"))
        assert bad in [item["id"] for item in feed["items"]]

        # Back on the overview: p-1 has nothing pending, its last push succeeded.
        await page.get_by_role("link", name="Overview").click()
        seaside = page.locator("tr", has_text="Seaside Hotel")
        await expect(seaside.locator("td.num").first).to_have_text("0")
        await expect(seaside.locator("td.outcome-success")).to_have_text("success")
        await shots.take("overview-after")

    if os.environ.get("CONSOLE_README_SHOTS"):
        copy_readme_shots(shots)


def copy_readme_shots(shots: Shots) -> None:
    """The README's screenshots, refreshed from this run (see the README's console section)."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    for path in shots.taken:
        step = path.stem.split("-", 1)[1]
        if step in README_SHOTS:
            shutil.copyfile(path, IMAGES / README_SHOTS[step])
