"""The README's sandbox walk-through ("Try the whole flow on a laptop") end to end over real
HTTP, on both databases: onboard, connect Booking.com, push availability and rates with a
weekday override, then a guest books on the simulated OTA and the booking reaches the PMS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from tests.conftest import FAST_RATE_LIMIT_PER_MINUTE
from tests.e2e.ari_support import WEEKDAYS, Json, ok
from tests.e2e.live import live_service
from tests.sandbox.servers import serve
from tests.waiting import eventually

SANDBOX_KEY = "walkthrough-sandbox-key"
DEADLINE_SECONDS = 60.0  # a hang guard; a leg takes a few seconds
WEEKEND = ["fr", "sa"]


async def poll(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Until `check` holds; the state lives in other servers, no event to wait on."""
    try:
        await eventually(check, DEADLINE_SECONDS, poll=0.2)
    except TimeoutError:
        raise AssertionError(f"not within {DEADLINE_SECONDS} s: {what}") from None


def nights(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def test_the_readme_walkthrough_over_real_http(database_url: str) -> None:
    # Time is not scaled, only the rate limit: Channex allows 10 ARI writes per minute per
    # property and endpoint (our limiter spaces them 6 s apart); here both sides allow
    # FAST_RATE_LIMIT_PER_MINUTE (the tests' settings).
    sandbox = create_sandbox_app(
        SandboxConfig(api_key=SANDBOX_KEY, rate_limit_per_minute=FAST_RATE_LIMIT_PER_MINUTE, seed=7)
    )
    state: SandboxState = sandbox.state.sandbox
    async with (
        serve(sandbox) as sandbox_url,
        live_service(database_url, sandbox_url, SANDBOX_KEY) as (
            api,
            tools,
        ),
    ):
        # 1. onboard: organization -> Channex group, property, room type, rate plan
        await ok(await api.put("/v1/organizations/org-1", json={"title": "Seaside Hotels"}))
        prop = await ok(
            await api.put(
                "/v1/properties/p-1",
                json={
                    "organization_id": "org-1",
                    "title": "Seaside Hotel",
                    "currency": "EUR",
                    "timezone": "Europe/Lisbon",
                },
            )
        )
        room = await ok(
            await api.put(
                "/v1/properties/p-1/room-types/dbl",
                json={"title": "Double", "count_of_rooms": 5, "occ_adults": 2},
            )
        )
        rate = await ok(
            await api.put(
                "/v1/properties/p-1/room-types/dbl/rate-plans/bar",
                json={
                    "title": "Best Available Rate",
                    "options": [{"occupancy": 2, "rate": "120"}],
                },
            )
        )
        cp, rt = prop["channex_property_id"], room["channex_room_type_id"]
        rp = rate["channex_rate_plan_id"]
        assert {p.id for p in state.store.properties.values()} == {cp}

        async def webhook_registered() -> bool:
            return len(state.store.webhooks) == 1

        await poll(webhook_registered, "channel-sync registered its webhook in the sandbox")

        # 2. the hotel connects Booking.com (simulated OTA); channel-sync sees it
        connected = await ok(
            await tools.post(f"/properties/{cp}/channels", json={"channel": "BookingCom"})
        )
        response = await api.get("/v1/properties/p-1/channels")
        assert response.status_code == 200, response.text
        assert [(c["channex_channel_id"], c["channel"], c["is_active"]) for c in
                response.json()] == [(connected["data"]["id"], "BookingCom", True)]  # fmt: skip

        # 3. push availability and rates (weekend prices and min stay on Fri and Sat)
        today = datetime.now(UTC).date()
        first, last = today + timedelta(days=7), today + timedelta(days=120)
        span = {"room_type_id": "dbl", "date_from": first.isoformat(),
                "date_to": last.isoformat()}  # fmt: skip
        items: list[Json] = [
            {"type": "availability", **span, "availability": 5},
            {"type": "restrictions", **span, "rate_plan_id": "bar", "rate": "120.00"},
            {"type": "restrictions", **span, "rate_plan_id": "bar", "days": WEEKEND,
             "rate": "150.00", "min_stay_arrival": 2},
        ]  # fmt: skip
        accepted = await ok(await api.post("/v1/properties/p-1/ari", json={"items": items}))
        assert accepted["cells_changed"] == 2 * len(nights(first, last))
        cells: list[Json] = []

        async def all_in_sync() -> bool:
            params = {"from": first.isoformat(), "to": last.isoformat()}
            cells[:] = (await ok(await api.get("/v1/properties/p-1/ari", params=params)))["cells"]
            return bool(cells) and all(c["status"] == "in_sync" for c in cells)

        await poll(all_in_sync, "every cell in_sync")
        assert len(cells) == 2 * len(nights(first, last))

        held = (await ok(await tools.get("/ari", params={"property_id": cp})))["data"]
        weekend: dict[str, Any] = {"rate": "150.00", "min_stay_arrival": 2}
        for day in nights(first, last):
            on = day.isoformat()
            assert held["availability"][rt].get(on) == 5, on
            expected = weekend if WEEKDAYS[day.weekday()] in WEEKEND else {"rate": "120.00"}
            assert held["restrictions"][rp].get(on) == expected, on
        assert sum(WEEKDAYS[d.weekday()] in WEEKEND for d in nights(first, last)) >= 32

        # 4. a guest books on Booking.com; the booking reaches channel-sync by webhook
        arrival, departure = today + timedelta(days=10), today + timedelta(days=12)
        booked = await ok(
            await tools.post(
                f"/properties/{cp}/bookings",
                json={
                    "channel": "BookingCom",
                    "room_type_id": rt,
                    "rate_plan_id": rp,
                    "arrival_date": arrival.isoformat(),
                    "departure_date": departure.isoformat(),
                    "guest": {"name": "Ada", "surname": "Lovelace"},
                },
            )
        )
        revision_id = booked["data"]["revision_id"]
        feed: list[Json] = []

        async def in_the_feed_and_acked() -> bool:
            feed[:] = (await ok(await api.get("/v1/bookings/revisions")))["items"]
            return any(r["id"] == revision_id and r["acked_at"] for r in feed) and (
                state.store.revisions[revision_id].acked
            )

        await poll(in_the_feed_and_acked, "the booking in the PMS feed, acked in Channex")
        [revision] = feed
        assert (revision["booking_id"], revision["status"], revision["property_id"]) == (
            booked["data"]["booking_id"],
            "new",
            "p-1",
        )
        assert revision["flags"] == []
        [booked_room] = revision["revision"]["rooms"]
        assert (booked_room["pms_room_type_id"], booked_room["pms_rate_plan_id"]) == (
            "dbl",
            "bar",
        )
        assert revision["revision"]["customer"]["name"] == "Ada"
        # Channex took the booked nights' room itself: one fewer on each, none elsewhere.
        held = (await ok(await tools.get("/ari", params={"property_id": cp})))["data"]
        around = nights(arrival - timedelta(days=1), departure)
        assert [held["availability"][rt][d.isoformat()] for d in around] == [5, 4, 4, 5]
