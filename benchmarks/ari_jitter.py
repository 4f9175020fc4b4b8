"""The rate-limit headroom under network jitter, end to end (issue 14).

The real service (embedded mode: SQLite, jobs in the API process) over real HTTP against the
built-in Channex sandbox, at the production limits: 10 writes per minute per property and ARI
endpoint, 600 a minute and 18,000 an hour for the account. The sandbox delays every Channex
API request by a uniform draw in [0, 2 x --jitter] before it records its arrival and checks
its rolling window (the `jitter_seconds` fault): arrivals move up to ±J around a base delay of
J (200 ms ± 200 ms by default), so two requests the limiter granted t apart arrive anywhere
from t - 2J to t + 2J apart. The base only shifts every arrival alike; the spread is what
can squeeze an eleventh arrival into one of Channex's rolling minutes.

Load: `--properties` properties (one room type, one rate plan each), each sent one PMS change
a second (POST /v1/properties/{id}/ari with one availability and one price item) for
`--seconds`, so both of each property's endpoints always have cells waiting: the limiter's
spacing, not the PMS, sets the pace. Then the run waits until Channex holds everything.
Measured from the sandbox's record of every ARI write (refused ones too), per property and
endpoint: the most arrivals in any 60 s window (sliding, exact: every window that starts at
an arrival), the 429s, and the smallest gap between two arrivals. Once per `--margins`
(CHANNEX_RATE_LIMIT_MARGIN; by default 0 and the default setting), each on a fresh sandbox
and database, in one invocation:

    .venv/bin/python benchmarks/ari_jitter.py    # --properties 3 --seconds 180 --jitter 0.2

Target: no window holds more than 10 arrivals, and no 429. The spacing alone guarantees it
when 10 spacings outlast a minute by more than the spread: 10 x 6 s x (1 + margin) - 2J > 60 s,
i.e. margin > 2J / 60 s (0.67 % at J = 0.2 s), before the service's own scheduling noise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from pydantic import SecretStr

from app.channex.ratelimit import spacing
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.ratelimit import busiest_window
from app.sandbox.state import SandboxState
from app.serving import free_port, serving
from app.settings import ApiKey, Settings

SANDBOX_KEY = "bench-sandbox-key"
API_KEY = "bench-api-key"
TIMEZONE = "UTC"  # so that the service's "today" is the script's
DAYS = 60  # changes fall on the next 60 days
LIMIT = 10  # Channex's writes per minute per property and endpoint (channex-api.md §6.5)
CONVERGE_SECONDS = 300.0

Json = dict[str, Any]


def service_settings(database_url: str, sandbox_url: str, margin: float) -> Settings:
    """Production limits (the defaults); only the margin varies, and the access log is off."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        api_keys=[ApiKey(name="bench", key=SecretStr(API_KEY))],
        channex_api_url=f"{sandbox_url}/api/v1",
        channex_api_key=SecretStr(SANDBOX_KEY),
        channex_rate_limit_margin=margin,
        access_log=False,  # a line per request would bury the figures
    )


@asynccontextmanager
async def service(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service on a port of its own, and a client of its API, until the block ends."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        serving(create_app(settings), free_port()) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as api,
    ):
        yield api


async def ok(response: httpx.Response) -> Any:
    if not response.is_success:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return response.json()


async def onboard(api: httpx.AsyncClient, pms_id: str) -> None:
    """A property with one room type and one rate plan."""
    body = {"organization_id": "org-j", "title": pms_id, "currency": "EUR", "timezone": TIMEZONE}
    await ok(await api.put(f"/v1/properties/{pms_id}", json=body))
    room = f"/v1/properties/{pms_id}/room-types/dbl"
    await ok(await api.put(room, json={"title": "Double", "count_of_rooms": 20, "occ_adults": 2}))
    await ok(await api.put(f"{room}/rate-plans/bar", json={"title": "Best available rate"}))


def change(rng: random.Random, today: date) -> list[Json]:
    """One PMS change: an availability and a price on random days."""
    stay = (today + timedelta(days=rng.randrange(DAYS))).isoformat()
    sale = (today + timedelta(days=rng.randrange(DAYS))).isoformat()
    return [
        {"type": "availability", "room_type_id": "dbl", "date_from": stay, "date_to": stay,
         "availability": rng.randint(0, 20)},
        {"type": "restrictions", "room_type_id": "dbl", "rate_plan_id": "bar",
         "date_from": sale, "date_to": sale, "rate": f"{rng.randint(80, 300)}.00"},
    ]  # fmt: skip


async def load(api: httpx.AsyncClient, pms_ids: list[str], seconds: float, seed: int) -> None:
    """A change to every property each second, on a fixed schedule (late ticks catch up)."""
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    started = time.monotonic()
    for tick in range(round(seconds)):
        await asyncio.sleep(max(0.0, started + tick - time.monotonic()))
        posts = [
            api.post(f"/v1/properties/{pms_id}/ari", json={"items": change(rng, today)})
            for pms_id in pms_ids
        ]
        for response in await asyncio.gather(*posts):
            await ok(response)


async def wait_in_sync(api: httpx.AsyncClient, pms_ids: list[str]) -> float:
    """Until Channex holds every cell of the changed days; the seconds it took."""
    started = time.monotonic()
    today = datetime.now(UTC).date()
    query = {"from": today.isoformat(), "to": (today + timedelta(days=DAYS)).isoformat()}
    for pms_id in pms_ids:
        while True:
            state = await ok(await api.get(f"/v1/properties/{pms_id}/ari", params=query))
            if all(cell["status"] == "in_sync" for cell in state["cells"]):
                break
            if time.monotonic() - started > CONVERGE_SECONDS:
                raise RuntimeError(f"{pms_id}: not in sync {CONVERGE_SECONDS:.0f} s after the load")
            await asyncio.sleep(0.5)
    return time.monotonic() - started


# --- one run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """The arrivals of one property and endpoint at the sandbox."""

    property_id: str
    endpoint: str
    times: list[float]

    @property
    def busiest(self) -> int:
        return busiest_window(self.times, 60.0)

    @property
    def min_gap(self) -> float:
        gaps = [b - a for a, b in zip(self.times, self.times[1:], strict=False)]
        return min(gaps, default=float("inf"))

    def per_minute(self, since: float, until: float) -> float:
        """Arrivals a minute while the load ran: near 60 / spacing means saturated."""
        inside = sum(1 for t in self.times if since <= t < until)
        return inside / (until - since) * 60


@dataclass(frozen=True)
class Run:
    margin: float
    streams: list[Stream]
    rate_limited: dict[str, int]  # endpoint → 429s
    load_from: float
    load_until: float
    converged: float

    @property
    def busiest(self) -> int:
        return max(s.busiest for s in self.streams)

    @property
    def min_gap(self) -> float:
        return min(s.min_gap for s in self.streams)

    @property
    def arrivals(self) -> int:
        return sum(len(s.times) for s in self.streams)

    @property
    def refused(self) -> int:
        return sum(self.rate_limited.values())

    @property
    def passes(self) -> bool:
        return self.busiest <= LIMIT and self.refused == 0


async def run(args: argparse.Namespace, margin: float, tmp: Path) -> Run:
    sandbox_app = create_sandbox_app(SandboxConfig(api_key=SANDBOX_KEY, seed=args.seed))
    sandbox: SandboxState = sandbox_app.state.sandbox
    database_url = f"sqlite+aiosqlite:///{tmp / f'margin-{margin}.db'}"
    async with (
        serving(sandbox_app) as sandbox_url,
        httpx.AsyncClient(base_url=f"{sandbox_url}/sandbox", timeout=30) as tools,
    ):
        # From the first request on: every arrival the window sees has crossed the jitter.
        faults = {"jitter_seconds": args.jitter, "seed": args.seed}
        await ok(await tools.put("/faults", json=faults))
        async with service(service_settings(database_url, sandbox_url, margin)) as api:
            await ok(await api.put("/v1/organizations/org-j", json={"title": "Bench"}))
            pms_ids = [f"j-{n}" for n in range(args.properties)]
            for pms_id in pms_ids:
                await onboard(api, pms_id)
            load_from = time.monotonic() - sandbox.started
            await load(api, pms_ids, args.seconds, args.seed)
            load_until = time.monotonic() - sandbox.started
            converged = await wait_in_sync(api, pms_ids)
            names = {
                (await ok(await api.get(f"/v1/properties/{p}")))["channex_property_id"]: p
                for p in pms_ids
            }
        writes = (await ok(await tools.get("/ari/writes")))["data"]
        stats = (await ok(await tools.get("/stats")))["data"]
    streams = [
        Stream(names[prop], endpoint, log["times"])
        for prop, endpoints in sorted(writes.items(), key=lambda kv: names[kv[0]])
        for endpoint, log in sorted(endpoints.items())
    ]
    limited = {
        name: c["rate_limited"]
        for name, c in stats.items()
        if name in {s.endpoint for s in streams}
    }
    return Run(margin, streams, limited, load_from, load_until, converged)


# --- main ------------------------------------------------------------------------------------


def report(args: argparse.Namespace, runs: list[Run]) -> None:
    print(
        f"{args.properties} properties, a PMS change each (availability + price) every second"
        f" for {args.seconds:.0f} s; every Channex request delayed {args.jitter * 1000:.0f} ms"
        f" ± {args.jitter * 1000:.0f} ms (uniform) before it arrives. Production limits:"
        f" {LIMIT}/min per property and endpoint, 600/min and 18,000/h for the account."
    )
    print("  per property and endpoint:")
    print("    margin  property  endpoint              arrivals  per min  busiest 60 s  min gap")
    for r in runs:
        for s in r.streams:
            rate = s.per_minute(r.load_from, r.load_until)
            print(
                f"    {r.margin:>6.2f}  {s.property_id:<8}  {s.endpoint:<20}  {len(s.times):>8}"
                f"  {rate:>7.2f}  {s.busiest:>12}  {s.min_gap:>6.3f} s"
            )
    print(
        "  margin  spacing  arrivals  max arrivals in any 60 s  429s  min gap   in sync after"
        "  target (<= 10, no 429)"
    )
    for r in runs:
        print(
            f"  {r.margin:>6.2f}  {spacing(LIMIT, r.margin):>5.2f} s  {r.arrivals:>8}"
            f"  {r.busiest:>24}  {r.refused:>4}  {r.min_gap:>5.3f} s  {r.converged:>11.1f} s"
            f"  {'met' if r.passes else 'MISSED'}"
        )
    bound = 2 * args.jitter / 60
    print(
        f"  spacing alone keeps 10 per minute for margin > 2J / 60 s = {bound:.2%}"
        f" (J = {args.jitter:.2f} s); a 429 pauses the property {60:.0f} s, which is why"
        " arrivals drop after one"
    )


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for margin in args.margins:
            runs.append(await run(args, margin, Path(tmp)))
    report(args, runs)


if __name__ == "__main__":
    default_margin = Settings(_env_file=None).channex_rate_limit_margin
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=180.0, help="of load, per run")
    parser.add_argument("--jitter", type=float, default=0.2, help="J: delays of J ± J seconds")
    parser.add_argument(
        "--margins", type=float, nargs="+", default=[0.0, default_margin], help="one run each"
    )
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
