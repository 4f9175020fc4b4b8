"""The leading edge (issue 14): an idle change goes out at once, a burst keeps the spacing,
and a change that lands while a push ends is never lost. Through the real job registry on
each queue: in-process on the SQLite leg, arq workers on Redis on the PostgreSQL leg."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
import respx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.channex.ratelimit import MemoryRateLimiter
from app.jobs.ari import push_again_if_owed, push_ari
from app.jobs.namespace import RedisNames
from app.jobs.queue import ArqQueue, InProcessQueue, create_json_pool
from app.jobs.registry import build_registry
from app.jobs.requests import PUSH_ARI, JobQueue, request_push
from app.jobs.spec import ALL_QUEUES
from app.jobs.worker import (
    WorkerGroup,
    build_worker_settings,
    queues_with_jobs,
    worker_factory,
)
from app.services import ari_push
from app.settings import Settings
from tests.conftest import FAST_RATE_LIMIT_PER_MINUTE
from tests.factories import Seeded, availability_item, make_ctx, restrictions_item
from tests.services.ari.support import BASE, Clock, change
from tests.services.ari_support import FakeAri
from tests.workers import production_redis

WAIT_SECONDS = 5.0
# The old fixed debounce was 2 s: an idle change must reach Channex well inside it.
IDLE_LATENCY_SECONDS = 1.0


def today() -> date:
    # The jobs plan on the real clock: dates inside the real horizon.
    return datetime.now(UTC).date() + timedelta(days=2)


@dataclass
class Timed:
    """When each ARI write reached the fake, per endpoint."""

    at: dict[str, list[float]] = field(
        default_factory=lambda: {"availability": [], "restrictions": []}
    )

    async def __call__(self, endpoint: str) -> None:
        self.at[endpoint].append(time.monotonic())


@dataclass
class Running:
    queue: JobQueue
    channex: ChannexClient
    fake: FakeAri
    timed: Timed


def limiter_for(request: pytest.FixtureRequest) -> MemoryRateLimiter:
    per_minute = getattr(request, "param", 10)
    return MemoryRateLimiter(per_property_per_minute=per_minute)


@pytest.fixture
async def running(
    request: pytest.FixtureRequest,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    fake: FakeAri,
) -> AsyncIterator[Running]:
    """The ARI jobs running on the leg's queue, Channex the respx fake, a real-clock limiter
    (production spacing unless the test is parametrized with a per-minute limit)."""
    timed = Timed()
    fake.during = timed
    redis_url = production_redis(database_url)
    names = RedisNames(f"channel-sync-test-{uuid4().hex}")
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        redis_namespace=names.namespace,
        sweep_interval_seconds=3600,  # no sweep to rescue a lost change
    )
    registry = build_registry()
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.route(path__regex=r"/(availability|restrictions)$").mock(side_effect=fake.handle)
        channex = ChannexClient(
            base_url=BASE, api_key="k", limiter=limiter_for(request), max_attempts=1
        )
        if redis_url is None:
            queue = InProcessQueue(registry)
            await queue.start(make_ctx(settings, session_factory, channex, queue))
            yield Running(queue, channex, fake, timed)
            await queue.close()
        else:
            pool = await create_json_pool(redis_url)
            arq = ArqQueue(pool, registry, names)
            ctx = make_ctx(settings, session_factory, channex, arq)
            factories = [
                worker_factory(
                    build_worker_settings(settings, name, registry),
                    redis_url,
                    ctx,
                    poll_delay=0.02,
                    job_completion_wait=2,
                )
                for name in queues_with_jobs(registry, ALL_QUEUES)
            ]
            group = WorkerGroup(factories)
            task = asyncio.create_task(group.run())
            try:
                yield Running(arq, channex, fake, timed)
            finally:
                group.stop()
                await task
                keys = [key async for key in pool.scan_iter(match=f"*{names.namespace}:*")]
                if keys:
                    await pool.delete(*keys)
                await pool.aclose()
        await channex.aclose()


async def until(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> float:
    """Poll `condition` every 5 ms; the monotonic time it first held."""
    async with asyncio.timeout(seconds):
        # The fake's state has no event to wait on; 5 ms polls keep the figures honest.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    return time.monotonic()


async def pms_change(
    session_factory: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    seeded: Seeded,
    item: dict[str, object],
) -> bool:
    """What POST /ari does: store, commit, ask for the push (with the default debounce)."""
    await change(session_factory, item, now=None)
    debounce = Settings(_env_file=None).ari_push_debounce_seconds
    return await request_push(queue, seeded.property_pk, defer=debounce or None)


async def test_an_idle_change_goes_out_without_a_debounce(
    session_factory: async_sessionmaker[AsyncSession], running: Running, seeded: Seeded
) -> None:
    day = today()
    started = time.monotonic()
    await pms_change(session_factory, running.queue, seeded, availability_item("r0", day, day, 3))
    seen = await until(lambda: running.fake.availability.get(("cx-r0", day)) == 3)
    assert seen - started < IDLE_LATENCY_SECONDS
    # The other endpoint's budget is its own: its first change goes at once too, although
    # availability has just used its slot.
    started = time.monotonic()
    item = restrictions_item("r0", "bar", day, day, rate="120")
    await pms_change(session_factory, running.queue, seeded, item)
    seen = await until(lambda: ("cx-r0-bar", day) in running.fake.restrictions)
    assert seen - started < IDLE_LATENCY_SECONDS
    assert running.fake.restrictions[("cx-r0-bar", day)]["rate"] == "120.00"


@pytest.mark.parametrize("running", [FAST_RATE_LIMIT_PER_MINUTE], indirect=True)
async def test_a_burst_keeps_the_spacing_and_converges(
    session_factory: async_sessionmaker[AsyncSession], running: Running, seeded: Seeded
) -> None:
    """FAST_RATE_LIMIT_PER_MINUTE stands for Channex's 10 a minute, 120 times faster."""
    day = today()
    changes = 120
    for n in range(changes):
        item = availability_item("r0", day + timedelta(days=n % 7), day + timedelta(days=n % 7), n)
        await pms_change(session_factory, running.queue, seeded, item)
        await asyncio.sleep(0.01)
    last = time.monotonic()
    expected = {("cx-r0", day + timedelta(days=d)): max(n for n in range(changes) if n % 7 == d)
                for d in range(7)}  # fmt: skip
    seen = await until(
        lambda: all(running.fake.availability.get(k) == v for k, v in expected.items())
    )
    spacing = MemoryRateLimiter(per_property_per_minute=FAST_RATE_LIMIT_PER_MINUTE).spacing_seconds
    writes = running.timed.at["availability"]
    gaps = [b - a for a, b in itertools.pairwise(writes)]
    # Never two requests inside one slot. Arrivals are timed in this process, so a request the
    # event loop sent late (a loaded machine) shortens the next gap by that much: two in one
    # slot would be a gap near 0, not 0.6 of the spacing.
    assert min(gaps) >= spacing * 0.6
    assert len(writes) < changes / 2  # coalesced: many changes per request
    assert seen - last < 10 * spacing + 1.0  # converged within a few slots of the last change


async def test_a_change_that_lands_as_a_push_ends_is_pushed(
    session_factory: async_sessionmaker[AsyncSession],
    running: Running,
    seeded: Seeded,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The push looked (nothing left), then the PMS committed and asked while the job's id
    was still taken: the request is turned away, and the job's after_end pushes the cell."""
    day = today()
    original = ari_push.has_pending
    turned_away: list[bool] = []

    async def pms_changes_after_the_last_look(
        session: AsyncSession, property_pk: int, first: date, last: date
    ) -> bool:
        found = await original(session, property_pk, first, last)
        if not turned_away:
            item = restrictions_item("r0", "bar", day, day, rate="99")
            turned_away.append(not await pms_change(session_factory, running.queue, seeded, item))
        return found

    patched: Callable[[AsyncSession, int, date, date], Awaitable[bool]]
    patched = pms_changes_after_the_last_look
    monkeypatch.setattr(ari_push, "has_pending", patched)
    await pms_change(session_factory, running.queue, seeded, availability_item("r0", day, day, 5))
    await until(lambda: ("cx-r0-bar", day) in running.fake.restrictions)
    assert turned_away == [True]
    assert running.fake.availability[("cx-r0", day)] == 5
    assert running.fake.restrictions[("cx-r0-bar", day)]["rate"] == "99.00"


@dataclass
class RecordingQueue:
    """A JobQueue that only records what is asked of it."""

    local: bool = True
    asked: list[tuple[str, tuple[str | int, ...], str | None]] = field(default_factory=list)

    async def start(self, ctx: object) -> None: ...

    async def enqueue(
        self,
        job_name: str,
        *args: str | int,
        job_id: str | None = None,
        defer: float | None = None,
    ) -> bool:
        self.asked.append((job_name, args, job_id))
        return True

    async def queued(self, job_ids: Sequence[str]) -> set[str]:
        return set()  # it runs nothing: no job ever waits in it

    async def close(self) -> None: ...


async def test_cells_left_by_a_push_go_to_a_fresh_job_not_a_retry(
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    fake: FakeAri,
    seeded: Seeded,
    clock: Clock,
) -> None:
    """A Retry per slot would spend the job's tries while the PMS never pauses: the run ends
    and its after_end queues the next push."""
    day = today()
    await change(session_factory, availability_item("r0", day, day, 3), now=None)

    async def pms_changes_meanwhile(endpoint: str) -> None:
        fake.during = None
        await change(session_factory, availability_item("r0", day, day, 4), now=None)

    fake.during = pms_changes_meanwhile
    queue = RecordingQueue()
    ctx = make_ctx(Settings(_env_file=None), session_factory, channex, queue)
    await push_ari(ctx, seeded.property_pk)  # no Retry, though a cell is left
    assert fake.availability[("cx-r0", day)] == 3
    assert queue.asked == []
    await push_again_if_owed(ctx, seeded.property_pk)
    pk = seeded.property_pk
    assert queue.asked == [(PUSH_ARI, (pk,), f"ari:{pk}")]
    clock.now += 10  # past the slot
    await push_ari(ctx, pk)
    assert fake.availability[("cx-r0", day)] == 4
    await push_again_if_owed(ctx, pk)
    assert len(queue.asked) == 1  # nothing left: no further job
