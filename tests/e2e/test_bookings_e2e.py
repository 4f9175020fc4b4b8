"""End to end over real HTTP: the Channex sandbox's OTA simulator makes bookings,
modifications and cancellations while webhooks are dropped, duplicated and reordered and the
Channex API fails now and then; channel-sync must deliver every revision to the PMS exactly
once, in order per booking, and acknowledge every one in the sandbox."""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from app.services.delivery import new_secret
from tests.e2e.live import live_service
from tests.factories import onboard_two_rooms
from tests.metrics_scrape import Samples, scrape, total
from tests.sandbox.servers import Receiver, serve
from tests.waiting import eventually

SANDBOX_KEY = "e2e-sandbox-key"
BOOKINGS = 100
MODIFICATIONS = 70
CANCELLATIONS = 30
DEADLINE_SECONDS = 240.0  # a hang guard, not a speed target (that is the benchmark's)


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_until(
    condition: Callable[[], bool], what: str, seconds: float = DEADLINE_SECONDS
) -> None:
    # Polling: the state lives in another server (the sandbox), no event to wait on.
    try:
        await eventually(condition, seconds, poll=0.2)
    except TimeoutError:
        raise AssertionError(f"not within {seconds} s: {what}") from None


async def simulate(
    tools: httpx.AsyncClient, property_id: str, rooms: list[tuple[str, str]]
) -> None:
    """Bookings, then modifications and cancellations of random ones, as OTAs make them."""
    rng = random.Random(5)
    today = datetime.now(UTC).date()
    made: list[str] = []
    for n in range(BOOKINGS):
        room_type_id, rate_plan_id = rng.choice(rooms)
        arrival = today + timedelta(days=rng.randint(5, 60))
        body = {
            "channel": "BookingCom",
            "room_type_id": room_type_id,
            "rate_plan_id": rate_plan_id,
            "arrival_date": arrival.isoformat(),
            "departure_date": (arrival + timedelta(days=rng.randint(1, 4))).isoformat(),
            "guest": {"name": f"Guest{n}"},
        }
        answer = await ok(await tools.post(f"/properties/{property_id}/bookings", json=body))
        made.append(answer["data"]["booking_id"])
    for booking_id in rng.sample(made, MODIFICATIONS):
        departure = today + timedelta(days=70 + rng.randint(0, 5))
        change = {"departure_date": departure.isoformat()}
        await ok(await tools.post(f"/bookings/{booking_id}/modify", json=change))
    for booking_id in rng.sample(made, CANCELLATIONS):
        await ok(await tools.post(f"/bookings/{booking_id}/cancel"))


PMS_STATUSES = [503, 200, 200, 200, 200, 500]  # the PMS fails twice early on
# Rejected attempts are received too: wait for every revision's accepted delivery as well.
REJECTED = sum(status >= 300 for status in PMS_STATUSES)


def delivered(receiver: Receiver, secret: str) -> dict[str, list[dict[str, Any]]]:
    """Verified deliveries the PMS accepted (2xx), per booking, in the order received."""
    failed = {n for n, status in enumerate(PMS_STATUSES) if status >= 300}
    per_booking: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n, received in enumerate(receiver.received):
        if n in failed:
            continue
        raw = json.dumps(received.body, separators=(",", ":"))
        body = Webhook(secret).verify(raw, received.headers)
        per_booking[body["data"]["booking_id"]].append(body)
    return per_booking


async def test_every_revision_reaches_the_pms_once_in_order_and_is_acked(
    database_url: str,
) -> None:
    sandbox = create_sandbox_app(SandboxConfig(api_key=SANDBOX_KEY, time_scale=0.002, seed=11))
    state: SandboxState = sandbox.state.sandbox
    receiver = Receiver(statuses=list(PMS_STATUSES))
    secret = new_secret()
    async with (
        serve(sandbox) as sandbox_url,
        serve(receiver.app()) as pms_url,
        live_service(
            database_url,
            sandbox_url,
            SANDBOX_KEY,
            pms_delivery_url=f"{pms_url}/hook",
            pms_delivery_secret=secret,
        ) as (api, tools),
    ):
        before = await scrape(api)
        property_id, rooms = await onboard_two_rooms(api)
        await wait_until(lambda: len(state.store.webhooks) == 1, "webhook registered")
        channel = {"channel": "BookingCom"}
        await ok(await tools.post(f"/properties/{property_id}/channels", json=channel))
        faults = {
            "webhook_drop_rate": 0.25,
            "webhook_duplicate_rate": 0.25,
            "webhook_reorder": True,
            "error_rate": 0.05,
            "seed": 3,
        }
        await ok(await tools.put("/faults", json=faults))

        await simulate(tools, property_id, rooms)
        revisions = state.store.revisions

        await wait_until(
            lambda: (
                all(r.acked for r in revisions.values())
                and len(receiver.received) >= len(revisions) + REJECTED
            ),
            "every revision acked and delivered",
        )
        await asyncio.sleep(1.0)  # anything delivered twice would show up now
        per_booking = delivered(receiver, secret)

        assert sum(len(v) for v in per_booking.values()) == len(revisions)
        for booking in state.store.bookings.values():
            got = per_booking[booking.id]
            assert [d["data"]["id"] for d in got] == booking.revision_ids
            assert [d["sequence"] for d in got] == list(range(1, len(got) + 1))
            latest = revisions[booking.revision_ids[-1]].attrs["status"]
            ours = await ok(await api.get(f"/v1/bookings/{booking.id}"))
            assert (ours["status"], ours["current_revision_id"]) == (
                latest,
                booking.revision_ids[-1],
            )
        assert len(revisions) == BOOKINGS + MODIFICATIONS + CANCELLATIONS
        await _metrics_moved(api, before, len(revisions))


async def _metrics_moved(api: httpx.AsyncClient, before: Samples, revisions: int) -> None:
    """The run shows in /metrics: the jobs run in this process (in-process, or the arq
    workers the test starts), so one scrape of the API holds their counters too."""
    after = await scrape(api)

    def grew(name: str, by: float = 1, **labels: str) -> None:
        delta = total(after, name, **labels) - total(before, name, **labels)
        assert delta >= by, f"{name} {labels} moved by {delta}, expected at least {by}"

    grew("channel_sync_webhook_events_stored_total", status="pending")
    grew("channel_sync_revisions_total", revisions, outcome="applied")
    grew("channel_sync_pms_deliveries_total", revisions, outcome="delivered")
    grew("channel_sync_pms_deliveries_total", REJECTED, outcome="retry")
    grew("channel_sync_channex_requests_total", endpoint="booking_revisions/:id/ack")
    grew("channel_sync_jobs_total", job="process_webhook_events", outcome="ok")
    assert total(after, "channel_sync_pms_deliveries_pending") == 0
    assert total(after, "channel_sync_webhook_events_pending") == 0
