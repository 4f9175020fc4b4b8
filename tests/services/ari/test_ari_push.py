"""The ARI engine against a respx fake of Channex: exact requests, results and retries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from arq.worker import Retry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.jobs.ari import push_ari, retry_delay, scan_ari
from app.jobs.context import WorkerContext
from app.jobs.queue import InProcessQueue
from app.jobs.registry import build_registry
from app.jobs.requests import PUSH_ARI
from app.services.ari_full_syncs import request_full_sync
from app.services.ari_mappings import channex_today
from app.services.ari_push import PushLeft, push_property
from app.services.ari_state import cell_status
from app.services.delivery import delivery_client
from app.settings import Settings
from tests.factories import Seeded, availability_item, restrictions_item
from tests.services.ari.support import (
    LAST,
    NOW,
    TODAY,
    Clock,
    cells,
    change,
    push,
    runs,
)
from tests.services.ari_support import FakeAri


async def test_weekend_rates_for_a_500_day_season_become_two_values(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
) -> None:
    await change(
        session_factory,
        restrictions_item("r0", "bar", TODAY, LAST, rate="100"),
        restrictions_item("r0", "bar", TODAY, LAST, days=["fr", "sa"], rate="150"),
    )
    assert await push(session_factory, channex, seeded) is None
    assert fake.writes("availability") == []
    [values] = fake.writes("restrictions")
    assert values[0] == {
        "property_id": "cx-p-1", "rate_plan_id": "cx-r0-bar", "date_from": TODAY.isoformat(),
        "date_to": LAST.isoformat(), "rate": "100.00",
    }  # fmt: skip
    assert len(values) == 2
    assert values[1]["days"] == ["fr", "sa"]
    assert values[1]["rate"] == "150.00"
    for offset in range(500):
        day = TODAY + timedelta(days=offset)
        expected = "150.00" if day.weekday() in (4, 5) else "100.00"
        assert fake.restrictions[("cx-r0-bar", day)] == {"rate": expected}
    assert all(cell_status(cell) == "in_sync" for cell in await cells(session_factory))


async def test_a_field_changed_alone_is_sent_alone(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    week = TODAY + timedelta(days=6)
    await change(
        session_factory, restrictions_item("r0", "bar", TODAY, week, rate="90", min_stay_arrival=1)
    )
    await push(session_factory, channex, seeded)
    clock.now += 10
    assert (
        await change(session_factory, restrictions_item("r0", "bar", TODAY, week, rate="90")) == 0
    )
    await change(
        session_factory,
        restrictions_item("r0", "bar", TODAY, TODAY + timedelta(2), min_stay_arrival=3),
    )
    await push(session_factory, channex, seeded)
    assert fake.writes("restrictions")[1] == [
        {"property_id": "cx-p-1", "rate_plan_id": "cx-r0-bar", "date_from": TODAY.isoformat(),
         "date_to": (TODAY + timedelta(2)).isoformat(), "min_stay_arrival": 3}
    ]  # fmt: skip


async def test_all_entities_go_in_one_request_per_endpoint(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
) -> None:
    per_person = [{"occupancy": 1, "rate": "80"}, {"occupancy": 2, "rate": "95.5"}]
    await change(
        session_factory,
        availability_item("r0", TODAY, LAST, 5),
        availability_item("r1", TODAY, TODAY, 2),
        restrictions_item("r0", "bar", TODAY, LAST, rate="100", stop_sell=False),
        restrictions_item("r1", "pp", TODAY, TODAY + timedelta(9), rates=per_person),
    )
    await push(session_factory, channex, seeded)
    [availability] = fake.writes("availability")
    [restrictions] = fake.writes("restrictions")
    assert sorted((v["room_type_id"], v["availability"]) for v in availability) == [
        ("cx-r0", 5),
        ("cx-r1", 2),
    ]
    assert {"property_id": "cx-p-1", "rate_plan_id": "cx-r1-pp",
            "date_from": TODAY.isoformat(), "date_to": (TODAY + timedelta(9)).isoformat(),
            "rates": [{"occupancy": 1, "rate": "80.00"}, {"occupancy": 2, "rate": "95.50"}],
            } in restrictions  # fmt: skip
    assert len(restrictions) == 2


async def test_a_change_during_a_push_is_sent_by_the_next_push(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await change(session_factory, availability_item("r0", TODAY, TODAY + timedelta(9), 4))

    async def pms_changes_meanwhile(endpoint: str) -> None:
        fake.during = None
        await change(
            session_factory, availability_item("r0", TODAY + timedelta(2), TODAY + timedelta(3), 1)
        )

    fake.during = pms_changes_meanwhile
    assert await push(session_factory, channex, seeded) is not None  # more to send
    clock.now += 10
    assert await push(session_factory, channex, seeded) is None
    first, second = fake.writes("availability")
    assert [v["availability"] for v in first] == [4]
    assert second == [
        {"property_id": "cx-p-1", "room_type_id": "cx-r0",
         "date_from": (TODAY + timedelta(2)).isoformat(),
         "date_to": (TODAY + timedelta(3)).isoformat(), "availability": 1}
    ]  # fmt: skip
    assert fake.availability[("cx-r0", TODAY + timedelta(2))] == 1
    assert all(not cell.dirty for cell in await cells(session_factory))


async def test_warnings_become_failures_of_exactly_their_cells(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
) -> None:
    fake.reject = lambda v: (
        {"rate": ["must be greater than 0"]} if v.get("rate") == "5.00" else None
    )
    await change(
        session_factory,
        restrictions_item("r0", "bar", TODAY, TODAY + timedelta(4), rate="100"),
        restrictions_item("r1", "bar", TODAY, TODAY + timedelta(4), rate="5"),
    )
    assert await push(session_factory, channex, seeded) is None  # failures are not retried
    by_entity = {(c.entity_id, c.stay_date): c for c in await cells(session_factory)}
    statuses = sorted({(cell_status(c), c.failure) for c in by_entity.values()}, key=str)
    assert statuses == [
        ("failed", '{"rate": ["must be greater than 0"]}'),
        ("in_sync", None),
    ]
    [run] = await runs(session_factory)
    assert run.outcome == "partial"
    assert len(run.task_ids) == 1
    assert len(run.warnings) == 1
    assert run.warnings[0]["rate_plan_id"] == "cx-r1-bar"


async def test_the_limiter_defers_the_job_without_sending(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
) -> None:
    # The job works on the real clock: a date safely inside the real horizon.
    day = datetime.now(UTC).date() + timedelta(days=2)
    await change(session_factory, availability_item("r0", day, day, 3), now=None)
    await push_property(session_factory, channex, seeded.property_pk)
    await change(session_factory, availability_item("r0", day, day, 2), now=None)
    settings = Settings(_env_file=None)
    ctx = WorkerContext(
        settings=settings,
        session_factory=session_factory,
        channex=channex,
        queue=InProcessQueue(build_registry()),
        pms_http=delivery_client(settings),
    )
    with pytest.raises(Retry) as retry:
        await push_ari(ctx, seeded.property_pk)
    assert retry.value.defer_score == pytest.approx(6_300, abs=50)  # 60 s / 10, and 5 %
    assert len(fake.writes("availability")) == 1
    assert await runs(session_factory) != []
    assert len(await runs(session_factory)) == 1


async def test_a_429_pauses_the_property_and_keeps_the_cells(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    body = {"errors": {"code": "http_too_many_requests", "title": "Too many requests"}}
    fake.script = [httpx.Response(429, json=body)]
    await change(session_factory, availability_item("r0", TODAY, TODAY, 3))
    assert await push(session_factory, channex, seeded) == PushLeft("rate_limited", 60.0)
    [run] = await runs(session_factory)
    assert run.outcome == "rate_limited"
    assert "429" in (run.error or "")
    clock.now += 30
    left = await push(session_factory, channex, seeded)
    assert left is not None
    assert left.retry_after == pytest.approx(30.0)  # cooldown
    clock.now += 31
    assert await push(session_factory, channex, seeded) is None
    assert fake.availability[("cx-r0", TODAY)] == 3


async def test_a_5xx_is_recorded_and_retried_with_backoff(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
) -> None:
    fake.script = [httpx.Response(503)]
    await change(session_factory, availability_item("r0", TODAY, TODAY, 3))
    left = await push_property(session_factory, channex, seeded.property_pk, now=NOW)
    assert left == PushLeft("unavailable")
    assert retry_delay(left, job_try=3) == 20.0  # the queue backs off: 5 s, doubling
    [run] = await runs(session_factory)
    assert run.outcome == "failed"
    assert run.values_count == 1
    assert run.bytes_count > 0
    assert all(cell.dirty for cell in await cells(session_factory))


async def test_past_dates_are_never_pushed(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
) -> None:
    await change(session_factory, availability_item("r0", TODAY, TODAY + timedelta(4), 3))
    later = NOW + timedelta(days=2)
    assert await push_property(session_factory, channex, seeded.property_pk, now=later) is None
    [values] = fake.writes("availability")
    assert values[0]["date_from"] == (TODAY + timedelta(2)).isoformat()
    assert not any(cell.dirty for cell in await cells(session_factory))


def test_today_is_the_property_s_date_and_rolls_at_2am() -> None:
    # 06:00 UTC is 20:00 the day before in Honolulu (UTC-10): still that day there.
    assert channex_today("Pacific/Honolulu", datetime(2026, 6, 2, 6, tzinfo=UTC)) == date(
        2026, 6, 1
    )
    # 01:30 in Lisbon (UTC+1 in June) is still yesterday for Channex; 02:30 is today.
    assert channex_today("Europe/Lisbon", datetime(2026, 6, 2, 0, 30, tzinfo=UTC)) == date(
        2026, 6, 1
    )
    assert channex_today("Europe/Lisbon", datetime(2026, 6, 2, 1, 30, tzinfo=UTC)) == date(
        2026, 6, 2
    )


async def test_full_sync_sends_one_request_per_endpoint(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    await change(
        session_factory,
        availability_item("r0", TODAY, LAST, 5),
        availability_item("r1", TODAY, LAST, 7),
        restrictions_item("r0", "bar", TODAY, LAST, rate="100", min_stay_arrival=2),
        restrictions_item("r1", "bar", TODAY, LAST, rate="120"),
    )
    await push(session_factory, channex, seeded)
    clock.now += 10
    async with session_factory() as session:
        await request_full_sync(session, seeded.property_pk)
        await session.commit()
    assert await push(session_factory, channex, seeded) is None
    assert len(fake.writes("availability")) == 2
    assert len(fake.writes("restrictions")) == 2
    assert len(fake.writes("availability")[1]) == 2  # everything again, compressed
    full = [run for run in await runs(session_factory) if run.kind == "full"]
    assert sorted(run.endpoint for run in full) == ["availability", "restrictions"]
    assert all(run.date_from == TODAY and run.date_to == LAST for run in full)


async def test_the_sweep_finds_properties_with_unsent_cells(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    seeded: Seeded,
) -> None:
    async with session_factory() as session:
        assert await scan_ari(session) == []
    await change(session_factory, availability_item("r0", TODAY, TODAY, 3))
    async with session_factory() as session:
        [job] = await scan_ari(session)
    assert (job.job_name, job.args, job.job_id) == (
        PUSH_ARI,
        (seeded.property_pk,),
        f"ari:{seeded.property_pk}",
    )
    await push(session_factory, channex, seeded)
    async with session_factory() as session:
        assert await scan_ari(session) == []
