"""The ARI engine end to end against the Channex sandbox: full sync, a burst of PMS changes,
and the CPU and memory of full syncs across many properties.

A property with 10 room types x 3 rate plans (one per person) over a 500-day horizon and the
realistic calendar of `ari_compression.py` (seasons, weekday/weekend prices, fairs, a few
closed dates, availability that moves near today). Everything goes through the real service:
the PMS API, the database (a temporary SQLite file unless --database-url), the push jobs, the
Channex client and its limiter, at Channex's real limits (10 writes per minute per property and
endpoint, 6 s apart). Run from the repository root:

    .venv/bin/python benchmarks/ari.py [--properties 20] [--changes 1000] [--seconds 60]
        [--onboard bulk|api] [--database-url URL]

1. Full sync: values, requests and bytes sent, beside one value per day per entity (naive) and
   the minimal number of equal-value runs. Target: 2 requests; values <= the minimal runs.
2. `--changes` random PMS changes (one POST /ari each) spread over `--seconds`: requests sent
   against the limit, 429s received, and the time from the last change until the sandbox holds
   the desired state in every cell.
3. A full sync of `--properties` such properties (20 by default, a quick run; the README's
   figure is `--properties 1000`, about 25 minutes), copies of p-0's state as parts 1 and 2
   left it, one after another through the push service, the sandbox in-process over
   httpx.ASGITransport (no network): CPU time (ours and the sandbox's apart, and per tenth of
   the run), the values sent, the process's peak resident memory before and after the
   pushes, and the peak traced memory (tracemalloc) of one push. Memory grows with pushes in
   flight, not with the number of properties. The properties are onboarded in bulk by
   default (`--onboard bulk`, ari_clones.py: p-0's rows copied with their own Channex ids);
   `--onboard api` onboards each through the API, as before (about an hour for 1,000).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import ari_compression as calendar_source  # noqa: E402
import httpx  # noqa: E402
from ari_clones import clone_properties  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, insert, literal, select, update  # noqa: E402

from app.channex.ari_wire import AriEndpoint, ari_messages  # noqa: E402
from app.channex.client import ChannexClient  # noqa: E402
from app.channex.ratelimit import MemoryRateLimiter  # noqa: E402
from app.db import create_engine, create_session_factory, utcnow  # noqa: E402
from app.domain.ari import AriRun, compress  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import AriCell, AriState, Property, RatePlan, RoomType, SyncRun  # noqa: E402
from app.sandbox.app import create_sandbox_app, stop  # noqa: E402
from app.sandbox.config import SandboxConfig  # noqa: E402
from app.sandbox.state import SandboxState  # noqa: E402
from app.services.ari_mappings import channex_today  # noqa: E402
from app.services.ari_push import push_property  # noqa: E402
from app.serving import serving  # noqa: E402
from app.settings import ApiKey, Settings  # noqa: E402

KEY = "bench-sandbox-key"
API_KEY = "bench-api-key"
TIMEZONE = "Europe/Berlin"
ROOMS = [f"r{n}" for n in range(calendar_source.ROOM_TYPES)]
WEEKDAYS = ["mo", "tu", "we", "th", "fr", "sa", "su"]
PLANS = ("bar", "nonref", "bb")  # bb sells per person: occupancies 1 and 2
Cell = tuple[str, str, date]  # (room, plan or "", date)
Expected = dict[Cell, dict[str, Any]]


# --- plumbing --------------------------------------------------------------------------------


def service_settings(database_url: str, sandbox_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        api_keys=[ApiKey(name="bench", key=SecretStr(API_KEY))],
        channex_api_url=f"{sandbox_url}/api/v1",
        channex_api_key=SecretStr(KEY),
        # The account-wide ceiling is a deployment setting; here it must not hide the
        # per-property limits being measured.
        channex_global_limit_per_minute=100_000,
        channex_global_limit_per_hour=1_000_000,
        sweep_interval_seconds=3600,
        # Part 3 onboards --properties properties into one organization: beyond the default
        # quota of 100 (a deployment setting, not what is measured).
        quota_properties_per_organization=1_000_000,
    )


async def ok(response: httpx.Response) -> Any:
    if not response.is_success:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return response.json()


async def onboard(api: httpx.AsyncClient, pms_id: str) -> None:
    """A property of 10 room types x (bar, nonref, bb per person) through the PMS API."""
    body = {"organization_id": "org-b", "title": pms_id, "currency": "EUR", "timezone": TIMEZONE}
    await ok(await api.put(f"/v1/properties/{pms_id}", json=body))
    for room in ROOMS:
        path = f"/v1/properties/{pms_id}/room-types/{room}"
        await ok(await api.put(path, json={"title": room, "count_of_rooms": 25, "occ_adults": 2}))
        for plan in PLANS:
            rate: dict[str, Any] = {"title": f"{room} {plan}"}
            if plan == "bb":
                rate |= {
                    "sell_mode": "per_person",
                    "options": [
                        {"occupancy": 1, "rate": "80"},
                        {"occupancy": 2, "is_primary": True, "rate": "95"},
                    ],
                }
            await ok(await api.put(f"{path}/rate-plans/{plan}", json=rate))


# --- the calendar and what the sandbox should hold ---------------------------------------


def calendar(today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """The realistic calendar from today, keyed "room|plan" (availability: "room|")."""
    calendar_source.TODAY = today  # the generator's horizon starts at its TODAY
    availability, restrictions = calendar_source.build_calendar(random.Random(calendar_source.SEED))
    rooms = [f"{room}|" for room in ROOMS]
    plans = [f"{room}|{plan}" for room in ROOMS for plan in PLANS]
    return dict(zip(rooms, availability.values(), strict=True)), dict(
        zip(plans, restrictions.values(), strict=True)
    )


def item_of(run: AriRun, kind: str) -> dict[str, Any]:
    room, plan = run.entity_id.split("|")
    item: dict[str, Any] = {
        "type": kind,
        "room_type_id": room,
        "date_from": run.date_from.isoformat(),
        "date_to": run.date_to.isoformat(),
    }
    if plan:
        item["rate_plan_id"] = plan
    if run.days:
        item["days"] = sorted(run.days, key=WEEKDAYS.index)
    for name, value in run.fields:
        if name == "rates":
            assert isinstance(value, tuple)
            item["rates"] = [{"occupancy": o, "rate": r} for o, r in value]
        else:
            item[name] = value
    return item


def expected_of(availability: dict[str, Any], restrictions: dict[str, Any]) -> Expected:
    expected: Expected = {}
    for cells in (availability, restrictions):
        for entity, by_date in cells.items():
            room, plan = entity.split("|")
            for day, fields in by_date.items():
                expected[(room, plan, day)] = dict(fields)
    return expected


def _normal(name: str, value: Any) -> Any:
    if name == "rate":
        return Decimal(str(value))
    if name == "rates":
        pairs = value if isinstance(value, tuple) else [(r["occupancy"], r["rate"]) for r in value]
        return sorted((int(o), Decimal(str(r))) for o, r in pairs)
    return value


def differences(sandbox: SandboxState, ids: dict[tuple[str, str], str], expected: Expected) -> int:
    """How many expected (cell, field) pairs the sandbox does not hold."""
    store = sandbox.store
    wrong = 0
    for (room, plan, day), fields in expected.items():
        if plan:
            held = store.restrictions.get(ids[(room, plan)], {}).get(day, {})
        else:
            count = store.availability.get(ids[(room, "")], {}).get(day)
            held = {} if count is None else {"availability": count}
        for name, value in fields.items():
            if name not in held or _normal(name, held[name]) != _normal(name, value):
                wrong += 1
    return wrong


async def channex_ids(api: httpx.AsyncClient, pms_id: str) -> dict[tuple[str, str], str]:
    ids = {}
    for room in ROOMS:
        path = f"/v1/properties/{pms_id}/room-types/{room}"
        ids[(room, "")] = (await ok(await api.get(path)))["channex_room_type_id"]
        for plan in PLANS:
            rate = await ok(await api.get(f"{path}/rate-plans/{plan}"))
            ids[(room, plan)] = rate["channex_rate_plan_id"]
    return ids


# --- 1. full sync ----------------------------------------------------------------------------


def reference_row(label: str, values: int, size: int, requests: int = 1) -> str:
    return f"  {label:<34} {values:>8,} {requests:>9} {size:>12,}"


def references(kind: AriEndpoint, cells: dict[str, Any]) -> list[str]:
    rows = []
    for label, runs in (
        ("naive (one value per day)", calendar_source.naive_runs(cells)),
        ("minimal equal-value runs", calendar_source.plain_runs(cells)),
    ):
        messages = ari_messages(kind, "00000000-0000-4000-8000-000000000000", runs)
        size = sum(len(message.body) for message in messages)
        rows.append(reference_row(label, len(runs), size, len(messages)))
    return rows


async def full_sync(api: httpx.AsyncClient, app: FastAPI, sandbox: SandboxState) -> Expected:
    resources = app.state.resources
    await onboard(api, "p-0")
    ids = await channex_ids(api, "p-0")
    today = channex_today(TIMEZONE, utcnow())
    availability, restrictions = calendar(today)
    items = [item_of(r, "availability") for r in compress(availability, weekday_sets=False)]
    items += [item_of(r, "restrictions") for r in compress(restrictions, weekday_sets=True)]
    started, stored = time.perf_counter(), 0
    for start in range(0, len(items), 1000):
        batch = {"items": items[start : start + 1000]}
        stored += (await ok(await api.post("/v1/properties/p-0/ari", json=batch)))["cells_changed"]
    store_seconds = time.perf_counter() - started
    await resources.queue.wait_idle(300)  # the first pushes of the new desired state
    since = utcnow()
    await ok(await api.post("/v1/properties/p-0/sync"))
    await resources.queue.wait_idle(300)
    async with resources.session_factory() as session:
        stmt = select(SyncRun).where(SyncRun.kind == "full", SyncRun.started_at >= since)
        runs = (await session.execute(stmt)).scalars().all()
    expected = expected_of(availability, restrictions)
    print(
        f"1. Full sync: {len(ROOMS)} room types x {len(PLANS)} rate plans x 500 days "
        f"({len(expected):,} cells), through the engine into the sandbox"
    )
    print(f"  {'':<34} {'values':>8} {'requests':>9} {'bytes':>12}")
    for kind, cells in (("availability", availability), ("restrictions", restrictions)):
        print(f" {kind}")
        for row in references(kind, cells):
            print(row)
        mine = [r for r in runs if r.endpoint == kind]
        values, size = sum(r.values_count for r in mine), sum(r.bytes_count for r in mine)
        label = "channel-sync full sync" + (" (weekday sets)" if kind == "restrictions" else "")
        print(reference_row(label, values, size, sum(r.requests_count for r in mine)))
    print(
        f"  storing the desired state: {len(items):,} items, {stored:,} cells, "
        f"{store_seconds:.2f} s over POST /ari"
    )
    outcomes = sorted({r.outcome for r in runs})
    print(
        f"  outcomes {outcomes}; sandbox differs from desired in "
        f"{differences(sandbox, ids, expected)} cell fields\n"
    )
    return expected


# --- 2. a burst of PMS changes -----------------------------------------------------------


def random_change(rng: random.Random, today: date) -> dict[str, Any]:
    first = today + timedelta(days=rng.randrange(120))
    last = first + timedelta(days=rng.randrange(14))
    room = rng.choice(ROOMS)
    item: dict[str, Any] = {
        "room_type_id": room,
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
    }
    if rng.random() < 0.5:
        return {"type": "availability", **item, "availability": rng.randint(0, 25)}
    plan = rng.choice(PLANS)
    item |= {"type": "restrictions", "rate_plan_id": plan}
    if plan == "bb":
        item["rates"] = [
            {"occupancy": 1, "rate": f"{rng.randint(60, 150)}.00"},
            {"occupancy": 2, "rate": f"{rng.randint(80, 200)}.00"},
        ]
    elif rng.random() < 0.7:
        item["rate"] = f"{rng.randint(80, 300)}.00"
    else:
        item[rng.choice(["stop_sell", "closed_to_arrival"])] = rng.random() < 0.3
    return item


def apply(expected: Expected, item: dict[str, Any]) -> None:
    fields = {
        k: v
        for k, v in item.items()
        if k not in {"type", "room_type_id", "rate_plan_id", "date_from", "date_to"}
    }
    if "rates" in fields:
        fields["rates"] = tuple((r["occupancy"], r["rate"]) for r in fields["rates"])
    day, last = date.fromisoformat(item["date_from"]), date.fromisoformat(item["date_to"])
    while day <= last:
        expected.setdefault((item["room_type_id"], item.get("rate_plan_id", ""), day), {}).update(
            fields
        )
        day += timedelta(days=1)


def busiest_minute(starts: list[datetime]) -> int:
    starts = sorted(starts)
    best = 0
    for i, start in enumerate(starts):
        best = max(best, sum(1 for s in starts[i:] if s < start + timedelta(seconds=60)))
    return best


async def burst(
    api: httpx.AsyncClient,
    app: FastAPI,
    sandbox: SandboxState,
    expected: Expected,
    changes: int,
    seconds: float,
) -> None:
    resources = app.state.resources
    ids = await channex_ids(api, "p-0")
    rng = random.Random(7)
    today = channex_today(TIMEZONE, utcnow())
    before = {k: (c.requests, c.rate_limited) for k, c in sandbox.store.counters.items()}
    since = utcnow()
    started = time.monotonic()
    for n in range(changes):
        await asyncio.sleep(max(0.0, started + n * seconds / changes - time.monotonic()))
        item = random_change(rng, today)
        await ok(await api.post("/v1/properties/p-0/ari", json={"items": [item]}))
        apply(expected, item)
    last_change = time.monotonic()
    while differences(sandbox, ids, expected):
        if time.monotonic() - last_change > 300:
            raise RuntimeError("the sandbox did not converge within 300 s")
        await asyncio.sleep(0.1)
    converged = time.monotonic() - last_change
    await resources.queue.wait_idle(60)
    print(
        f"2. {changes:,} random PMS changes (one POST /ari each) to one property "
        f"over {seconds:.0f} s"
    )
    async with resources.session_factory() as session:
        stmt = select(SyncRun).where(SyncRun.started_at >= since, SyncRun.outcome != "rate_limited")
        runs = (await session.execute(stmt)).scalars().all()
    for endpoint in ("availability", "restrictions"):
        counter = sandbox.counter(f"POST /{endpoint}")
        sent = counter.requests - before.get(f"POST /{endpoint}", (0, 0))[0]
        limited = counter.rate_limited - before.get(f"POST /{endpoint}", (0, 0))[1]
        busiest = busiest_minute([r.started_at for r in runs if r.endpoint == endpoint])
        values = sum(r.values_count for r in runs if r.endpoint == endpoint)
        print(
            f"  {endpoint:<13} {sent:>3} requests ({values:,} values); busiest 60 s: "
            f"{busiest} (limit 10); 429s from Channex: {limited}"
        )
    print(
        f"  sandbox equal to the desired state {converged:.1f} s after the last change "
        f"({time.monotonic() - started:.1f} s after the first)\n"
    )


# --- 3. CPU and memory of many full syncs --------------------------------------------------


class TimedTransport(httpx.AsyncBaseTransport):
    """ASGITransport to the sandbox that adds up the CPU spent inside the sandbox."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.cpu = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.process_time()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.cpu += time.process_time() - started
        return response


async def copy_state(database_url: str, count: int) -> list[int]:
    """The desired state of p-0 copied into p-1..p-N (rows copied in SQL), full sync owed."""
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    pks = []
    async with factory() as session:
        props = {
            p.pms_property_id: p.id for p in (await session.execute(select(Property))).scalars()
        }
        entities = await _entities(session)
        source = props["p-0"]
        for n in range(1, count + 1):
            target = props[f"p-{n}"]
            for key, kind in (
                (k, "restrictions" if k[1] else "availability") for k in entities[source]
            ):
                copied = select(
                    literal(target),
                    AriCell.kind,
                    literal(entities[target][key]),
                    AriCell.stay_date,
                    AriCell.desired,
                    AriCell.desired,
                    literal(1),
                    literal(False),
                    AriCell.updated_at,
                ).where(
                    AriCell.property_id == source,
                    AriCell.kind == kind,
                    AriCell.entity_id == entities[source][key],
                )
                columns = [
                    "property_id",
                    "kind",
                    "entity_id",
                    "stay_date",
                    "desired",
                    "pushed",
                    "version",
                    "dirty",
                    "updated_at",
                ]
                await session.execute(insert(AriCell).from_select(columns, copied))
            session.add(AriState(property_id=target))
            pks.append(target)
        await session.commit()
    await engine.dispose()
    return pks


async def _entities(session: Any) -> dict[int, dict[tuple[str, str], int]]:
    """(room, plan or "") → room type / rate plan pk, per property pk."""
    out: dict[int, dict[tuple[str, str], int]] = {}
    rooms = {}
    for room in (await session.execute(select(RoomType))).scalars():
        rooms[room.id] = room.pms_room_type_id
        out.setdefault(room.property_id, {})[(room.pms_room_type_id, "")] = room.id
    for plan in (await session.execute(select(RatePlan))).scalars():
        out.setdefault(plan.property_id, {})[(rooms[plan.room_type_id], plan.pms_rate_plan_id)] = (
            plan.id
        )
    return out


async def owe_full_sync(factory: Any, pks: list[int]) -> None:
    async with factory() as session:
        await session.execute(
            update(AriState)
            .where(AriState.property_id.in_(pks))
            .values(full_availability=True, full_restrictions=True)
        )
        await session.commit()


class CollectorTime:
    """A `gc.callbacks` entry adding up the CPU spent in cyclic GC collections."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.total += time.process_time() - self._started


def print_tenths(each: list[tuple[float, float, float]]) -> None:
    """CPU per push over each tenth of the run: channel-sync's, and the sandbox's, whose work
    per push is the same from first to last (so it shows what the machine's load does)."""
    size = max(1, len(each) // 10)
    tenths = [each[start : start + size] for start in range(0, len(each), size)]

    def row(index: int) -> str:
        return " ".join(f"{sum(e[index] for e in t) / len(t) * 1000:4.0f}" for t in tenths)

    print("  ms per push over each tenth of the run, first to last:")
    print(f"    channel-sync  {row(0)}")
    print(f"    of which GC   {row(2)}")
    print(f"    sandbox       {row(1)}")


async def sent_by_full_syncs(factory: Any, pks: list[int]) -> str:
    """Values and requests per endpoint of the full syncs just run (each property's are the
    same: copies of p-0's state, as it stands after parts 1 and 2)."""
    stmt = (
        select(SyncRun.endpoint, func.sum(SyncRun.values_count), func.sum(SyncRun.requests_count))
        .where(SyncRun.kind == "full", SyncRun.property_id.in_(pks))
        .group_by(SyncRun.endpoint)
    )
    async with factory() as session:
        rows = (await session.execute(stmt)).all()
    return ", ".join(
        f"{endpoint} {values / len(pks):,.0f} values in {requests / len(pks):.0f} request(s)"
        for endpoint, values, requests in sorted(rows)
    )


def peak_rss() -> float:
    """The process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def many(database_url: str, sandbox_app: FastAPI, pks: list[int]) -> None:
    sandbox: SandboxState = sandbox_app.state.sandbox
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    transport = TimedTransport(sandbox_app)

    def client() -> ChannexClient:
        # A fresh limiter per pass: each property's first write per endpoint goes at once.
        limiter = MemoryRateLimiter(global_per_minute=10**6, global_per_hour=10**7)
        return ChannexClient(
            base_url="http://sandbox/api/v1", api_key=KEY, limiter=limiter, transport=transport
        )

    await owe_full_sync(factory, pks)
    rss_before = peak_rss()
    collector = CollectorTime()
    gc.callbacks.append(collector)
    # Per push: (channel-sync CPU, the sandbox's CPU, cyclic GC time), to see any growth.
    each: list[tuple[float, float, float]] = []
    async with client() as channex:
        started_cpu, started = time.process_time(), time.perf_counter()
        for pk in pks:
            push_cpu, push_sandbox, push_gc = time.process_time(), transport.cpu, collector.total
            assert await push_property(factory, channex, pk) is None
            # The sandbox stands for Channex: what it keeps of 1,000 calendars is not ours.
            sandbox.store.availability.clear()
            sandbox.store.restrictions.clear()
            sandbox_part = transport.cpu - push_sandbox
            ours_part = time.process_time() - push_cpu - sandbox_part
            each.append((ours_part, sandbox_part, collector.total - push_gc))
        cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    gc.callbacks.remove(collector)
    rss_after = peak_rss()
    sandbox_cpu = transport.cpu
    sent = await sent_by_full_syncs(factory, pks)
    await owe_full_sync(factory, pks[:3])
    tracemalloc.start()
    async with client() as channex:
        for pk in pks[:3]:  # the peak is per push: a few suffice
            await push_property(factory, channex, pk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await engine.dispose()
    n = len(pks)
    ours = cpu - sandbox_cpu
    print(f"3. Full sync of {n} properties (each 20,000 cells, 2 requests), sandbox in-process")
    print(f"  sent per property: {sent}")
    print(
        f"  CPU: {cpu:.2f} s in all ({wall:.2f} s wall), of which the sandbox {sandbox_cpu:.2f} s;"
        f" channel-sync {ours:.1f} s, {ours / n * 1000:.0f} ms per property (database included)"
    )
    if n < 1000:
        print(f"  extrapolated to 1,000 properties: {ours / n * 1000:.0f} s of channel-sync CPU")
    print_tenths(each)
    print(
        f"  peak resident memory of the process: {rss_before:.0f} MiB before the {n} pushes,"
        f" {rss_after:.0f} MiB after"
    )
    print(
        f"  peak traced memory: {peak / 2**20:.1f} MiB for one push at a time; it grows with the"
        f" pushes in flight (a worker runs up to 10), not with the number of properties"
    )


# --- main ------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        sandbox_app = create_sandbox_app(SandboxConfig(api_key=KEY, seed=1))
        sandbox: SandboxState = sandbox_app.state.sandbox
        async with serving(sandbox_app) as url:
            app = create_app(service_settings(database_url, url))
            headers = {"Authorization": f"Bearer {API_KEY}"}
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://service",
                    headers=headers,
                ) as api,
            ):
                await ok(await api.put("/v1/organizations/org-b", json={"title": "Bench"}))
                expected = await full_sync(api, app, sandbox)
                if args.changes:
                    await burst(api, app, sandbox, expected, args.changes, args.seconds)
                if args.onboard == "api":
                    for n in range(1, args.properties + 1):
                        await onboard(api, f"p-{n}")
        if args.onboard == "bulk":
            await clone_properties(database_url, sandbox, "p-0", args.properties)
        pks = await copy_state(database_url, args.properties)
        # As a worker does once started (app.jobs.worker): set-up objects leave the cyclic
        # GC's full collections, which a push's 20,000 cells trigger many times.
        gc.freeze()
        await many(database_url, sandbox_app, pks)
        await stop(sandbox_app)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--properties", type=int, default=20, help="properties in part 3")
    parser.add_argument(
        "--changes", type=int, default=1000, help="PMS changes in part 2 (0: no part 2)"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="span of those changes")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--onboard",
        choices=("bulk", "api"),
        default="bulk",
        help="part 3's properties: copies of p-0 written in bulk (ari_clones.py), or each"
        " onboarded through the API (about an hour for 1,000)",
    )
    asyncio.run(main(parser.parse_args()))
