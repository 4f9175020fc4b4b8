"""Bookings end to end, timed: from the sandbox sending a booking webhook to the PMS accepting
the revision's delivery (fetched from Channex, stored, acknowledged and pushed on the way).

The production stack of the fault benchmark (benchmarks/fault_stack.py), on 127.0.0.1 only: a
PostgreSQL database of its own, a Redis server of its own, `channel-sync sandbox`,
`channel-sync serve` and `--workers` `channel-sync worker` processes, and a PMS receiver in
this process that timestamps every accepted delivery (benchmarks/fault_pms.py). The sandbox
answers every Channex API call `--latency-ms` late (its `latency_ms` fault), as the real
Channex is a network away. With `--embedded`: SQLite and in-process jobs, `serve` alone.

    .venv/bin/python benchmarks/bookings_speed.py                  # both phases, ~3 min
    .venv/bin/python benchmarks/bookings_speed.py --embedded --skip-throughput

1. Latency: `--latency-bookings` new bookings one at a time, one every `--gap` seconds (an
   idle system); for each, the sandbox's webhook timestamp to the PMS's accepting the push;
   p50, p90, p99, max. Target (issue 14): p99 <= 1 s.
2. Throughput: `--throughput-bookings` new bookings made as fast as the sandbox takes them
   (`--concurrency` requests in flight); revisions accepted per second at the PMS over the
   steady part (from the 10th to the 90th percentile of arrivals), and what was lost,
   duplicated or out of order (fault_pms.tally). Target: >= 100 revisions/s with 2 workers.

Exit status 1 when a target is missed; the processes' logs are then kept (their path printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import httpx  # noqa: E402
from fault_checks import unacked_in_channex  # noqa: E402
from fault_pms import PmsReceiver, Received, Tally, tally  # noqa: E402
from fault_stack import Stack, channel_sync, clean_environment  # noqa: E402
from faults import API_KEY, SANDBOX_KEY, Plan, call, source_version, start_stack, wait_for  # noqa: E402

from app.http_pool import cheap_check_transport  # noqa: E402
from app.serving import free_port  # noqa: E402

ORG = "org-speed"
PROPERTY = "p-speed"
ROOMS = (("dbl", "bar"), ("twn", "bar"))
LATENCY_TARGET_SECONDS = 1.0
THROUGHPUT_TARGET = 100.0  # revisions per second, with 2 workers
# Production's intervals, not the fault benchmark's short ones: a sweep or a reconciliation
# round is part of what an idle or a busy system does, at the rate it really does it.
PRODUCTION_INTERVALS = {"SWEEP_INTERVAL_SECONDS": "60", "BOOKING_RECONCILE_INTERVAL_SECONDS": "90"}
# The service's own account-wide ceiling on Channex calls (CHANNEX_GLOBAL_LIMIT_PER_MINUTE,
# _PER_HOUR: 600 and 18,000) allows 10 calls a second, 5 an hour long; a revision costs two
# (GET, ack), so no worker setting takes the production defaults past 5 revisions/s (2.5 over
# an hour). `--budget lifted` raises both ceilings (the sandbox has none) to measure the
# pipeline itself; `--budget production` keeps the defaults.
LIFTED_BUDGET = {
    "CHANNEX_GLOBAL_LIMIT_PER_MINUTE": "60000", "CHANNEX_GLOBAL_LIMIT_PER_HOUR": "3600000",
}  # fmt: skip
SETTLE_SECONDS = 5.0  # after onboarding, for the property's first full sync to be pushed


@dataclass(frozen=True)
class Options:
    embedded: bool
    workers: int
    latency_ms: int
    latency_bookings: int
    gap: float
    throughput_bookings: int
    concurrency: int
    deadline_seconds: float
    budget: str  # "production" or "lifted"
    settings: tuple[tuple[str, str], ...] = ()  # further service settings (--set NAME=VALUE)

    def overrides(self) -> dict[str, str]:
        lifted = LIFTED_BUDGET if self.budget == "lifted" else {}
        return {**PRODUCTION_INTERVALS, **lifted, **dict(self.settings)}


@dataclass
class Latency:
    seconds: list[float]
    missing: int

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_process(stack: Stack) -> dict[str, float]:
    """CPU seconds of each process of the stack and of this one (the PMS and the load);
    PostgreSQL's backends are not counted (they come and go, and other work shares them)."""
    used = {"benchmark (PMS + load)": cpu_seconds(os.getpid())}
    for name, service in stack.services.items():
        if service.current is not None:
            used[name] = cpu_seconds(service.current.popen.pid)
    return used


@dataclass
class Throughput:
    created: int
    create_seconds: float
    steady_rate: float
    overall_seconds: float
    tally: Tally
    unacked: int
    cpu: dict[str, float]  # CPU seconds per process over the phase
    # Booking webhooks whose attempt failed at the sandbox (status or error: count): each
    # then waits for Channex's retry schedule, a minute later, and shows as a late tail.
    webhook_failures: dict[str, int] = field(default_factory=dict)


@dataclass
class Results:
    latency: Latency | None = None
    throughput: Throughput | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


async def start_embedded(
    stack: Stack, receiver: PmsReceiver, overrides: dict[str, str]
) -> dict[str, str]:
    """Sandbox and `serve` alone: SQLite in the run's directory, jobs in the serve process."""
    command = channel_sync()
    sandbox_port = free_port()
    # free_port() closes its socket: a second call can hand out the same port (it once did).
    api_port = next(p for p in iter(free_port, None) if p != sandbox_port)
    port = {"sandbox": sandbox_port, "api": api_port}
    stack.env = clean_environment({
        "DATABASE_URL": f"sqlite+aiosqlite:///{stack.workdir / 'speed.db'}",
        "CHANNEX_API_URL": f"http://127.0.0.1:{port['sandbox']}/api/v1",
        "CHANNEX_API_KEY": SANDBOX_KEY,
        "CHANNEX_WEBHOOK_SECRET": "speed-webhook-secret",
        "API_KEYS": f'[{{"name": "bench", "key": "{API_KEY}"}}]',
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port['api']}",
        "ALLOW_PRIVATE_CALLBACKS": "true",
        **overrides,
    })  # fmt: skip
    await stack.migrate(command)
    sandbox = [command, "sandbox", "--port", str(port["sandbox"]), "--api-key", SANDBOX_KEY]
    await stack.launch(stack.add("sandbox", sandbox, port["sandbox"]))
    serve = [command, "serve", "--port", str(port["api"])]
    await stack.launch(stack.add("serve", serve, port["api"]))
    await receiver.start()
    return {
        "api": f"http://127.0.0.1:{port['api']}",
        "sandbox": f"http://127.0.0.1:{port['sandbox']}",
    }


async def onboard(
    api: httpx.AsyncClient, channex: httpx.AsyncClient, tools: httpx.AsyncClient,
    receiver: PmsReceiver,
) -> tuple[str, list[tuple[str, str]]]:  # fmt: skip
    """One property, two room types with a rate plan each, the booking endpoint, Booking.com
    connected; the Channex property id and its (room type, rate plan) ids."""
    await call(api, "PUT", f"/v1/organizations/{ORG}", json={"title": "Speed Hotels"})
    body = {"organization_id": ORG, "title": PROPERTY, "currency": "EUR", "timezone": "UTC"}
    channex_property = (await call(api, "PUT", f"/v1/properties/{PROPERTY}", json=body))[
        "channex_property_id"
    ]
    rooms: list[tuple[str, str]] = []
    for room, plan in ROOMS:
        path = f"/v1/properties/{PROPERTY}/room-types/{room}"
        room_body = {"title": room, "count_of_rooms": 999, "occ_adults": 2}
        room_id = (await call(api, "PUT", path, json=room_body))["channex_room_type_id"]
        rate = {"title": f"{room} {plan}", "options": [{"occupancy": 2, "rate": "100.00"}]}
        answer = await call(api, "PUT", f"{path}/rate-plans/{plan}", json=rate)
        rooms.append((room_id, answer["channex_rate_plan_id"]))
    endpoint = await call(
        api, "PUT", f"/v1/organizations/{ORG}/booking-endpoint", json={"url": receiver.url}
    )
    receiver.secret = endpoint["secret"]

    async def webhook_registered() -> bool:
        return bool((await call(channex, "GET", "/webhooks"))["data"])

    await wait_for(webhook_registered, "the service registered its webhook in the sandbox", 60)
    await call(
        tools, "POST", f"/properties/{channex_property}/channels", json={"channel": "BookingCom"}
    )
    return channex_property, rooms


def booking_body(n: int, rooms: list[tuple[str, str]]) -> dict[str, Any]:
    room_type_id, rate_plan_id = rooms[n % len(rooms)]
    arrival = datetime.now(UTC).date() + timedelta(days=5 + n % 300)
    return {
        "channel": "BookingCom",
        "room_type_id": room_type_id,
        "rate_plan_id": rate_plan_id,
        "arrival_date": arrival.isoformat(),
        "departure_date": (arrival + timedelta(days=1 + n % 3)).isoformat(),
        "guest": {"name": f"Guest{n}", "surname": "Speed"},
    }


async def book(tools: httpx.AsyncClient, channex_property: str, body: dict[str, Any]) -> str:
    answer = await call(tools, "POST", f"/properties/{channex_property}/bookings", json=body)
    revision: str = answer["data"]["revision_id"]
    return revision


def accepted_at(received: list[Received]) -> dict[str, float]:
    """The first acceptance of each revision, in monotonic seconds."""
    first: dict[str, float] = {}
    for r in received:
        if 200 <= r.status < 300 and r.revision_id is not None:
            first.setdefault(r.revision_id, r.at)
    return first


async def all_accepted(receiver: PmsReceiver, revisions: list[str], seconds: float) -> None:
    wanted = set(revisions)

    async def done() -> bool:
        return wanted <= set(accepted_at(receiver.received))

    await wait_for(done, f"the PMS accepted all {len(wanted)} revisions", seconds)


async def webhook_sent_at(tools: httpx.AsyncClient) -> dict[str, float]:
    """When the sandbox fired each revision's webhook (its body's timestamp, wall clock),
    as monotonic seconds of this process (both clocks are this machine's)."""
    offset = time.time() - time.monotonic()
    deliveries = (await call(tools, "GET", "/deliveries"))["data"]
    sent: dict[str, float] = {}
    for d in deliveries:
        payload = d["body"].get("payload") or {}
        if d["event"] == "booking" and "revision_id" in payload:
            stamp = datetime.fromisoformat(d["body"]["timestamp"].replace("Z", "+00:00"))
            sent.setdefault(payload["revision_id"], stamp.timestamp() - offset)
    return sent


async def measure_latency(
    tools: httpx.AsyncClient, receiver: PmsReceiver, channex_property: str,
    rooms: list[tuple[str, str]], options: Options,
) -> Latency:  # fmt: skip
    """One booking every `gap` seconds; each one's webhook-to-PMS time."""
    revisions: list[str] = []
    start = time.monotonic()
    for n in range(options.latency_bookings):
        await asyncio.sleep(max(0.0, start + n * options.gap - time.monotonic()))
        revisions.append(await book(tools, channex_property, booking_body(n, rooms)))
    with contextlib.suppress(RuntimeError):  # the late ones are reported as missing
        await all_accepted(receiver, revisions, options.deadline_seconds)
    sent, accepted = await webhook_sent_at(tools), accepted_at(receiver.received)
    seconds = [accepted[r] - sent[r] for r in revisions if r in accepted and r in sent]
    return Latency(seconds, len(revisions) - len(seconds))


def steady_rate(times: list[float]) -> float:
    """Arrivals per second between the 10th and the 90th percentile arrival: the ramp-up
    and the tail are left out."""
    ordered = sorted(times)
    low, high = int(len(ordered) * 0.1), int(len(ordered) * 0.9) - 1
    if high <= low or ordered[high] <= ordered[low]:
        return 0.0
    return (high - low) / (ordered[high] - ordered[low])


async def webhook_failures(tools: httpx.AsyncClient) -> dict[str, int]:
    """The sandbox's booking webhook attempts that did not get a 2xx, by status or error."""
    deliveries = (await call(tools, "GET", "/deliveries"))["data"]
    failed = Counter(
        str(d["status"])
        for d in deliveries
        if d["event"] == "booking" and not (isinstance(d["status"], int) and d["status"] < 300)
    )
    return dict(failed)


async def measure_throughput(
    stack: Stack, tools: httpx.AsyncClient, channex: httpx.AsyncClient, receiver: PmsReceiver,
    channex_property: str, rooms: list[tuple[str, str]], options: Options,
) -> Throughput:  # fmt: skip
    """Bookings as fast as the sandbox makes them; the rate the PMS accepts them at."""
    receiver.received.clear()
    cpu_before = cpu_by_process(stack)
    numbers = iter(range(options.throughput_bookings))
    revisions: list[str] = []
    began = time.monotonic()

    async def client() -> None:
        for n in numbers:
            revisions.append(await book(tools, channex_property, booking_body(10_000 + n, rooms)))

    await asyncio.gather(*(client() for _ in range(options.concurrency)))
    created = time.monotonic() - began
    with contextlib.suppress(RuntimeError):  # the late ones are reported as lost
        await all_accepted(receiver, revisions, options.deadline_seconds)
    overall = time.monotonic() - began
    cpu = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_by_process(stack).items()}
    await asyncio.sleep(3.0)  # a delivery made twice would arrive now
    arrivals = list(accepted_at(receiver.received).values())
    return Throughput(
        created=len(revisions),
        create_seconds=created,
        steady_rate=steady_rate(arrivals),
        overall_seconds=overall,
        tally=tally(receiver.received, revisions),
        unacked=await unacked_in_channex(channex),
        cpu=cpu,
        webhook_failures=await webhook_failures(tools),
    )


async def exercise(stack: Stack, receiver: PmsReceiver, options: Options, results: Results,
                   skip: set[str]) -> None:  # fmt: skip
    if options.embedded:
        urls = await start_embedded(stack, receiver, options.overrides())
    else:
        plan = Plan(0, 0, 0, 0, 0, seed=1, workers=options.workers)
        urls = await start_stack(stack, plan, receiver, options.overrides())
    key = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        httpx.AsyncClient(base_url=urls["api"], headers=key, timeout=30) as api,
        # The load's own client checks its pooled sockets cheaply too (app/http_pool.py):
        # it stands for the OTAs, whose cost is not channel-sync's.
        httpx.AsyncClient(
            base_url=f"{urls['sandbox']}/sandbox", timeout=30, transport=cheap_check_transport()
        ) as tools,
        httpx.AsyncClient(
            base_url=f"{urls['sandbox']}/api/v1", headers={"user-api-key": SANDBOX_KEY}, timeout=30
        ) as channex,
    ):
        channex_property, rooms = await onboard(api, channex, tools, receiver)
        await asyncio.sleep(SETTLE_SECONDS)
        await call(tools, "PUT", "/faults", json={"latency_ms": options.latency_ms})
        if "latency" not in skip:
            results.latency = await measure_latency(
                tools, receiver, channex_property, rooms, options
            )
        if "throughput" not in skip:
            results.throughput = await measure_throughput(
                stack, tools, channex, receiver, channex_property, rooms, options
            )


def report(options: Options, results: Results) -> bool:
    mode = (
        "embedded (SQLite, in-process jobs)"
        if options.embedded
        else (f"production (PostgreSQL, Redis, serve + {options.workers} arq workers)")
    )
    print(f"channel-sync bookings end to end: {mode}")
    print(
        f"code: {source_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs"
    )
    print(f"Channex emulated latency: {options.latency_ms} ms per API call")
    if options.budget == "lifted":
        print("Channex account-wide budget: lifted (CHANNEX_GLOBAL_LIMIT_PER_MINUTE=60000,"
              " _PER_HOUR=3600000; production defaults 600 / 18000)")  # fmt: skip
    else:
        print("Channex account-wide budget: production defaults (600/min, 18000/h)")
    met = results.error is None
    if (lat := results.latency) is not None:
        print(f"latency: {options.latency_bookings} bookings, one every {options.gap} s "
              "(webhook sent -> PMS accepted)")  # fmt: skip
        if lat.seconds:
            figures = [lat.quantile(q) * 1000 for q in (0.5, 0.9, 0.99)]
            p50, p90, p99 = figures
            print(f"  p50 {p50:.0f} ms, p90 {p90:.0f} ms, p99 {p99:.0f} ms, "
                  f"max {max(lat.seconds) * 1000:.0f} ms; missing {lat.missing}")  # fmt: skip
            ok = p99 <= LATENCY_TARGET_SECONDS * 1000 and lat.missing == 0
            target = f"p99 <= {LATENCY_TARGET_SECONDS * 1000:.0f} ms"
            print(f"  target {target}: {'met' if ok else 'MISSED'}")
            met = met and ok
        else:
            print("  no revision was delivered")
            met = False
    if (tp := results.throughput) is not None:
        t = tp.tally
        rate = tp.created / tp.create_seconds
        print(f"throughput: {tp.created} bookings made in {tp.create_seconds:.1f} s "
              f"({rate:.0f}/s, {options.concurrency} in flight)")  # fmt: skip
        print(f"  PMS accepted {t.accepted} in {tp.overall_seconds:.1f} s from the first booking; "
              f"steady {tp.steady_rate:.1f} revisions/s")  # fmt: skip
        print(f"  lost {len(t.lost)}, duplicated {t.duplicated}, out of order {t.out_of_order}, "
              f"unknown {t.unknown}, unacked in Channex {tp.unacked}")  # fmt: skip
        if tp.webhook_failures:
            failed = ", ".join(f"{k} x{v}" for k, v in sorted(tp.webhook_failures.items()))
            print(f"  booking webhooks that failed an attempt at the sandbox (each then waits "
                  f"for Channex's retry, a minute): {failed}")  # fmt: skip
        total = sum(tp.cpu.values())
        shares = ", ".join(f"{k} {v:.0f}" for k, v in sorted(tp.cpu.items(), key=lambda i: -i[1]))
        print(f"  CPU: {total:.0f} s over the phase, {total / max(1, t.accepted) * 1000:.1f} ms "
              f"per revision (PostgreSQL not counted): {shares}")  # fmt: skip
        clean = not (t.lost or t.duplicated or t.out_of_order or t.unknown or tp.unacked)
        ok = tp.steady_rate >= THROUGHPUT_TARGET and clean
        print(f"  target >= {THROUGHPUT_TARGET:.0f}/s, nothing lost: {'met' if ok else 'MISSED'}")
        met = met and ok
    if results.error:
        print(f"the run stopped early: {results.error}")
    return met


async def run(options: Options, skip: set[str], keep_logs: bool) -> bool:
    stack = Stack(Path(tempfile.mkdtemp(prefix="channel-sync-speed-")))
    receiver = PmsReceiver(free_port())
    results = Results()
    try:
        await exercise(stack, receiver, options, results, skip)
    except Exception as exc:  # reported with what was measured so far
        results.error = f"{type(exc).__name__}: {exc}"
    finally:
        await receiver.stop()
        await stack.close()
    met = report(options, results)
    if met and not keep_logs:
        shutil.rmtree(stack.workdir, ignore_errors=True)
    else:
        print(f"logs of every process: {stack.workdir}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedded", action="store_true", help="SQLite, in-process jobs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-ms", type=int, default=50, help="per Channex API call")
    parser.add_argument("--latency-bookings", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between bookings")
    parser.add_argument("--throughput-bookings", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16, help="booking requests in flight")
    parser.add_argument("--deadline-seconds", type=float, default=300.0)
    parser.add_argument(
        "--budget", choices=("production", "lifted"), default="lifted",
        help="the service's account-wide Channex ceilings: defaults, or raised 100x",
    )  # fmt: skip
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="a service setting for every process (e.g. DATABASE_POOL_SIZE=20)",
    )  # fmt: skip
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    options = Options(
        embedded=args.embedded,
        workers=args.workers,
        latency_ms=args.latency_ms,
        latency_bookings=args.latency_bookings,
        gap=args.gap,
        throughput_bookings=args.throughput_bookings,
        concurrency=args.concurrency,
        deadline_seconds=args.deadline_seconds,
        budget=args.budget,
        settings=tuple((n, v) for n, _, v in (item.partition("=") for item in args.set)),
    )
    skip = {name for name in ("latency", "throughput") if getattr(args, f"skip_{name}")}
    sys.exit(0 if asyncio.run(run(options, skip, args.keep_logs)) else 1)


if __name__ == "__main__":
    main()
