"""Server-side render time of the operator console's pages with 1,000 properties.

Builds a migrated database (SQLite; PostgreSQL too when it is reachable) with bulk inserts:
50 organizations of 20 properties, each with 3 room types and 6 rate plans, a calendar of
ARI cells (mostly in sync, some pending, a few failed), 20 sync runs, bookings with their
revisions; and problems: properties in error, flagged and quarantined revisions, webhook
alarms. Then logs in to the console of an in-process app (httpx's ASGITransport, no network)
and times each page N times after warm-ups: median and p95 of the wall time in ms, and the
median CPU time of this process (the app's share; on a shared machine the wall time also
holds the waits for a CPU). Target (issue 13): every page under 300 ms.

    .venv/bin/python benchmarks/console_render.py            # --properties, --days, --runs
    .venv/bin/python benchmarks/console_render.py --no-postgres
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.main import create_app
from app.migrate import upgrade
from app.models import (
    AriCell,
    Booking,
    BookingRevision,
    Organization,
    Property,
    QuarantinedRevision,
    RatePlan,
    RoomType,
    SyncRun,
    WebhookEvent,
)
from app.settings import ApiKey, Settings
from tests.servers import POSTGRES_URL, reachable, scratch_database

OPERATOR_KEY = "bench-operator-key"
PER_ORGANIZATION = 20
ROOMS = 3
PLANS_PER_ROOM = 2
RUNS_PER_PROPERTY = 20
BOOKINGS_PER_PROPERTY = 10
TARGET_MS = 300.0
WARMUPS = 3
CHUNK = 5000  # rows per executemany
Row = dict[str, Any]


@dataclass(frozen=True)
class Shape:
    properties: int
    days: int

    @property
    def organizations(self) -> int:
        return -(-self.properties // PER_ORGANIZATION)


# --- the data set ----------------------------------------------------------------------------


def _organizations(shape: Shape, now: datetime) -> Iterator[Row]:
    for o in range(1, shape.organizations + 1):
        yield {
            "id": o, "pms_organization_id": f"org-{o:03d}", "title": f"Hotel Group {o}",
            "channex_group_id": f"grp-{o}", "sync_status": "synced", "synced_at": now,
        }  # fmt: skip


def _properties(shape: Shape, now: datetime) -> Iterator[Row]:
    for p in range(1, shape.properties + 1):
        error = p % 97 == 0  # a few properties whose last sync failed
        yield {
            "id": p, "organization_id": (p - 1) // PER_ORGANIZATION + 1,
            "pms_property_id": f"p-{p:04d}", "channex_property_id": f"cx-{p}",
            "title": f"{'Seaside' if p % 3 else 'Harbour'} Hotel {p}", "currency": "EUR",
            "timezone": "Europe/Lisbon", "details": {"country": "PT"},
            "sync_status": "error" if error else "synced",
            "last_error": "ChannexServerError HTTP 502" if error else None, "synced_at": now,
        }  # fmt: skip


def _room_types(shape: Shape) -> Iterator[Row]:
    for p in range(1, shape.properties + 1):
        for r in range(ROOMS):
            yield {
                "id": (p - 1) * ROOMS + r + 1, "property_id": p, "pms_room_type_id": f"rt{r}",
                "channex_room_type_id": f"cx-rt-{p}-{r}", "title": f"Room {r}",
                "count_of_rooms": 10, "occ_adults": 2, "default_occupancy": 2,
                "sync_status": "synced",
            }  # fmt: skip


def _rate_plans(shape: Shape) -> Iterator[Row]:
    for p in range(1, shape.properties + 1):
        for r in range(ROOMS):
            for k in range(PLANS_PER_ROOM):
                yield {
                    "id": ((p - 1) * ROOMS + r) * PLANS_PER_ROOM + k + 1, "property_id": p,
                    "room_type_id": (p - 1) * ROOMS + r + 1, "pms_rate_plan_id": f"bar{k}",
                    "channex_rate_plan_id": f"cx-rp-{p}-{r}-{k}", "title": f"Rate {r}.{k}",
                    "currency": "EUR", "options": [{"occupancy": 2, "rate": "100.00"}],
                    "sync_status": "synced",
                }  # fmt: skip


def _cells(shape: Shape, today: date, now: datetime) -> Iterator[Row]:
    """Every room type and rate plan over `days` from today: 1 in 20 pending, 1 in 200
    failed (Channex's warning kept), the rest in sync."""
    n = 0
    for p in range(1, shape.properties + 1):
        entities = [("availability", (p - 1) * ROOMS + r + 1) for r in range(ROOMS)]
        entities += [
            ("restrictions", (p - 1) * ROOMS * PLANS_PER_ROOM + k + 1)
            for k in range(ROOMS * PLANS_PER_ROOM)
        ]
        for kind, entity in entities:
            for d in range(shape.days):
                n += 1
                desired = {"availability": 5} if kind == "availability" else {"rate": "100.00"}
                pending, failed = n % 20 == 0, n % 200 == 7
                yield {
                    "property_id": p, "kind": kind, "entity_id": entity,
                    "stay_date": today + timedelta(days=d), "desired": desired,
                    "pushed": {} if pending or failed else desired, "version": 1,
                    "dirty": pending or failed,
                    "failure": "RATE_LESS_THAN_MIN" if failed else None, "updated_at": now,
                }  # fmt: skip


def _runs(shape: Shape, today: date, now: datetime) -> Iterator[Row]:
    for p in range(1, shape.properties + 1):
        for r in range(RUNS_PER_PROPERTY):
            failed = r == RUNS_PER_PROPERTY - 1 and p % 50 == 0
            yield {
                "property_id": p, "kind": "incremental",
                "endpoint": "availability" if r % 2 else "restrictions",
                "outcome": "failed" if failed else "success", "cells": 12,
                "values_count": 12, "requests_count": 1, "bytes_count": 900,
                "date_from": today, "date_to": today + timedelta(days=5),
                "task_ids": [f"task-{p}-{r}"], "warnings": [],
                "error": "ChannexServerError HTTP 500" if failed else None,
                "started_at": now - timedelta(minutes=RUNS_PER_PROPERTY - r), "duration_ms": 80,
            }  # fmt: skip


def _bookings(shape: Shape, today: date, now: datetime) -> Iterator[tuple[Row, Row]]:
    """(booking, its one revision); 1 in 100 revisions flagged."""
    n = 0
    for p in range(1, shape.properties + 1):
        for b in range(BOOKINGS_PER_PROPERTY):
            n += 1
            arrival = today + timedelta(days=b + 3)
            booking = {
                "id": n, "channex_booking_id": f"bk-{n}", "channex_property_id": f"cx-{p}",
                "property_id": p, "status": "new", "unique_id": f"BDC-{n}",
                "arrival_date": arrival, "departure_date": arrival + timedelta(days=2),
                "amount": "200.00", "currency": "EUR", "current_revision_id": f"rev-{n}",
                "current_inserted_at": now, "last_sequence": 1,
            }  # fmt: skip
            revision = {
                "id": n, "channex_revision_id": f"rev-{n}", "booking_id": n, "status": "new",
                "inserted_at": now, "sequence": 1, "feed_position": n,
                "data": {"status": "new", "arrival_date": arrival.isoformat()},
                "flags": ["unknown_rate_plan"] if n % 100 == 0 else [],
                "acked_at": now, "pulled_at": now,
            }  # fmt: skip
            yield booking, revision


def _quarantined(shape: Shape, now: datetime) -> Iterator[Row]:
    for q in range(1, shape.properties // 10 + 1):
        yield {
            "channex_revision_id": f"poison-{q}", "channex_booking_id": f"bk-poison-{q}",
            "channex_property_id": f"cx-{q}", "reason": "ValidationError at schemas.py:80",
            "payload": None, "quarantined_at": now,
            "resolved_at": now if q % 2 else None,  # half of them re-applied already
        }  # fmt: skip


def _events(shape: Shape, now: datetime) -> Iterator[Row]:
    for e in range(1, shape.properties * 5 + 1):
        alarm = e % 50 == 0
        yield {
            "dedup_key": f"evt-{e}", "event": "non_acked_booking" if alarm else "booking",
            "channex_property_id": f"cx-{e % shape.properties + 1}",
            "channex_revision_id": f"rev-{e}", "body": "{}",
            "status": "alarm" if alarm else "processed", "attempts": 1,
            "received_at": now, "processed_at": now,
        }  # fmt: skip


async def _insert(conn: AsyncConnection, table: Table, rows: Iterator[Row]) -> int:
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            await conn.execute(table.insert(), chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        await conn.execute(table.insert(), chunk)
        count += len(chunk)
    return count


async def build(database_url: str, shape: Shape) -> dict[str, int]:
    """Migrate, then fill the database in one transaction; rows per table."""
    await asyncio.to_thread(upgrade, database_url)
    now = datetime.now(UTC)
    today = now.date()  # Lisbon's today, give or take the hour: the calendar starts here
    pairs = list(_bookings(shape, today, now))
    tables: list[tuple[type[Any], Callable[[], Iterator[Row]]]] = [
        (Organization, lambda: _organizations(shape, now)),
        (Property, lambda: _properties(shape, now)),
        (RoomType, lambda: _room_types(shape)),
        (RatePlan, lambda: _rate_plans(shape)),
        (AriCell, lambda: _cells(shape, today, now)),
        (SyncRun, lambda: _runs(shape, today, now)),
        (Booking, lambda: (b for b, _ in pairs)),
        (BookingRevision, lambda: (r for _, r in pairs)),
        (QuarantinedRevision, lambda: _quarantined(shape, now)),
        (WebhookEvent, lambda: _events(shape, now)),
    ]
    engine = create_async_engine(database_url)
    counts: dict[str, int] = {}
    try:
        async with engine.begin() as conn:
            for model, rows in tables:
                counts[model.__tablename__] = await _insert(conn, model.__table__, rows())
        if database_url.startswith("postgresql"):
            async with engine.connect() as conn:  # fresh statistics, as autovacuum would
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return counts


# --- the timing ------------------------------------------------------------------------------


def pages(shape: Shape) -> list[tuple[str, str]]:
    middle = f"p-{shape.properties // 2:04d}"
    return [
        ("overview, first page", "/console/"),
        ("overview, search", "/console/?q=harbour+hotel+4"),
        ("overview, last page", f"/console/?page={-(-shape.properties // 50)}"),
        ("property page", f"/console/properties/{middle}"),
        ("bookings", "/console/bookings"),
    ]


def settings_for(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=None,
        channex_sync_enabled=False,  # no Channex here: the pages read the database only
        sweep_interval_seconds=3600,
        api_keys=[ApiKey(name="ops", key=OPERATOR_KEY, operator=True)],
    )


@dataclass(frozen=True)
class Timing:
    page: str
    median_ms: float
    p95_ms: float
    cpu_ms: float  # median CPU time of this process: the app's share, not the database's


async def time_pages(database_url: str, shape: Shape, runs: int) -> list[Timing]:
    """Each page rendered `runs` times, after warm-ups (the first renders compile templates
    and fill SQLAlchemy's statement cache)."""
    app = create_app(settings_for(database_url))
    results = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c,
    ):
        login = await c.post("/console/login", data={"key": OPERATOR_KEY})
        assert login.status_code == 303, login.text
        gc.collect()
        gc.freeze()  # as `channel-sync serve` does: the start-up heap out of the GC's way
        for name, path in pages(shape):
            for _ in range(WARMUPS):
                warm = await c.get(path)
                assert warm.status_code == 200, (path, warm.status_code)
            wall, cpu = [], []
            for _ in range(runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                answer = await c.get(path)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                assert answer.status_code == 200
            p95 = statistics.quantiles(wall, n=20)[-1] if runs >= 2 else wall[0]
            results.append(Timing(name, statistics.median(wall), p95, statistics.median(cpu)))
    return results


def report(engine: str, counts: dict[str, int], seconds: float, results: list[Timing]) -> None:
    rows = ", ".join(f"{n:,} {t}" for t, n in counts.items())
    print(f"\n{engine}: built in {seconds:.1f} s ({rows})")
    print(f"  {'page':<24} {'median ms':>10} {'p95 ms':>8} {'cpu ms':>8}")
    for t in results:
        mark = "" if t.p95_ms < TARGET_MS else f"  over {TARGET_MS:.0f} ms"
        print(f"  {t.page:<24} {t.median_ms:>10.1f} {t.p95_ms:>8.1f} {t.cpu_ms:>8.1f}{mark}")


async def leg(engine: str, database_url: str, shape: Shape, runs: int) -> None:
    started = time.perf_counter()
    counts = await build(database_url, shape)
    built = time.perf_counter() - started
    report(engine, counts, built, await time_pages(database_url, shape, runs))


async def main(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)
    shape = Shape(args.properties, args.days)
    print(f"{shape.properties} properties, {shape.days} days of cells, {args.runs} renders each")
    with tempfile.TemporaryDirectory() as tmp:
        await leg("SQLite", f"sqlite+aiosqlite:///{tmp}/console.db", shape, args.runs)
    if args.postgres and reachable(POSTGRES_URL):
        async with scratch_database("channel_sync_console_bench") as url:
            await leg("PostgreSQL", url, shape, args.runs)
    elif args.postgres:
        print(f"\nPostgreSQL: not reachable at {POSTGRES_URL}, skipped")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--properties", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30, help="ARI calendar length per entity")
    parser.add_argument("--runs", type=int, default=20, help="renders per page")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    asyncio.run(main(parser.parse_args()))
