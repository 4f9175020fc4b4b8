"""ARI latency (issue 14): how soon a single PMS change reaches Channex, and a burst's requests.

The real service over real HTTP against the built-in Channex sandbox, at production limits
(10 writes per minute per property and endpoint, 6.3 s apart with the margin; 600 a minute
for the account), the default settings otherwise (no debounce: the leading edge). The sandbox
runs in this process on its own port; its state is read in-process every 2 ms, so the
figures carry no polling over HTTP.

    .venv/bin/python benchmarks/ari_latency.py           # embedded: SQLite, jobs in the API
    .venv/bin/python benchmarks/ari_latency.py --redis   # PostgreSQL, arq workers on Redis

`--redis` creates a temporary PostgreSQL database on 127.0.0.1:5432 (user postgres) unless
`--database-url` names one, and uses the Redis at `--redis-url` under a namespace of its own;
the arq workers (one per queue, as `channel-sync worker` runs them) share this process.

1. `--changes` single availability changes (one POST /ari each), `--gap` seconds apart, more
   than the slot, so each finds its endpoint idle: p50, p99 and max of the time from the POST
   until the sandbox holds the value. Target: p99 <= 0.5 s.
2. `--burst` changes (availability and rates, one POST each, random dates and values) spread
   evenly over `--burst-seconds`: requests per endpoint, the most in any rolling minute
   (Channex allows 10), 429s, and the time from the last POST until the sandbox holds every
   desired value. Targets: <= 10 per endpoint per minute, converged within 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import httpx  # noqa: E402
import tenant_fairness_e2e as fairness  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from app.jobs.namespace import RedisNames  # noqa: E402
from app.jobs.queue import create_json_pool  # noqa: E402
from app.jobs.registry import build_registry  # noqa: E402
from app.jobs.spec import ALL_QUEUES  # noqa: E402
from app.jobs.worker import (  # noqa: E402
    WorkerGroup,
    build_worker_settings,
    queues_with_jobs,
    worker_factory,
)
from app.migrate import upgrade  # noqa: E402
from app.resources import open_worker_resources  # noqa: E402
from app.sandbox.app import create_sandbox_app  # noqa: E402
from app.sandbox.config import SandboxConfig  # noqa: E402
from app.sandbox.state import SandboxState  # noqa: E402
from app.serving import serving  # noqa: E402
from app.settings import ApiKey, Settings  # noqa: E402

PMS_ID = "lat-0"
DAYS = 60  # ARI pushed at set-up, and the dates the changes land on
POLL_SECONDS = 0.002
Json = dict[str, Any]


def service_settings(args: argparse.Namespace, database_url: str, sandbox_url: str) -> Settings:
    values: Json = {
        "database_url": database_url,
        "api_keys": [ApiKey(name="bench", key=SecretStr(fairness.API_KEY))],
        "channex_api_url": f"{sandbox_url}/api/v1",
        "channex_api_key": SecretStr(fairness.SANDBOX_KEY),
        "access_log": False,
    }
    if args.redis:
        values |= {
            "redis_url": args.redis_url,
            "redis_namespace": f"bench-latency-{uuid4().hex[:8]}",
        }
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def arq_workers(settings: Settings) -> AsyncIterator[None]:
    """One arq worker per queue in this process, with production settings."""
    assert settings.redis_url is not None
    registry = build_registry()
    pool = await create_json_pool(settings.redis_url)
    resources = await open_worker_resources(settings, pool, registry)
    factories = [
        worker_factory(
            build_worker_settings(settings, queue, registry),
            settings.redis_url,
            resources.context(),
        )
        for queue in queues_with_jobs(registry, ALL_QUEUES)
    ]
    group = WorkerGroup(factories)
    running = asyncio.create_task(group.run())
    try:
        yield
    finally:
        group.stop()
        await running
        await resources.aclose()
        names = RedisNames.of(settings)
        keys = [key async for key in pool.scan_iter(match=f"*{names.namespace}*")]
        if keys:
            await pool.delete(*keys)
        await pool.aclose(close_connection_pool=True)


@asynccontextmanager
async def database(args: argparse.Namespace, tmp: Path) -> AsyncIterator[str]:
    """The database URL: --database-url, a temporary PostgreSQL one (--redis), or SQLite."""
    if args.database_url:
        yield args.database_url
        return
    if not args.redis:
        yield f"sqlite+aiosqlite:///{tmp / 'latency.db'}"
        return
    name = f"bench_latency_{uuid4().hex[:8]}"
    pg = ["-h", "127.0.0.1", "-U", "postgres"]
    await asyncio.to_thread(subprocess.run, ["createdb", *pg, name], check=True)
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await asyncio.to_thread(subprocess.run, ["dropdb", *pg, "--force", name], check=True)


class Sandbox:
    """The sandbox's own state, read in this process."""

    def __init__(self, state: SandboxState, channex_property_id: str) -> None:
        self.state = state
        self.property_id = channex_property_id

    def availability(self, room_id: str, day: date) -> int | None:
        return self.state.store.availability.get(room_id, {}).get(day)

    def rate(self, plan_id: str, day: date) -> Any:
        return self.state.store.restrictions.get(plan_id, {}).get(day, {}).get("rate")

    def arrivals(self, endpoint: str) -> list[float]:
        """Monotonic times of the property's writes to `endpoint` (refused ones too)."""
        times = self.state.store.arrivals.get((self.property_id, f"POST /{endpoint}"), [])
        return [self.state.started + t for t in times]

    def rate_limited(self) -> int:
        return sum(c.rate_limited for c in self.state.store.counters.values())


async def until(condition: Callable[[], bool], seconds: float) -> float:
    """The monotonic time `condition` first held, polled every 2 ms."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not at the sandbox within {seconds:.0f} s")
        await asyncio.sleep(POLL_SECONDS)
    return time.monotonic()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: with fewer than 100 values, p99 is the largest."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def item(kind: str, day: date, value: int) -> Json:
    span = {"room_type_id": "dbl", "date_from": day.isoformat(), "date_to": day.isoformat()}
    if kind == "availability":
        return {"type": "availability", **span, "availability": value}
    return {"type": "restrictions", "rate_plan_id": "bar", **span, "rate": f"{value}.00"}


async def singles(
    args: argparse.Namespace,
    api: httpx.AsyncClient,
    sandbox: Sandbox,
    room_id: str,
    today: date,
) -> list[float]:
    """Single availability changes, `--gap` s apart; each one's POST → value at the sandbox."""
    latencies = []
    await asyncio.sleep(args.gap)  # the set-up's pushes have used the slots
    for n in range(args.changes):
        day = today + timedelta(days=1 + n % (DAYS - 2))
        value = 1 + n % 9 if sandbox.availability(room_id, day) != 1 + n % 9 else 10
        body = {"items": [item("availability", day, value)]}

        def arrived(day: date = day, value: int = value) -> bool:
            return sandbox.availability(room_id, day) == value

        started = time.monotonic()
        await fairness.ok(await api.post(f"/v1/properties/{PMS_ID}/ari", json=body))
        seen = await until(arrived, 30)
        latencies.append(seen - started)
        print(f"  change {n + 1:>2}: {latencies[-1] * 1000:7.1f} ms", flush=True)
        await asyncio.sleep(max(0.0, started + args.gap - time.monotonic()))
    return latencies


async def burst(
    args: argparse.Namespace,
    api: httpx.AsyncClient,
    sandbox: Sandbox,
    ids: dict[str, str],
    today: date,
) -> Json:
    """`--burst` changes over `--burst-seconds`; requests, 429s, convergence."""
    rng = random.Random(14)
    desired: dict[tuple[str, date], int] = {}
    limited_before = sandbox.rate_limited()
    started = time.monotonic()
    step = args.burst_seconds / args.burst
    for n in range(args.burst):
        kind = "availability" if rng.random() < 0.5 else "restrictions"
        day = today + timedelta(days=1 + rng.randrange(DAYS - 2))
        value = rng.randrange(1, 10) if kind == "availability" else rng.randrange(80, 200)
        desired[(kind, day)] = value
        await fairness.ok(
            await api.post(f"/v1/properties/{PMS_ID}/ari", json={"items": [item(kind, day, value)]})
        )
        await asyncio.sleep(max(0.0, started + (n + 1) * step - time.monotonic()))
    last = time.monotonic()

    def converged() -> bool:
        for (kind, day), value in desired.items():
            if kind == "availability":
                if sandbox.availability(ids["room"], day) != value:
                    return False
            elif Decimal(str(sandbox.rate(ids["plan"], day) or 0)) != value:
                return False
        return True

    seen = await until(converged, 120)
    figures: Json = {"took": last - started, "converged": seen - last}
    for endpoint in ("availability", "restrictions"):
        times = [t for t in sandbox.arrivals(endpoint) if t >= started]
        figures[endpoint] = (len(times), busiest_minute(times))
    figures["429s"] = sandbox.rate_limited() - limited_before
    return figures


def busiest_minute(times: list[float]) -> int:
    """The most of `times` inside any rolling 60 s, as Channex counts them."""
    busiest, first = 0, 0
    for last, arrival in enumerate(times):
        while arrival - times[first] >= 60.0:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    sandbox_app = create_sandbox_app(SandboxConfig(api_key=fairness.SANDBOX_KEY, seed=1))
    state: SandboxState = sandbox_app.state.sandbox
    today = datetime.now(UTC).date()
    mode = "--redis: PostgreSQL, arq workers on Redis" if args.redis else "embedded: SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            database_url = await stack.enter_async_context(database(args, Path(tmp)))
            sandbox_url = await stack.enter_async_context(serving(sandbox_app))
            settings = service_settings(args, database_url, sandbox_url)
            api = await stack.enter_async_context(fairness.service(settings))
            if args.redis:
                await stack.enter_async_context(arq_workers(settings))
            client = fairness.RetryingClient(api)
            await client.send("PUT", "/v1/organizations/org-lat", {"title": "Bench"})
            await fairness.onboard(client, "org-lat", PMS_ID, today, DAYS)
            await fairness.wait_pushed(api, [PMS_ID], today)
            target = await fairness.target_of(api, PMS_ID)
            plan = await fairness.ok(
                await api.get(f"/v1/properties/{PMS_ID}/room-types/dbl/rate-plans/bar")
            )
            sandbox = Sandbox(state, target.channex_property_id)
            ids = {"room": target.channex_room_type_id, "plan": plan["channex_rate_plan_id"]}
            debounce = settings.ari_push_debounce_seconds
            print(f"ARI latency, {mode}; production limits, debounce {debounce:g} s")
            print(f"1. {args.changes} single availability changes, {args.gap:.0f} s apart")
            latencies = await singles(args, api, sandbox, ids["room"], today)
            figures = None
            if args.burst:
                await asyncio.sleep(args.gap)
                figures = await burst(args, api, sandbox, ids, today)
    ms = [x * 1000 for x in latencies]
    print(
        f"  POST -> value at the sandbox: p50 {statistics.median(ms):.0f} ms,"
        f" p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms (n={len(ms)})"
    )
    if figures is not None:
        print(f"2. {args.burst} changes in {figures['took']:.0f} s (availability and rates)")
        for endpoint in ("availability", "restrictions"):
            count, busiest = figures[endpoint]
            print(f"  {endpoint:<12} {count:>3} requests, at most {busiest} in any 60 s")
        print(f"  429s: {figures['429s']}; converged {figures['converged']:.1f} s after the last")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=12, help="single changes")
    parser.add_argument("--gap", type=float, default=7.0, help="seconds between them")
    parser.add_argument("--burst", type=int, default=1000, help="changes in the burst (0: none)")
    parser.add_argument("--burst-seconds", type=float, default=60.0)
    parser.add_argument("--redis", action="store_true", help="arq workers on Redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", help="instead of a temporary database")
    asyncio.run(main(parser.parse_args()))
