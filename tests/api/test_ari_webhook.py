"""Channex's `ari` webhook: a change made inside Channex marks its dates for one coalesced drift
check (repaired if configured); our own changes and system ones are not checked (respx fake of
Channex's ARI endpoints; channex-api.md §6.7, §8.3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from app.channex.client import ChannexClient
from app.channex.ratelimit import MemoryRateLimiter
from app.jobs.ari_watch import scan_ari_drift
from app.jobs.requests import CHECK_ARI_DRIFT
from app.jobs.sweep import sweep_pending
from app.models import AriState, Property, WebhookEvent
from app.resources import Resources
from app.services.webhook_registration import ensure_webhook
from app.settings import Settings
from tests.api.test_ari import wait_for_jobs
from tests.api.test_ari_drift import day, pushed_hotel
from tests.booking_fakes import WEBHOOK_SECRET, ChannexBookings, booking_channex, booking_settings
from tests.factories import availability_item
from tests.fake_channex import API_KEY, BASE_URL, FakeChannex
from tests.services.ari_support import FakeAri

HOOK = "/v1/webhooks/channex"
SECRET = {"X-Channex-Webhook-Secret": WEBHOOK_SECRET}
STAFF = "0b9c7a52-staff-user"  # someone editing inside Channex
US = "5d1e0f3a-our-api-user"  # the user behind our API key


@pytest.fixture
def repair() -> bool:
    """Whether drift is repaired (ari_nightly_drift_repair); a test parametrizes it to True."""
    return False


@pytest.fixture
def drift_delay() -> float:
    """ari_webhook_drift_delay_seconds: past the limiter's spacing after a push."""
    return 0.5


@pytest.fixture
def settings(settings: Settings, repair: bool, drift_delay: float) -> Settings:
    """Webhook intake on and a short coalescing delay."""
    return settings.model_copy(
        update={
            "channex_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "ari_webhook_drift_delay_seconds": drift_delay,
            "channex_user_id": US,
            "ari_nightly_drift_repair": repair,
        }
    )


class Reads:
    """FakeAri behind a recorder of the GET readbacks (the fake records writes only)."""

    def __init__(self, fake: FakeAri) -> None:
        self.fake = fake
        self.seen: list[tuple[str, str, str]] = []
        self.order: list[tuple[str, str]] = []  # (method, endpoint) of every ARI call

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.order.append((request.method, request.url.path.rsplit("/", 1)[-1]))
        if request.method == "GET":
            params = request.url.params
            endpoint = request.url.path.rsplit("/", 1)[-1]
            self.seen.append((endpoint, params["filter[date][gte]"], params["filter[date][lte]"]))
        return await self.fake.handle(request)


def ari_body(prop: str | None, user_id: str | None, cells: Any) -> dict[str, Any]:
    return {
        "event": "ari",
        "property_id": prop,
        "user_id": user_id,
        "timestamp": "2030-12-01T10:00:00.000000Z",
        "payload": cells,
    }


def cell(offset: int, **ids: str) -> dict[str, Any]:
    return {"date": day(offset).isoformat(), **ids, "availability": 1, "stop_sell": False}


def resources(app: FastAPI) -> Resources:
    found: Resources = app.state.resources
    return found


async def state_of(app: FastAPI) -> AriState:
    async with resources(app).session_factory() as session:
        stmt = select(AriState).join(Property).where(Property.pms_property_id == "p-1")
        return (await session.execute(stmt)).scalar_one()


async def events(app: FastAPI) -> list[tuple[str, str | None]]:
    async with resources(app).session_factory() as session:
        rows = (await session.execute(select(WebhookEvent).order_by(WebhookEvent.id))).scalars()
        return [(e.status, e.note) for e in rows]


async def hotel(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> tuple[FakeAri, Reads, str, str, str]:
    fake = FakeAri()
    reads = Reads(fake)
    channex.ari = reads.handle
    room, plan = await pushed_hotel(app, client, fake)
    prop = next(iter(channex.store["properties"]))
    return fake, reads, prop, room, plan


async def test_a_burst_of_ari_events_marks_one_span_checked_once(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake, reads, prop, room, plan = await hotel(app, client, channex)
    fake.availability[(room, day(3))] = 7  # changed inside Channex
    fake.restrictions[(plan, day(7))]["rate"] = "120.00"
    writes = len(fake.requests)

    for offset, ids in ((3, {"room_type_id": room}), (7, {"rate_plan_id": plan}), (5, {})):
        body = ari_body(prop, STAFF, [cell(offset, **ids)])
        assert (await client.post(HOOK, json=body, headers=SECRET)).status_code == 200
    await wait_for_jobs(app)

    span = (day(3).isoformat(), day(7).isoformat())
    assert sorted(reads.seen) == [("availability", *span), ("restrictions", *span)]
    state = await state_of(app)
    assert (state.drift_differences, state.drift_checked_at is not None) == (2, True)
    assert (state.drift_pending_from, state.drift_pending_to, state.drift_pending_at) == (
        None, None, None,
    )  # fmt: skip
    assert await events(app) == [("done", None)] * 3
    assert len(fake.requests) == writes  # repair is off: reported, not resent


async def test_our_own_and_system_ari_events_are_not_checked(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    _, reads, prop, room, _ = await hotel(app, client, channex)

    for user in (US, None):
        body = ari_body(prop, user, [cell(2, room_type_id=room)])
        assert (await client.post(HOOK, json=body, headers=SECRET)).status_code == 200
    await wait_for_jobs(app)

    assert reads.seen == []
    assert [status for status, _ in await events(app)] == ["ignored", "ignored"]
    notes = [note for _, note in await events(app)]
    assert notes[0] == "our own change"
    assert str(notes[1]).startswith("system or OTA change")
    assert (await state_of(app)).drift_pending_from is None


async def test_unknown_property_and_malformed_payloads_are_marked_never_retried(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    _, reads, prop, _, _ = await hotel(app, client, channex)
    bodies = [
        ari_body("no-such-property", STAFF, [cell(1)]),
        ari_body(prop, STAFF, {"not": "a list"}),
        ari_body(prop, STAFF, [{"date": "yesterday-ish"}, 42]),
    ]

    for body in bodies:
        assert (await client.post(HOOK, json=body, headers=SECRET)).status_code == 200
    await wait_for_jobs(app)

    assert [status for status, _ in await events(app)] == ["ignored", "malformed", "malformed"]
    async with resources(app).session_factory() as session:
        attempts = (await session.execute(select(WebhookEvent.attempts))).scalars().all()
    assert list(attempts) == [1, 1, 1]
    assert reads.seen == []


@pytest.mark.parametrize("repair", [True])
async def test_a_change_inside_channex_is_repaired_when_configured(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake, reads, prop, room, _ = await hotel(app, client, channex)
    fake.availability[(room, day(4))] = 0
    sent = len(fake.writes("availability"))

    body = ari_body(prop, STAFF, [cell(4, room_type_id=room)])
    assert (await client.post(HOOK, json=body, headers=SECRET)).status_code == 200
    await wait_for_jobs(app)

    repaired = fake.writes("availability")[sent:]
    assert [[(v["date_from"], v["date_to"], v["availability"]) for v in r] for r in repaired] == [
        [(day(4).isoformat(), day(4).isoformat(), 4)]
    ]
    assert fake.availability[(room, day(4))] == 4  # converged
    assert len(reads.seen) == 2


@pytest.mark.parametrize("drift_delay", [0.0])
async def test_a_drift_readback_lets_a_waiting_write_go_first(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    """A foreign change and a PMS change at once: the check would read at once (no delay
    here), the push waits out its debounce; the reads take the same per-property budget at
    Channex, so the write goes out first and the check reads after it."""
    fake, reads, prop, room, _ = await hotel(app, client, channex)
    reads.order.clear()
    change = {"items": [availability_item("dbl", day(4), day(4), 2)]}
    assert (await client.post("/v1/properties/p-1/ari", json=change)).status_code == 202
    body = ari_body(prop, STAFF, [cell(4, room_type_id=room)])
    assert (await client.post(HOOK, json=body, headers=SECRET)).status_code == 200
    await wait_for_jobs(app)

    write = reads.order.index(("POST", "availability"))
    first_read = reads.order.index(("GET", "availability"))
    assert write < first_read, reads.order
    assert fake.availability[(room, day(4))] == 2


async def test_the_sweep_re_drives_a_pending_span_whose_job_was_lost(
    app: FastAPI, client: httpx.AsyncClient, channex: FakeChannex
) -> None:
    fake, reads, _, room, _ = await hotel(app, client, channex)
    fake.availability[(room, day(6))] = 2
    async with resources(app).session_factory() as session:
        state = await session.get(AriState, (await state_of(app)).property_id)
        assert state is not None
        state.drift_pending_from, state.drift_pending_to = day(6), day(8)
        state.drift_pending_at = state.updated_at
        await session.commit()
        [job] = await scan_ari_drift(session)
    assert (job.job_name, job.args, job.job_id) == (
        CHECK_ARI_DRIFT, (state.property_id,), f"ari-drift:{state.property_id}",
    )  # fmt: skip

    await sweep_pending(resources(app).session_factory, resources(app).queue, [scan_ari_drift])
    await wait_for_jobs(app)

    assert sorted(reads.seen)[0] == ("availability", day(6).isoformat(), day(8).isoformat())
    after = await state_of(app)
    assert (after.drift_pending_from, after.drift_differences) == (None, 1)
    async with resources(app).session_factory() as session:
        assert await scan_ari_drift(session) == []


@pytest.fixture
def bookings_fake() -> Iterator[ChannexBookings]:
    with booking_channex() as (_, bookings, _):
        yield bookings


async def test_the_registered_webhook_subscribes_to_ari_and_old_ones_are_updated(
    bookings_fake: ChannexBookings,
) -> None:
    config = booking_settings("sqlite+aiosqlite://", public_base_url="https://sync.example.com")
    async with ChannexClient(
        base_url=BASE_URL, api_key=API_KEY, limiter=MemoryRateLimiter()
    ) as channex:
        assert await ensure_webhook(channex, config) == "created"
        (hook_id,) = bookings_fake.webhooks
        assert "ari" in bookings_fake.webhooks[hook_id]["event_mask"].split(";")
        before_ari = "booking;non_acked_booking;booking_unmapped_room;booking_unmapped_rate"
        bookings_fake.webhooks[hook_id]["event_mask"] = before_ari  # registered before `ari`

        assert await ensure_webhook(channex, config) == "updated"
        assert await ensure_webhook(channex, config) == "unchanged"

    assert list(bookings_fake.webhooks) == [hook_id]
    assert "ari" in bookings_fake.webhooks[hook_id]["event_mask"].split(";")


def test_settings_default_to_checking_every_user_s_changes() -> None:
    defaults = Settings(_env_file=None)
    assert (defaults.channex_user_id, defaults.ari_webhook_drift_check) == (None, True)
    assert defaults.ari_webhook_drift_delay_seconds == 30.0
