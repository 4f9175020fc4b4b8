"""Fairness of the account-wide Channex budget between organizations, end to end.

The real service over real HTTP against the built-in Channex sandbox: organization A asks for
full syncs of `--properties` properties (POST /v1/properties/{id}/sync each, two Channex
requests per property), and `--b-at` seconds later organization B changes one availability
value of its one property (POST /v1/properties/{id}/ari). Measured: the time from B's POST
until the sandbox holds B's value (its inspection API polled every 50 ms), and how many of A's
requests reached the sandbox before B's did. Once with each organization allowed the whole
account budget (tenant share 1, as before issue 11), once with CHANNEX_TENANT_SHARE (default
0.8); the run stops when B's value is seen, not when A's backlog is done.

    .venv/bin/python benchmarks/tenant_fairness_e2e.py     # --properties 500 --b-at 5 --share

Set-up (not measured): a service instance with an unlimited budget onboards A's properties
(each one room type and one rate plan, with `--days` days of ARI pushed, 500 by default: the
whole horizon) and B's, through the API. Each measurement then starts a fresh instance on a
copy of that database (SQLite, embedded mode: jobs in the API process) with the production
limits: 600 requests a minute and 18,000 an hour for the account, 10 per minute per property
and endpoint, no debounce (the default; 2 s before issue 14). Only the per-organization
property quota is raised (A has more than the default 100) and the access log is off. The
sandbox runs in this process on its own port and outlives the instances; it counts every ARI
write (`GET /sandbox/ari/writes`). The printed rate of A's requests says whether the budget
or the service's own speed bounded A. See benchmarks/tenant_fairness.py for the limiter's
policy alone on a simulated clock.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from pydantic import SecretStr

from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.state import SandboxState
from app.serving import free_port, serving
from app.settings import ApiKey, Settings

SANDBOX_KEY = "bench-sandbox-key"
API_KEY = "bench-api-key"
TIMEZONE = "UTC"  # so that the service's "today" is the script's
IN_FLIGHT = 20  # API calls at once, during the set-up and for A's sync requests
POLL_SECONDS = 0.05

Json = dict[str, Any]


def service_settings(database_url: str, sandbox_url: str, *, share: float | None) -> Settings:
    """Production limits when measuring (`share` given); an unlimited budget for the set-up."""
    values: Json = {
        "database_url": database_url,
        "api_keys": [ApiKey(name="bench", key=SecretStr(API_KEY))],
        "channex_api_url": f"{sandbox_url}/api/v1",
        "channex_api_key": SecretStr(SANDBOX_KEY),
        # A has more properties than the default per-organization quota (100).
        "quota_properties_per_organization": 100_000,
        "access_log": False,  # a line per request would bury the figures
    }
    if share is None:
        values |= {
            "channex_global_limit_per_minute": 10**6,
            "channex_global_limit_per_hour": 10**7,
            "ari_push_debounce_seconds": 0.0,
        }
    else:
        values["channex_tenant_share"] = share
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def service(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service on a port of its own, and a client of its API, until the block ends."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        serving(create_app(settings), free_port()) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as api,
    ):
        yield api


async def ok(response: httpx.Response) -> Any:
    if not response.is_success:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return response.json()


async def at_most(limit: int, calls: Iterable[Awaitable[object]]) -> None:
    """Await the calls, `limit` at a time, as a PMS with a bounded connection pool would."""
    slots = asyncio.Semaphore(limit)

    async def one(call: Awaitable[object]) -> None:
        async with slots:
            await call

    await asyncio.gather(*(one(call) for call in calls))


# --- set-up ----------------------------------------------------------------------------------


@dataclass
class RetryingClient:
    """API calls of A and of the set-up, each sent again after a 500, as a PMS would: PUTs
    and ARI batches are idempotent, and on SQLite a write can fail with "database is locked"
    while other requests and the pushes write (counted, and printed)."""

    api: httpx.AsyncClient
    retried: int = 0

    async def send(self, method: str, path: str, body: Json | None = None) -> None:
        for _ in range(3):
            response = await self.api.request(method, path, json=body)
            if response.status_code != 500:
                break
            self.retried += 1
        await ok(response)


async def onboard(
    client: RetryingClient, organization: str, pms_id: str, today: date, days: int
) -> None:
    """A property with one room type and one rate plan, and `days` days of ARI to push."""
    body = {"organization_id": organization, "title": pms_id, "currency": "EUR",
            "timezone": TIMEZONE}  # fmt: skip
    await client.send("PUT", f"/v1/properties/{pms_id}", body)
    room = f"/v1/properties/{pms_id}/room-types/dbl"
    await client.send("PUT", room, {"title": "Double", "count_of_rooms": 20, "occ_adults": 2})
    await client.send("PUT", f"{room}/rate-plans/bar", {"title": "Best available rate"})
    last = (today + timedelta(days=days - 1)).isoformat()
    span = {"room_type_id": "dbl", "date_from": today.isoformat(), "date_to": last}
    prices = {"rate_plan_id": "bar", "type": "restrictions", **span}
    items = [
        {"type": "availability", **span, "availability": 8},
        {**prices, "rate": "100.00", "days": ["mo", "tu", "we", "th", "su"]},
        {**prices, "rate": "130.00", "days": ["fr", "sa"], "min_stay_arrival": 2},
    ]
    await client.send("POST", f"/v1/properties/{pms_id}/ari", {"items": items})


async def set_up(
    sandbox_url: str, database_url: str, properties: int, days: int
) -> tuple[float, int]:
    """Onboard A's properties and B's, and push their ARI; the seconds it took, and how many
    calls were sent again after a 500."""
    started = time.monotonic()
    today = datetime.now(UTC).date()
    settings = service_settings(database_url, sandbox_url, share=None)
    async with service(settings) as api:
        client = RetryingClient(api)
        for organization in ("org-a", "org-b"):
            await client.send("PUT", f"/v1/organizations/{organization}", {"title": "Bench"})
        await at_most(
            IN_FLIGHT,
            (onboard(client, "org-a", f"a-{n}", today, days) for n in range(properties)),
        )
        await onboard(client, "org-b", "b-0", today, days)
        await wait_pushed(api, [f"a-{n}" for n in range(properties)] + ["b-0"], today)
    return time.monotonic() - started, client.retried


async def wait_pushed(api: httpx.AsyncClient, pms_ids: list[str], today: date) -> None:
    """Until Channex holds every property's ARI (the set-up's pushes are done)."""
    query = {"from": today.isoformat(), "to": today.isoformat()}
    for pms_id in pms_ids:
        for _ in range(600):
            state = await ok(await api.get(f"/v1/properties/{pms_id}/ari", params=query))
            if all(cell["status"] == "in_sync" for cell in state["cells"]):
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"{pms_id}: ARI not pushed within 60 s")


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy, WAL included (sqlite3's online backup)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


# --- one measurement ---------------------------------------------------------------------


@dataclass
class Figures:
    share: float
    latency: float  # B's POST until the sandbox holds B's value
    b_answered: float  # B's POST until its 202
    b_request_at: float  # B's request's arrival, seconds after A's syncs were asked for
    a_before: int  # A's requests that reached the sandbox before B's
    a_while: int  # of those, the ones that arrived after B's POST
    a_asked_in: float  # seconds to POST all of A's syncs
    rate_limited: int  # 429s the sandbox answered during the measurement
    a_retried: int  # A's calls answered 500 (and sent again)


@dataclass
class Target:
    pms_id: str
    channex_property_id: str
    channex_room_type_id: str


async def target_of(api: httpx.AsyncClient, pms_id: str) -> Target:
    prop = await ok(await api.get(f"/v1/properties/{pms_id}"))
    room = await ok(await api.get(f"/v1/properties/{pms_id}/room-types/dbl"))
    return Target(pms_id, prop["channex_property_id"], room["channex_room_type_id"])


async def measure(
    sandbox_url: str,
    sandbox: SandboxState,
    database_url: str,
    args: argparse.Namespace,
    share: float,
    b_value: int,
) -> Figures:
    """A's syncs asked for at 0 s (still being asked for, maybe, when B's change comes)."""
    clock = SandboxClock(sandbox)
    day = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    limited_before = _rate_limited(sandbox)
    settings = service_settings(database_url, sandbox_url, share=share)
    async with (
        service(settings) as api,
        httpx.AsyncClient(base_url=f"{sandbox_url}/sandbox", timeout=30) as tools,
    ):
        b = await target_of(api, "b-0")
        started = clock.now()
        a_client = RetryingClient(api)
        a_syncs = asyncio.create_task(request_syncs(a_client, args, clock, b_value))
        await asyncio.sleep(args.b_at)
        item = {"type": "availability", "room_type_id": "dbl", "date_from": day, "date_to": day,
                "availability": b_value}  # fmt: skip
        b_posted = clock.now()
        await ok(await api.post("/v1/properties/b-0/ari", json={"items": [item]}))
        b_answered = clock.now() - b_posted
        latency = await wait_visible(tools, clock, b, day, b_value, args.timeout) - b_posted
        a_asked_in = await a_syncs - started
        writes = (await ok(await tools.get("/ari/writes")))["data"]
    b_times = writes[b.channex_property_id]["POST /availability"]["times"]
    b_arrival = min(t for t in b_times if t >= b_posted)
    a_times = [
        t
        for prop, endpoints in writes.items()
        if prop != b.channex_property_id
        for log in endpoints.values()
        for t in log["times"]
        if started <= t < b_arrival
    ]
    return Figures(
        share, latency, b_answered, b_arrival - started, len(a_times),
        sum(1 for t in a_times if t >= b_posted), a_asked_in,
        _rate_limited(sandbox) - limited_before, a_client.retried,
    )  # fmt: skip


async def request_syncs(
    client: RetryingClient, args: argparse.Namespace, clock: SandboxClock, value: int
) -> float:
    """A full sync of each of A's properties (or, with --a-changes, a change of its whole
    availability, sent by an ordinary push); the sandbox time the last was answered."""
    pms_ids = [f"a-{n}" for n in range(args.properties)]
    if args.a_changes:
        await at_most(
            IN_FLIGHT, (change_all(client, pms_id, args.days, value) for pms_id in pms_ids)
        )
    else:
        await at_most(IN_FLIGHT, (request_sync(client, pms_id) for pms_id in pms_ids))
    return clock.now()


async def request_sync(client: RetryingClient, pms_id: str) -> None:
    await client.send("POST", f"/v1/properties/{pms_id}/sync")


async def change_all(client: RetryingClient, pms_id: str, days: int, value: int) -> None:
    today = datetime.now(UTC).date()
    last = today + timedelta(days=days - 1)
    item = {"type": "availability", "room_type_id": "dbl", "availability": value,
            "date_from": today.isoformat(), "date_to": last.isoformat()}  # fmt: skip
    await client.send("POST", f"/v1/properties/{pms_id}/ari", {"items": [item]})


class SandboxClock:
    """Seconds since the sandbox started, the clock of its write log (same process)."""

    def __init__(self, sandbox: SandboxState) -> None:
        self._started = sandbox.started

    def now(self) -> float:
        return time.monotonic() - self._started


async def wait_visible(
    tools: httpx.AsyncClient,
    clock: SandboxClock,
    b: Target,
    day: str,
    value: int,
    seconds: float,
) -> float:
    """Poll the sandbox until it holds B's value; the sandbox time it was first seen."""
    deadline = clock.now() + seconds
    while clock.now() < deadline:
        held = await ok(await tools.get("/ari", params={"property_id": b.channex_property_id}))
        if held["data"]["availability"].get(b.channex_room_type_id, {}).get(day) == value:
            return clock.now()
        await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError(f"B's change did not reach the sandbox within {seconds:.0f} s")


def _rate_limited(sandbox: SandboxState) -> int:
    return sum(counter.rate_limited for counter in sandbox.store.counters.values())


# --- main ------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    sandbox_app = create_sandbox_app(SandboxConfig(api_key=SANDBOX_KEY, seed=1))
    sandbox: SandboxState = sandbox_app.state.sandbox
    with tempfile.TemporaryDirectory() as tmp:
        setup_db = Path(tmp) / "setup.db"
        async with serving(sandbox_app) as sandbox_url:
            setup_url = f"sqlite+aiosqlite:///{setup_db}"
            took, retried = await set_up(sandbox_url, setup_url, args.properties, args.days)
            print(
                f"Set-up: org A with {args.properties} properties, org B with 1, each one room"
                f" type and one rate plan with {args.days} days of ARI: {took:.0f} s"
                f" ({retried} calls answered 500 and were sent again)"
            )
            results = []
            for n, share in enumerate((1.0, args.share)):
                database = Path(tmp) / f"measure-{n}.db"
                copy_database(setup_db, database)
                url = f"sqlite+aiosqlite:///{database}"
                results.append(await measure(sandbox_url, sandbox, url, args, share, 1 + n))
    report(args, results)


def report(args: argparse.Namespace, results: list[Figures]) -> None:
    print(
        f"A: {'POST /ari' if args.a_changes else 'POST /sync'} for {args.properties}"
        f" properties ({(1 if args.a_changes else 2) * args.properties} Channex requests)"
        f" from 0 s; B: one availability change at {args.b_at:.0f} s."
        " Production limits: 600/min and 18,000/h for the account, 10/min per property"
        " and endpoint, no debounce."
    )
    print(
        "  tenant share   B's latency   (POST answered)   B's request at"
        "   A's requests before B's (after B's POST)   A's POSTs took   429s   A's 500s"
    )
    for r in results:
        print(
            f"  {r.share:>12.2f}   {r.latency:>9.2f} s   ({r.b_answered:>10.2f} s)"
            f"   {r.b_request_at:>12.2f} s   {r.a_before:>23} ({r.a_while:>15})"
            f"   {r.a_asked_in:>12.1f} s   {r.rate_limited:>4}   {r.a_retried:>8}"
        )
    whole, shared = results
    rate = max(r.a_before / r.b_request_at for r in results) * 60
    budget = Settings(_env_file=None).channex_global_limit_per_minute
    bound = "the budget" if rate >= 0.95 * budget else "the service's own speed, not the budget,"
    print(f"  A's requests reached the sandbox at up to {rate:.0f} a minute: {bound} bounds A")
    print(
        f"  B's latency with share 1.00 / with share {shared.share:.2f}:"
        f" {whole.latency / shared.latency:.1f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=500, help="organization A's")
    parser.add_argument("--b-at", type=float, default=5.0, help="seconds after A's syncs")
    parser.add_argument(
        "--share", type=float, default=Settings(_env_file=None).channex_tenant_share
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="for B's change")
    parser.add_argument(
        "--a-changes",
        action="store_true",
        help="A changes each property's availability instead of asking for full syncs",
    )
    parser.add_argument(
        "--days", type=int, default=500, help="ARI per property (default: the whole horizon)"
    )
    asyncio.run(main(parser.parse_args()))
