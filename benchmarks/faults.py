"""The fault benchmark: the production stack as real processes under load and faults, then the
time it takes to converge and what was lost, duplicated or left behind.

Started here, on 127.0.0.1 only: a PostgreSQL database of its own (migrated with
`channel-sync migrate`, dropped at the end), a Redis server of its own on a free port,
`channel-sync sandbox` (the Channex emulator), `channel-sync serve`, two `channel-sync worker`
processes, and a PMS receiver in this process that records every signed delivery. Run from
the repository root (PostgreSQL at 127.0.0.1:5432, user postgres; redis-server on the PATH):

    .venv/bin/python benchmarks/faults.py              # about 13 minutes; --minutes, --seed
    .venv/bin/python benchmarks/faults.py --quick      # a smoke run of about 5 minutes

During the load (`--minutes`): bookings made, modified and cancelled through the sandbox's OTA
simulator on one property; random ARI changes through POST /v1/properties/{id}/ari on two
others; webhooks dropped (20 %), duplicated (20 %) and reordered throughout. Meanwhile: a
worker SIGKILLed every ~20 s and started again; Redis restarted once (at 25 % of the load,
down 5 s, all keys lost); Channex failing 30 % of requests (20 % 5xx, 10 % timeouts) from 40 %
to 65 %; the PMS down for `--pms-down-seconds` from 70 % (503 for the first half, connections
refused for the second). A process that exits on its own is recorded and started again, as a
supervisor would. Then the faults end, and it waits for convergence (`--converge-minutes` at
most).

It prints: revisions lost (created in the sandbox, never accepted by the PMS), duplicated
(accepted twice: 2xx for the same revision again), out of order (per booking, an accepted
sequence lower than one accepted before), unacknowledged in Channex (the sandbox's feed at the
end), ARI cells differing between the sandbox and the desired state (GET …/ari), 429s Channex
answered, processes that died on their own (and every exit code), and the time from the end of
the faults until all of that is settled. Target: every count 0, converged within 2 minutes.
Exit status 1 when a target is missed; the processes' logs are then kept (their path printed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import httpx  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from fault_checks import (  # noqa: E402
    Convergence,
    Figures,
    Ids,
    Load,
    arq_locks,
    converge,
    measure,
    random_item,
)
from fault_pms import PmsReceiver  # noqa: E402
from fault_stack import Stack, channel_sync, clean_environment, run_command  # noqa: E402

from app.serving import free_port  # noqa: E402

API_KEY = "faults-bench-key"
SANDBOX_KEY = "sandbox-key"
ORG = "org-1"
BOOKING_PROPERTY = "p-book"
ARI_PROPERTIES = ("p-ari-1", "p-ari-2")
ROOMS = ("dbl", "twn")
PLANS = ("bar", "nr")
WEBHOOK_FAULTS: dict[str, Any] = {
    "webhook_drop_rate": 0.2, "webhook_duplicate_rate": 0.2, "webhook_reorder": True,
}  # fmt: skip
# Draws in order: 20 % answered 5xx, then 12.5 % of the rest (10 %) hang past our timeout.
CHANNEX_FAULTS = {"error_rate": 0.2, "timeout_rate": 0.125}
REDIS_RESTART_AT = 0.25  # fractions of the load phase
REDIS_DOWN_SECONDS = 5.0
CHANNEX_FAILING = (0.40, 0.65)
PMS_DOWN_AT = 0.70
KILL_EVERY = (15.0, 25.0)
TARGET_SECONDS = 120.0


@dataclass(frozen=True)
class Plan:
    load_seconds: float
    booking_ops: int
    ari_posts: int
    pms_down_seconds: float
    converge_seconds: float
    seed: int
    workers: int = 2


@dataclass
class Events:
    """What the fault schedule did, in seconds since the load began."""

    kills: int = 0
    redis_restart: tuple[float, float] | None = None  # (at, seconds down)
    channex_failing: tuple[float, float] | None = None
    pms_down: tuple[float, float] | None = None
    ended: float | None = None


async def call(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Any:
    """One API call, again after a 5xx or a transport error (a bounded few times)."""
    for attempt in range(5):
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.TransportError:
            await asyncio.sleep(1 + attempt)
            continue
        if response.status_code < 500:
            if response.is_error:
                raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:300]}")
            return response.json() if response.content else {}
        await asyncio.sleep(1 + attempt)
    raise RuntimeError(f"{method} {url}: no success after 5 attempts")


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {seconds:.0f} s: {what}")
        await asyncio.sleep(0.5)


async def start_stack(
    stack: Stack, plan: Plan, receiver: PmsReceiver, overrides: dict[str, str] | None = None
) -> dict[str, str]:
    """Database, Redis, sandbox, serve and workers; the URLs the benchmark talks to.
    `overrides` replace or add service settings (environment variables)."""
    command = channel_sync()
    port = {name: free_port() for name in ("redis", "sandbox", "api")}
    database_url = stack.create_database(f"cs_faults_{os.getpid()}")
    redis_url = f"redis://127.0.0.1:{port['redis']}/0"
    env = clean_environment({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHANNEX_API_URL": f"http://127.0.0.1:{port['sandbox']}/api/v1",
        "CHANNEX_API_KEY": SANDBOX_KEY,
        "CHANNEX_WEBHOOK_SECRET": secrets.token_urlsafe(24),
        "API_KEYS": f'[{{"name": "bench", "key": "{API_KEY}"}}]',
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port['api']}",
        "ALLOW_PRIVATE_CALLBACKS": "true",
        "PERSONAL_DATA_KEYS": f'["{Fernet.generate_key().decode()}"]',
        "SWEEP_INTERVAL_SECONDS": "2",
        "BOOKING_RECONCILE_INTERVAL_SECONDS": "10",
        **(overrides or {}),
    })  # fmt: skip
    stack.env = env
    await stack.migrate(command)
    await stack.launch(stack.redis(port["redis"]))
    sandbox = [command, "sandbox", "--port", str(port["sandbox"]), "--api-key", SANDBOX_KEY]
    await stack.launch(stack.add("sandbox", [*sandbox, "--seed", str(plan.seed)], port["sandbox"]))
    await stack.launch(
        stack.add("serve", [command, "serve", "--port", str(port["api"])], port["api"])
    )
    for n in range(1, plan.workers + 1):
        await stack.launch(stack.add(f"worker-{n}", [command, "worker"]))
    await receiver.start()
    return {
        "api": f"http://127.0.0.1:{port['api']}",
        "sandbox": f"http://127.0.0.1:{port['sandbox']}",
        "redis": redis_url,
    }


async def onboard(api: httpx.AsyncClient, channex: httpx.AsyncClient, tools: httpx.AsyncClient,
                  receiver: PmsReceiver) -> Ids:  # fmt: skip
    """As a PMS does it: organization, properties, room types and rate plans; the booking
    endpoint; then the hotel connects Booking.com to the booking property."""
    ids = Ids()
    await call(api, "PUT", f"/v1/organizations/{ORG}", json={"title": "Fault Hotels"})
    for prop in (BOOKING_PROPERTY, *ARI_PROPERTIES):
        body = {"organization_id": ORG, "title": prop, "currency": "EUR", "timezone": "UTC"}
        answer = await call(api, "PUT", f"/v1/properties/{prop}", json=body)
        ids.properties[prop] = answer["channex_property_id"]
        for room in ROOMS:
            path = f"/v1/properties/{prop}/room-types/{room}"
            room_body = {"title": f"{prop} {room}", "count_of_rooms": 9, "occ_adults": 2}
            answer = await call(api, "PUT", path, json=room_body)
            ids.entities[(prop, room, "")] = answer["channex_room_type_id"]
            for plan in PLANS:
                rate = {"title": f"{room} {plan}", "options": [{"occupancy": 2, "rate": "100.00"}]}
                answer = await call(api, "PUT", f"{path}/rate-plans/{plan}", json=rate)
                ids.entities[(prop, room, plan)] = answer["channex_rate_plan_id"]
    endpoint = await call(
        api, "PUT", f"/v1/organizations/{ORG}/booking-endpoint", json={"url": receiver.url}
    )
    receiver.secret = endpoint["secret"]

    async def webhook_registered() -> bool:
        return bool((await call(channex, "GET", "/webhooks"))["data"])

    await wait_for(webhook_registered, "the service registered its webhook in the sandbox", 60)
    cp = ids.properties[BOOKING_PROPERTY]
    await call(tools, "POST", f"/properties/{cp}/channels", json={"channel": "BookingCom"})
    return ids


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def make_bookings(tools: httpx.AsyncClient, ids: Ids, plan: Plan, load: Load) -> None:
    """New bookings, modifications and cancellations, spread evenly over the load."""
    rng = random.Random(plan.seed)
    today = datetime.now(UTC).date()
    open_bookings: dict[str, Any] = {}  # booking id → arrival date
    start, gap = time.monotonic(), plan.load_seconds / plan.booking_ops
    for n in range(plan.booking_ops):
        await sleep_until(start + (n + rng.random()) * gap)
        draw = rng.random()
        if not open_bookings or draw < 0.5:
            room, rate = rng.choice(ROOMS), rng.choice(PLANS)
            arrival = today + timedelta(days=rng.randint(5, 60))
            body = {
                "channel": "BookingCom",
                "room_type_id": ids.entities[(BOOKING_PROPERTY, room, "")],
                "rate_plan_id": ids.entities[(BOOKING_PROPERTY, room, rate)],
                "arrival_date": arrival.isoformat(),
                "departure_date": (arrival + timedelta(days=rng.randint(1, 4))).isoformat(),
                "guest": {"name": f"Guest{n}", "surname": "Bench"},
            }
            cp = ids.properties[BOOKING_PROPERTY]
            answer = await call(tools, "POST", f"/properties/{cp}/bookings", json=body)
            open_bookings[answer["data"]["booking_id"]] = arrival
            kind = "new"
        elif draw < 0.83:
            booking = rng.choice(sorted(open_bookings))
            departure = open_bookings[booking] + timedelta(days=rng.randint(1, 6))
            change = {"departure_date": departure.isoformat()}
            answer = await call(tools, "POST", f"/bookings/{booking}/modify", json=change)
            kind = "modified"
        else:
            booking = rng.choice(sorted(open_bookings))
            answer = await call(tools, "POST", f"/bookings/{booking}/cancel")
            del open_bookings[booking]
            kind = "cancelled"
        load.revisions.append(answer["data"]["revision_id"])
        load.kinds[kind] += 1


async def change_ari(api: httpx.AsyncClient, plan: Plan, load: Load) -> None:
    """Random PMS changes (1-3 items each) to the ARI properties, spread over the load."""
    rng = random.Random(plan.seed + 1)
    start, gap = time.monotonic(), plan.load_seconds / plan.ari_posts
    for n in range(plan.ari_posts):
        await sleep_until(start + (n + rng.random()) * gap)
        prop = rng.choice(ARI_PROPERTIES)
        items = [random_item(rng, load.ari_from, ROOMS, PLANS) for _ in range(rng.randint(1, 3))]
        await call(api, "POST", f"/v1/properties/{prop}/ari", json={"items": items})
        load.ari_posts += 1
        for item in items:
            load.apply(prop, item)


async def kill_workers(stack: Stack, plan: Plan, events: Events, t0: float) -> None:
    """SIGKILL one worker every ~20 s (in turn) and start it again a second later."""
    rng = random.Random(plan.seed + 2)
    turn = 0
    while True:
        await asyncio.sleep(rng.uniform(*KILL_EVERY))
        if time.monotonic() - t0 > plan.load_seconds:
            return
        worker = stack.services[f"worker-{turn % plan.workers + 1}"]
        turn += 1
        if not worker.running():
            continue  # it died on its own: the supervisor records it and starts it again
        worker.kill()
        events.kills += 1
        await asyncio.sleep(1.0)
        await stack.launch(worker)


async def put_faults(tools: httpx.AsyncClient, faults: dict[str, Any], seed: int) -> None:
    await call(tools, "PUT", "/faults", json={**faults, "seed": seed})


async def schedule_faults(stack: Stack, tools: httpx.AsyncClient, receiver: PmsReceiver,
                          plan: Plan, events: Events, t0: float) -> None:  # fmt: skip
    """Redis restart, Channex failing, the PMS down; all faults off at the end of the load."""

    async def at(fraction: float) -> float:
        await sleep_until(t0 + fraction * plan.load_seconds)
        return time.monotonic() - t0

    await put_faults(tools, WEBHOOK_FAULTS, plan.seed)
    began = await at(REDIS_RESTART_AT)
    events.redis_restart = (began, await stack.restart_redis(REDIS_DOWN_SECONDS))
    began = await at(CHANNEX_FAILING[0])
    await put_faults(tools, {**WEBHOOK_FAULTS, **CHANNEX_FAULTS}, plan.seed)
    await at(CHANNEX_FAILING[1])
    await put_faults(tools, WEBHOOK_FAULTS, plan.seed)
    events.channex_failing = (began, time.monotonic() - t0)
    began = await at(PMS_DOWN_AT)
    receiver.mode = "503"
    await asyncio.sleep(plan.pms_down_seconds / 2)
    await receiver.stop()
    await asyncio.sleep(plan.pms_down_seconds / 2)
    await receiver.start()
    events.pms_down = (began, time.monotonic() - t0)
    await at(1.0)


@dataclass
class Outcome:
    """Everything the report needs; filled as the run gets there."""

    plan: Plan
    load: Load
    events: Events = field(default_factory=Events)
    locks: tuple[int, float] | None = None
    convergence: Convergence | None = None
    figures: Figures | None = None
    exit_codes: dict[str, int | None] = field(default_factory=dict)
    error: str | None = None
    began: float = field(default_factory=time.monotonic)
    setup_seconds: float | None = None
    total_seconds: float | None = None


async def under_faults(stack: Stack, clients: dict[str, httpx.AsyncClient], ids: Ids,
                       receiver: PmsReceiver, outcome: Outcome) -> None:  # fmt: skip
    """The load and the faults together; returns once both are over and the faults are off."""
    plan, load, events, t0 = outcome.plan, outcome.load, outcome.events, time.monotonic()
    stack.started_at = t0  # deaths are reported in seconds since the load began
    killer = asyncio.create_task(kill_workers(stack, plan, events, t0))
    try:
        await asyncio.gather(
            make_bookings(clients["tools"], ids, plan, load),
            change_ari(clients["api"], plan, load),
            schedule_faults(stack, clients["tools"], receiver, plan, events, t0),
        )
        await killer
    finally:
        killer.cancel()
    await put_faults(clients["tools"], {}, plan.seed)
    await receiver.start()  # in case an error stopped the schedule while it was down
    events.ended = time.monotonic() - t0


async def exercise(stack: Stack, receiver: PmsReceiver, outcome: Outcome) -> None:
    """Start the stack, onboard, load under faults, wait for convergence, measure."""
    plan, load = outcome.plan, outcome.load
    urls = await start_stack(stack, plan, receiver)
    key = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        httpx.AsyncClient(base_url=urls["api"], headers=key, timeout=30) as api,
        httpx.AsyncClient(base_url=f"{urls['sandbox']}/sandbox", timeout=30) as tools,
        httpx.AsyncClient(
            base_url=f"{urls['sandbox']}/api/v1", headers={"user-api-key": SANDBOX_KEY}, timeout=30
        ) as channex,
    ):
        clients = {"api": api, "tools": tools, "channex": channex}
        ids = await onboard(api, channex, tools, receiver)
        outcome.setup_seconds = time.monotonic() - outcome.began
        await under_faults(stack, clients, ids, receiver, outcome)
        outcome.locks = await arq_locks(urls["redis"])
        outcome.convergence = await converge(
            clients, ids, load, receiver, ARI_PROPERTIES, plan.converge_seconds
        )
        await asyncio.sleep(5.0)  # a delivery made twice would arrive now
        outcome.figures = await measure(clients, ids, load, receiver, ARI_PROPERTIES)


async def first_failure(*tasks: asyncio.Task[None]) -> None:
    """Until the first task ends; its exception, if it raised, is raised here."""
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        task.result()


async def run(plan: Plan, keep_logs: bool) -> bool:
    """The whole benchmark; True when every target is met. Stops all it started, always
    (on an error or Ctrl-C too, then reporting what was measured so far)."""
    stack = Stack(Path(tempfile.mkdtemp(prefix="channel-sync-faults-")))
    receiver = PmsReceiver(free_port())
    outcome = Outcome(plan, Load(ari_from=datetime.now(UTC).date() + timedelta(days=1)))
    restartable = {"serve", *(f"worker-{n}" for n in range(1, plan.workers + 1))}
    tasks = (
        asyncio.create_task(exercise(stack, receiver, outcome)),
        asyncio.create_task(stack.supervise(restartable)),
    )
    interrupted = False
    try:
        await first_failure(*tasks)
    except asyncio.CancelledError:
        outcome.error, interrupted = "interrupted", True
    except Exception as exc:  # reported with what was measured so far
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await receiver.stop()
        outcome.exit_codes = await stack.close()
        outcome.total_seconds = time.monotonic() - outcome.began
    met = report(outcome, stack)
    if met and not keep_logs:
        shutil.rmtree(stack.workdir, ignore_errors=True)
    else:
        print(f"logs of every process: {stack.workdir}")
    if interrupted:
        raise asyncio.CancelledError
    return met


def source_version() -> str:
    """The commit measured, and whether the working tree changes the code under it."""
    git = ["git", "-C", str(ROOT)]
    try:
        commit = run_command([*git, "rev-parse", "--short", "HEAD"]).strip()
        changed = run_command([*git, "status", "--porcelain", "--", "app", "migrations"])
    except (RuntimeError, OSError):
        return "unknown (no git)"
    version = commit + (" with uncommitted changes in app/" if changed.strip() else "")
    if os.environ.get("PYTHONPATH"):  # the processes import the code found there first
        version += f"; processes run with PYTHONPATH={os.environ['PYTHONPATH']}"
    return version


def _span(span: tuple[float, float] | None) -> str:
    return "not reached" if span is None else f"{span[0]:.0f}-{span[1]:.0f} s"


def report_setup(outcome: Outcome) -> None:
    plan, load, events = outcome.plan, outcome.load, outcome.events
    kinds = ", ".join(f"{load.kinds[k]} {k}" for k in ("new", "modified", "cancelled"))
    redis = events.redis_restart
    minutes = plan.load_seconds / 60
    print(f"channel-sync fault benchmark: seed {plan.seed}, {minutes:.1f} min of load")
    print(f"code: {source_version()}")
    print(f"load: {len(load.revisions)} booking revisions ({kinds}) on 1 property; ")
    print(f"  {load.ari_posts} ARI posts ({load.ari_items} items) on {len(ARI_PROPERTIES)}")
    print(f"faults: webhooks 20 % dropped, 20 % duplicated, reordered: 0-{events.ended or 0:.0f} s")
    print(f"  {events.kills} worker SIGKILLs ({plan.workers} workers), every 15-25 s, each")
    print("  started again 1 s later")
    restart = "not reached" if redis is None else f"at {redis[0]:.0f} s, down {redis[1]:.1f} s"
    print(f"  Redis restarted (all keys lost): {restart}")
    print(f"  Channex 20 % 5xx + 10 % timeouts: {_span(events.channex_failing)}")
    print(f"  PMS down (503, then connections refused): {_span(events.pms_down)}")


def report_results(outcome: Outcome, stack: Stack) -> bool:
    """The figures against their targets; True when all are met."""
    figures, convergence = outcome.figures, outcome.convergence
    seconds = convergence.seconds if convergence else None
    if figures is None:
        print("results: none (the run did not get that far)")
        return False
    pms = figures.pms
    rows = [
        ("revisions lost (never accepted by the PMS)", len(pms.lost), f"of {pms.created}"),
        ("revisions duplicated (accepted again)", pms.duplicated,
         f"{pms.duplicated_same_webhook_id} of them with a webhook-id seen before"),
        ("deliveries out of order", pms.out_of_order, ""),
        ("revisions unacknowledged in Channex", figures.unacked, ""),
        ("ARI cells differing from the desired state", figures.ari.differing,
         f"of {figures.ari.cells}"),
        ("429s answered by Channex", figures.rate_limited,
         f"of {figures.channex_requests} requests"),
        ("processes that died on their own", len(stack.deaths), ""),
    ]  # fmt: skip
    print(f"results (targets: every count 0, converged within {TARGET_SECONDS:.0f} s)")
    for label, value, note in rows:
        print(f"  {label:<45} {value:>6}  {note}")
    took = (
        f"{seconds:.0f} s"
        if seconds is not None
        else f"not within {outcome.plan.converge_seconds:.0f} s"
    )
    print(f"  {'converged after the faults ended':<45} {took:>6}")
    return seconds is not None and seconds <= TARGET_SECONDS and not any(r[1] for r in rows)


def report_details(outcome: Outcome, stack: Stack) -> None:
    figures, convergence = outcome.figures, outcome.convergence
    print("details")
    if figures is not None:
        pms = figures.pms
        rejected = ", ".join(f"{n} x {status}" for status, n in sorted(pms.rejected.items()))
        print(f"  PMS: {pms.accepted} deliveries accepted, refused: {rejected or 'none'}")
        print(f"  PMS: accepted revisions the OTA simulator never made: {pms.unknown}")
        sent, dropped = figures.webhook_attempts, figures.webhooks_dropped
        print(f"  sandbox webhooks: {sent} POSTs made, {dropped} dropped")
        wrong = figures.ari.not_as_posted
        print(f"  ARI cells whose desired state is not what the PMS posted: {wrong}")
        if figures.ari.example:
            print(f"  e.g. {figures.ari.example}")
    if outcome.locks is not None:
        count, longest = outcome.locks
        expiry = f", the last expiring {longest:.0f} s later" if count else ""
        print(f"  arq in-progress locks when the faults ended: {count}{expiry}")
    if convergence is not None:
        settled = ", ".join(
            f"{part} {'never' if at is None else f'at {at:.0f} s'}"
            for part, at in convergence.settled_at.items()
        )
        print(f"  settled after the faults: {settled}")
        if convergence.last is not None and convergence.seconds is None:
            print(f"  left at the deadline: {convergence.last.parts()}")
    for death in stack.deaths:
        print(f"  died: {death.name} exit {death.code} at {death.at:.0f} s: {death.tail}")
    codes = ", ".join(f"{name} {code}" for name, code in outcome.exit_codes.items())
    print(f"  exit codes when stopped at the end (SIGTERM): {codes}")
    print("    (-15: ended by that SIGTERM, which uvicorn re-raises once it has shut down)")
    setup, total = outcome.setup_seconds or 0, outcome.total_seconds or 0
    print(f"  took {total / 60:.1f} min in all, {setup:.0f} s of it starting and onboarding")


def report(outcome: Outcome, stack: Stack) -> bool:
    report_setup(outcome)
    met = report_results(outcome, stack)
    report_details(outcome, stack)
    if outcome.error:
        print(f"the run stopped early: {outcome.error}")
    return met and outcome.error is None


def build_plan(args: argparse.Namespace) -> Plan:
    quick = args.quick
    minutes = args.minutes or (1.5 if quick else 6.0)
    plan = Plan(
        load_seconds=minutes * 60,
        booking_ops=args.bookings or (40 if quick else 300),
        ari_posts=args.ari_posts or (60 if quick else 400),
        pms_down_seconds=args.pms_down_seconds or (20.0 if quick else 60.0),
        converge_seconds=(args.converge_minutes or (3.0 if quick else 5.0)) * 60,
        seed=args.seed,
    )
    if plan.pms_down_seconds > (1 - PMS_DOWN_AT) * plan.load_seconds:
        raise SystemExit("--pms-down-seconds must fit in the last 30 % of the load")
    return plan


async def main(plan: Plan, keep_logs: bool) -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return 0 if await run(plan, keep_logs) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, help="length of the load (6; quick: 1.5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--bookings", type=int, help="booking operations (300; quick: 40)")
    parser.add_argument("--ari-posts", type=int, help="POST /ari calls (400; quick: 60)")
    parser.add_argument("--pms-down-seconds", type=float, help="(60; quick: 20)")
    parser.add_argument("--converge-minutes", type=float, help="deadline (5; quick: 3)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(build_plan(arguments), arguments.keep_logs)))
