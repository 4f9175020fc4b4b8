"""Scale-out, as processes of the installed wheel: two API processes and three workers on one
PostgreSQL database and one Redis, `channel-sync sandbox` as Channex. For about a minute the
PMS sends ARI changes for several properties to both APIs while guests book, modify and
cancel in the sandbox. Channex's limit must hold across all the processes (never more than
10 writes per property and ARI endpoint in any rolling minute), the last value sent must be
what Channex holds, and every booking revision must reach the PMS endpoint exactly once, in
order per booking."""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.services.delivery import signer
from app.serving import free_port, serving
from tests.e2e.deployment import (
    Json,
    day,
    ok,
    pms_client,
    sandbox_clients,
    service_env,
    start_api,
    start_sandbox,
    webhook_registered,
)
from tests.e2e.installed import Installed, base_env, fresh_postgres_database, fresh_redis_namespace
from tests.e2e.processes import Processes, eventually, processes
from tests.factories import (
    OnboardedHotel,
    book_in_sandbox,
    connect_booking_com,
    onboard_property,
)

pytestmark = pytest.mark.slow

APIS, WORKERS = 2, 3
ORGANIZATIONS = {"org-1": ("p-1", "p-2"), "org-2": ("p-3", "p-4")}
DRIVE_SECONDS = 65.0
CHANGES_PER_SECOND = 3.0
ARI_DAYS = range(30, 60)  # bookings stay before these nights: they take rooms themselves
CHANNEX_LIMIT_PER_MINUTE = 10
SETTLE_SECONDS = 120.0  # a hang guard: the last coalesced pushes, deliveries, the feed
ARI_ENDPOINTS = ("POST /availability", "POST /restrictions")


@dataclass
class PmsReceiver:
    """The PMS's push endpoint: every delivery, raw, per organization, answered 200."""

    received: dict[str, list[tuple[bytes, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.received[request.path_params["org"]].append((body, dict(request.headers)))
        return Response(status_code=204)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook/{org}", self.handle, methods=["POST"])])

    def deliveries(self, org: str, secret: str) -> list[Json]:
        """The organization's deliveries, signature checked, in the order received."""
        verify = signer(secret).verify
        return [verify(body, headers) for body, headers in self.received[org]]


@dataclass
class Drive:
    """What the PMS and the guests did: the last value sent per cell, revisions per booking."""

    availability: dict[tuple[str, date], int] = field(default_factory=dict)
    rates: dict[tuple[str, date], str] = field(default_factory=dict)
    revisions: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


async def send_ari(
    apis: list[httpx.AsyncClient], hotels: list[OnboardedHotel], drive: Drive
) -> int:
    """Random ARI changes spread over the APIs for DRIVE_SECONDS; how many were sent."""
    rng = random.Random(17)
    sent, end = 0, time.monotonic() + DRIVE_SECONDS
    while time.monotonic() < end:
        hotel = rng.choice(hotels)
        first = rng.randrange(ARI_DAYS.start, ARI_DAYS.stop)
        last = rng.randrange(first, min(first + 10, ARI_DAYS.stop))
        span = {"room_type_id": "dbl", "date_from": day(first).isoformat()}
        span["date_to"] = day(last).isoformat()
        nights = [(hotel.property_id, day(offset)) for offset in range(first, last + 1)]
        if rng.random() < 0.5:
            count = rng.randint(0, 20)
            item: Json = {"type": "availability", **span, "availability": count}
            drive.availability.update(dict.fromkeys(nights, count))
        else:
            rate = f"{rng.randint(80, 200)}.00"
            item = {"type": "restrictions", **span, "rate_plan_id": "bar", "rate": rate}
            drive.rates.update(dict.fromkeys(nights, rate))
        path = f"/v1/properties/{hotel.property_id}/ari"
        ok(await apis[sent % len(apis)].post(path, json={"items": [item]}))
        sent += 1
        await asyncio.sleep(1 / CHANGES_PER_SECOND)
    return sent


async def drive_bookings(
    tools: httpx.AsyncClient, hotels: list[OnboardedHotel], drive: Drive
) -> None:
    """Per property three bookings, two modified, one of those cancelled, spread in time."""
    for round_ in range(3):
        for n, hotel in enumerate(hotels):
            booked = await book_in_sandbox(tools, hotel, arrival=5 + 3 * round_ + n)
            drive.revisions[booked["booking_id"]].append(booked["revision_id"])
        await asyncio.sleep(DRIVE_SECONDS / 8)
    bookings = list(drive.revisions)
    for booking_id in bookings[::2]:
        change = {"departure_date": day(25).isoformat()}
        changed = ok(await tools.post(f"/bookings/{booking_id}/modify", json=change))["data"]
        drive.revisions[booking_id].append(changed["revision_id"])
        await asyncio.sleep(1.0)
    for booking_id in bookings[::4]:
        cancelled = ok(await tools.post(f"/bookings/{booking_id}/cancel"))["data"]
        drive.revisions[booking_id].append(cancelled["revision_id"])


@asynccontextmanager
async def deployment(
    installed: Installed, tmp_path: Path, pms_url: str
) -> AsyncIterator[tuple[Processes, list[int], int]]:
    """The sandbox, migrate, the workers and the APIs: (group, API ports, sandbox port)."""
    cwd = tmp_path / "run"
    cwd.mkdir()
    api_ports, sandbox_port = [free_port() for _ in range(APIS)], free_port()
    # One public URL for every API, as behind a load balancer: Channex posts to the first.
    env = {**base_env(tmp_path), **service_env(sandbox_port, f"http://127.0.0.1:{api_ports[0]}")}
    async with fresh_postgres_database() as database_url, fresh_redis_namespace() as redis:
        env.update({"DATABASE_URL": database_url, "REDIS_URL": redis[0]})
        env["REDIS_NAMESPACE"] = redis[1]
        with processes(cwd, env, tmp_path / "logs") as group:
            await start_sandbox(group, installed.cli, sandbox_port)
            await group.run("migrate", [installed.cli, "migrate"], 120)
            for n in range(WORKERS):
                group.start(f"worker-{n + 1}", [installed.cli, "worker"])
            for n, port in enumerate(api_ports):
                await start_api(group, installed.cli, port, name=f"api-{n + 1}")
            yield group, api_ports, sandbox_port


async def workers_report_healthy(group: Processes, installed: Installed) -> None:
    """`channel-sync worker --check`, compose's worker health check, passes on this host."""
    attempts = itertools.count(1)

    async def healthy() -> bool:
        argv: list[str | Path] = [installed.cli, "worker", "--check"]
        process = group.start(f"worker-check-{next(attempts)}", argv)
        return await asyncio.to_thread(process.wait, time.monotonic() + 30) == 0

    await eventually(healthy, "channel-sync worker --check exits 0", 60.0)


async def assert_channex_holds_the_last_values(
    tools: httpx.AsyncClient, hotels: list[OnboardedHotel], drive: Drive
) -> None:
    for hotel in hotels:
        params = {"property_id": hotel.channex_property_id}
        held = ok(await tools.get("/ari", params=params))["data"]
        availability = held["availability"][hotel.channex_room_type_id]
        rates = held["restrictions"][hotel.channex_rate_plan_id]
        for (property_id, night), count in drive.availability.items():
            if property_id == hotel.property_id:
                assert availability.get(night.isoformat()) == count, (property_id, night)
        for (property_id, night), rate in drive.rates.items():
            if property_id == hotel.property_id:
                assert rates.get(night.isoformat(), {}).get("rate") == rate, (property_id, night)


async def assert_channex_limit_held(tools: httpx.AsyncClient, hotels: list[OnboardedHotel]) -> None:
    writes = ok(await tools.get("/ari/writes"))["data"]
    busiest = {
        (hotel.property_id, endpoint): writes[hotel.channex_property_id][endpoint]["busiest_minute"]
        for hotel in hotels
        for endpoint in ARI_ENDPOINTS
    }
    assert max(busiest.values()) <= CHANNEX_LIMIT_PER_MINUTE, busiest
    # The PMS outpaced the limit, so the processes had to hold back: else the check proves
    # nothing.
    assert max(busiest.values()) >= CHANNEX_LIMIT_PER_MINUTE - 2, busiest
    stats = ok(await tools.get("/stats"))["data"]
    assert all(stats[endpoint]["rate_limited"] == 0 for endpoint in ARI_ENDPOINTS), stats


def assert_delivered_once_in_order(
    receiver: PmsReceiver, secrets: dict[str, str], drive: Drive
) -> None:
    per_booking: dict[str, list[Json]] = defaultdict(list)
    for org, secret in secrets.items():
        for delivery in receiver.deliveries(org, secret):
            per_booking[delivery["data"]["booking_id"]].append(delivery)
    assert set(per_booking) == set(drive.revisions)
    for booking_id, revision_ids in drive.revisions.items():
        got = per_booking[booking_id]
        assert [d["data"]["id"] for d in got] == revision_ids, booking_id
        assert [d["sequence"] for d in got] == list(range(1, len(revision_ids) + 1))


async def all_in_sync(api: httpx.AsyncClient, hotels: list[OnboardedHotel]) -> bool:
    params = {"from": day(ARI_DAYS.start).isoformat(), "to": day(ARI_DAYS.stop).isoformat()}
    for hotel in hotels:
        cells = ok(await api.get(f"/v1/properties/{hotel.property_id}/ari", params=params))
        if not all(c["status"] == "in_sync" for c in cells["cells"]):
            return False
    return True


async def test_two_apis_and_three_workers_keep_channex_s_limit_and_deliver_once(
    installed: Installed, tmp_path: Path
) -> None:
    receiver, drive = PmsReceiver(), Drive()
    async with (
        serving(receiver.app()) as pms_url,
        deployment(installed, tmp_path, pms_url) as (group, api_ports, sandbox_port),
    ):
        running = [p for p in group.started if p.popen.poll() is None]  # not migrate
        channex, tools = sandbox_clients(sandbox_port)
        apis = [pms_client(port) for port in api_ports]
        async with channex, tools, apis[0], apis[1]:
            await workers_report_healthy(group, installed)
            hotels, secrets = await onboard_all(apis, tools, pms_url)
            await eventually(
                lambda: webhook_registered(channex, f"http://127.0.0.1:{api_ports[0]}"),
                "the webhook registered",
                60.0,
                running,
            )
            sent, _ = await asyncio.gather(
                send_ari(apis, hotels, drive), drive_bookings(tools, hotels, drive)
            )
            assert sent >= DRIVE_SECONDS * CHANGES_PER_SECOND / 2

            await eventually(lambda: all_in_sync(apis[1], hotels), "ARI in sync", 120, running)
            expected = sum(len(r) for r in drive.revisions.values())
            await eventually(
                lambda: delivered_count(receiver, expected),
                f"{expected} deliveries",
                SETTLE_SECONDS,
                running,
            )
            await asyncio.sleep(3.0)  # anything delivered twice would show up now
            await assert_channex_holds_the_last_values(tools, hotels, drive)
            await assert_channex_limit_held(tools, hotels)
            assert_delivered_once_in_order(receiver, secrets, drive)
        exits = group.stop_all()
    # Every process stops on SIGTERM, none had to be killed (uvicorn re-raises the signal).
    assert set(exits.values()) <= {0, -signal.SIGTERM}, exits


async def delivered_count(receiver: PmsReceiver, expected: int) -> bool:
    return sum(len(d) for d in receiver.received.values()) >= expected


async def onboard_all(
    apis: list[httpx.AsyncClient], tools: httpx.AsyncClient, pms_url: str
) -> tuple[list[OnboardedHotel], dict[str, str]]:
    """Every property, onboarded through alternate APIs, with Booking.com connected; each
    organization's push endpoint: (hotels, signing secret per organization)."""
    hotels: list[OnboardedHotel] = []
    secrets: dict[str, str] = {}
    for org, properties in ORGANIZATIONS.items():
        for property_id in properties:
            hotel = await onboard_property(apis[len(hotels) % len(apis)], org, property_id)
            await connect_booking_com(tools, hotel)
            hotels.append(hotel)
        endpoint = {"url": f"{pms_url}/hook/{org}"}
        answer = ok(await apis[0].put(f"/v1/organizations/{org}/booking-endpoint", json=endpoint))
        secrets[org] = answer["secret"]
    return hotels, secrets
