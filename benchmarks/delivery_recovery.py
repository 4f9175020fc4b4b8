"""Delivery recovery after a PMS outage, end to end.

The real embedded service (SQLite, jobs in the API process) over real HTTP against the built-in
Channex sandbox, pushing to a PMS receiver on a port of its own. The PMS answers 503 for
`--outage` seconds (60 by default) while guests book, modify and cancel on the simulated OTA;
then its first answer is a 500, and from then on it accepts. Measured: the time from the end
of the outage until the PMS has accepted every revision, each revision's delay from its
creation at the OTA to its acceptance, and whether any booking's revisions arrived out of order.

    .venv/bin/python benchmarks/delivery_recovery.py            # --outage 60 --bookings 30
    .venv/bin/python benchmarks/delivery_recovery.py --at-start # every booking at once

The figures of the code before probing (each delivery waiting out its own schedule: 1 s, 15 s,
1 min, 5 min …) were taken by running this script on that commit; see the README.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import httpx  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from fault_pms import PmsReceiver  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402

from app.main import create_app  # noqa: E402
from app.sandbox.app import create_sandbox_app  # noqa: E402
from app.sandbox.config import SandboxConfig  # noqa: E402
from app.services.delivery import new_secret  # noqa: E402
from app.serving import free_port, serving  # noqa: E402
from app.settings import ApiKey, Settings  # noqa: E402

SANDBOX_KEY = "bench-sandbox-key"
API_KEY = "bench-api-key"
DEADLINE_SECONDS = 900.0

Json = dict[str, Any]


class FlakyPms(PmsReceiver):
    """The receiver of the fault benchmark, which can also fail its next request with a 500."""

    fail_next = False

    async def handle(self, request: Request) -> JSONResponse:
        if self.fail_next and self.mode == "up":
            self.fail_next = False
            return JSONResponse({"ok": False}, status_code=500)
        return await super().handle(request)


def service_settings(database_url: str, sandbox_url: str, port: int, pms: FlakyPms) -> Settings:
    values: Json = {
        "database_url": database_url,
        "api_keys": [ApiKey(name="bench", key=SecretStr(API_KEY))],
        "channex_api_url": f"{sandbox_url}/api/v1",
        "channex_api_key": SecretStr(SANDBOX_KEY),
        "channex_webhook_secret": SecretStr("bench-webhook-secret"),
        "public_base_url": f"http://127.0.0.1:{port}",
        "allow_private_callbacks": True,
        "personal_data_keys": [SecretStr(Fernet.generate_key().decode())],
        "pms_delivery_url": pms.url,
        "pms_delivery_secret": SecretStr(pms.secret or ""),
        "access_log": False,
    }
    return Settings(_env_file=None, **values)


async def ok(response: httpx.Response) -> Any:
    if not response.is_success:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.text}")
    return response.json()


@asynccontextmanager
async def stack() -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, FlakyPms]]:
    """(the service's API, the sandbox's tools, the PMS) until the block ends."""
    sandbox = create_sandbox_app(SandboxConfig(api_key=SANDBOX_KEY, seed=7))
    pms = FlakyPms(port=free_port(), secret=new_secret())
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite+aiosqlite:///{folder}/bench.db"
        async with serving(sandbox, free_port()) as sandbox_url:
            settings = service_settings(database_url, sandbox_url, port, pms)
            headers = {"Authorization": f"Bearer {API_KEY}"}
            await pms.start()
            try:
                async with (
                    serving(create_app(settings), port) as url,
                    httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as api,
                    httpx.AsyncClient(base_url=f"{sandbox_url}/sandbox", timeout=60) as tools,
                ):
                    yield api, tools, pms
            finally:
                await pms.stop()


async def onboard(api: httpx.AsyncClient, tools: httpx.AsyncClient) -> tuple[str, str, str]:
    """A property with one room type and rate plan, connected to a Booking.com channel."""
    await ok(await api.put("/v1/organizations/org-1", json={"title": "Bench Hotels"}))
    body = {"organization_id": "org-1", "title": "Hotel Adler", "currency": "EUR",
            "timezone": "UTC"}  # fmt: skip
    prop = await ok(await api.put("/v1/properties/p-1", json=body))
    room_path = "/v1/properties/p-1/room-types/dbl"
    room_body = {"title": "Double", "count_of_rooms": 50, "occ_adults": 2}
    room = await ok(await api.put(room_path, json=room_body))
    rate_path = f"{room_path}/rate-plans/bar"
    rate = await ok(await api.put(rate_path, json={"title": "Best available rate"}))
    today = datetime.now(UTC).date()
    span = {"room_type_id": "dbl", "date_from": today.isoformat(),
            "date_to": (today + timedelta(days=90)).isoformat()}  # fmt: skip
    items = [
        {"type": "availability", **span, "availability": 40},
        {"type": "restrictions", "rate_plan_id": "bar", **span, "rate": "120.00"},
    ]
    await ok(await api.post("/v1/properties/p-1/ari", json={"items": items}))
    channex_id = prop["channex_property_id"]
    await ok(await tools.post(f"/properties/{channex_id}/channels", json={"channel": "BookingCom"}))
    return channex_id, room["channex_room_type_id"], rate["channex_rate_plan_id"]


@dataclass(frozen=True)
class Figures:
    label: str
    revisions: int
    first_accepted_seconds: float  # end of the outage -> the PMS's first 2xx
    drained_seconds: float  # the PMS's first 2xx -> every revision accepted
    delay_p50: float
    delay_max: float
    out_of_order: int
    lost: int
    attempts_during_outage: int


async def run(label: str, outage: float, bookings: int, *, at_start: bool) -> Figures:
    async with stack() as (api, tools, pms):
        prop, room, rate = await onboard(api, tools)
        await asyncio.sleep(3)  # ARI pushed, webhook registered
        pms.mode = "503"
        outage_started = time.monotonic()
        created: dict[str, float] = {}  # revision id -> when the OTA made it
        today = datetime.now(UTC).date()
        made: list[str] = []
        # Spread over the outage, or all in its first seconds (--at-start): then every
        # delivery's schedule is in step, and its retries land together after the outage.
        gap = 0.1 if at_start else outage * 0.8 / max(1, bookings)
        for n in range(bookings):
            arrival = today + timedelta(days=10 + n % 30)
            body = {"channel": "BookingCom", "room_type_id": room, "rate_plan_id": rate,
                    "arrival_date": arrival.isoformat(),
                    "departure_date": (arrival + timedelta(days=2)).isoformat(),
                    "guest": {"name": f"Guest {n}"}}  # fmt: skip
            answer = await ok(await tools.post(f"/properties/{prop}/bookings", json=body))
            made.append(answer["data"]["booking_id"])
            created[answer["data"]["revision_id"]] = time.monotonic()
            if n % 3 == 2:  # a third are modified a moment later: their order matters
                change = {"departure_date": (arrival + timedelta(days=3)).isoformat()}
                modified = await ok(await tools.post(f"/bookings/{made[-1]}/modify", json=change))
                created[modified["data"]["revision_id"]] = time.monotonic()
            await asyncio.sleep(gap)
        await asyncio.sleep(max(0.0, outage - (time.monotonic() - outage_started)))
        attempts_during = len(pms.received)
        pms.fail_next = True
        pms.mode = "up"
        recovered_at = time.monotonic()
        accepted: dict[str, float] = {}
        deadline = recovered_at + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            accepted = {
                r.revision_id: r.at for r in pms.received if r.status == 200 and r.revision_id
            }
            if set(created) <= set(accepted):
                break
            await asyncio.sleep(0.1)
        first_ok = min(accepted.values(), default=deadline)
        drained = max(accepted.get(r, deadline) for r in created) - first_ok
        delays = [accepted[r] - created[r] for r in created if r in accepted]
        return Figures(
            label,
            len(created),
            first_ok - recovered_at,
            drained,
            statistics.median(delays) if delays else float("nan"),
            max(delays) if delays else float("nan"),
            _out_of_order(pms),
            len(set(created) - set(accepted)),
            attempts_during,
        )


def _out_of_order(pms: FlakyPms) -> int:
    """Accepted deliveries whose sequence is below one already accepted for the booking."""
    highest: dict[str, int] = {}
    wrong = 0
    for r in pms.received:
        if r.status != 200 or r.booking_id is None or r.sequence is None:
            continue
        if r.sequence < highest.get(r.booking_id, 0):
            wrong += 1
        highest[r.booking_id] = max(highest.get(r.booking_id, 0), r.sequence)
    return wrong


def report(args: argparse.Namespace, results: list[Figures]) -> None:
    when = "at the start of" if args.at_start else "during"
    print(f"\nPMS down {args.outage:.0f} s (503), then one 500, then up; "
          f"{args.bookings} bookings (a third modified) {when} the outage\n")  # fmt: skip
    print("| run | revisions | first 2xx after the outage | then all accepted in "
          "| delay p50 | delay max "
          "| out of order | lost | attempts during outage |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for f in results:
        print(f"| {f.label} | {f.revisions} | {f.first_accepted_seconds:.1f} s "
              f"| {f.drained_seconds:.1f} s | {f.delay_p50:.1f} s "
              f"| {f.delay_max:.1f} s | {f.out_of_order} | {f.lost} "
              f"| {f.attempts_during_outage} |")  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    results = [await run(args.label, args.outage, args.bookings, at_start=args.at_start)]
    report(args, results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the PMS is down")
    parser.add_argument("--bookings", type=int, default=30, help="bookings during the outage")
    parser.add_argument("--at-start", action="store_true", help="book at the outage's start")
    parser.add_argument("--label", default="this build", help="the run's name in the table")
    asyncio.run(main(parser.parse_args()))
