"""Fixtures of the job tests: a real SQLite database, and each queue implementation."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.channex.ratelimit import MemoryRateLimiter
from app.db import create_engine, create_session_factory
from app.jobs.namespace import RedisNames
from app.jobs.queue import ArqQueue, InProcessQueue, create_json_pool
from app.settings import Settings
from tests.factories import make_ctx
from tests.jobs.support import ArqHarness, Harness, InProcessHarness, Recorder
from tests.redis_server import PrivateRedis, require_redis_server


@pytest.fixture
async def session_factory(
    tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite copy: the sweep runs every registered scanner against it."""
    path = tmp_path / "jobs.db"
    shutil.copy(sqlite_template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def channex() -> AsyncIterator[ChannexClient]:
    """A real client that the queue tests never call (nothing listens at .invalid)."""
    client = ChannexClient(
        base_url="https://channex.invalid/api/v1", api_key="unused", limiter=MemoryRateLimiter()
    )
    yield client
    await client.aclose()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def names() -> RedisNames:
    """A Redis namespace of this test alone, so that tests never see each other's jobs."""
    return RedisNames(f"channel-sync-test-{uuid4().hex}")


@pytest.fixture
def queue_name() -> str:
    """The queue the test jobs are on (inside the test's namespace)."""
    return "jobs"


@pytest.fixture
async def arq_pool(redis_url: str, names: RedisNames) -> AsyncIterator[ArqRedis]:
    pool = await create_json_pool(redis_url)
    yield pool
    # Remove only this test's keys: everything named in its namespace, and arq's job keys.
    keys = [key async for key in pool.scan_iter(match=f"*{names.namespace}:*")]
    if keys:
        await pool.delete(*keys)
    await pool.aclose()


@pytest.fixture
async def in_process_harness(
    recorder: Recorder,
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    queue_name: str,
) -> AsyncIterator[InProcessHarness]:
    queue = InProcessQueue(recorder.specs(queue_name), drain_seconds=1)
    settings = Settings(sweep_interval_seconds=3600)
    await queue.start(make_ctx(settings, session_factory, channex, queue))
    yield InProcessHarness(queue)
    await queue.close()


@pytest.fixture
async def arq_harness(
    recorder: Recorder,
    session_factory: async_sessionmaker[AsyncSession],
    channex: ChannexClient,
    queue_name: str,
    arq_pool: ArqRedis,
    redis_url: str,
    names: RedisNames,
) -> AsyncIterator[ArqHarness]:
    registry = recorder.specs(queue_name)
    queue = ArqQueue(arq_pool, registry, names)
    settings = Settings(redis_url=redis_url, redis_namespace=names.namespace)
    ctx = make_ctx(settings, session_factory, channex, queue)
    yield ArqHarness(queue, arq_pool, settings, queue_name, registry, ctx)
    await queue.close()


@pytest.fixture(params=["in_process", "arq"])
def harness(request: pytest.FixtureRequest) -> Harness:
    """Each queue implementation in turn, for the behaviour both must share."""
    found: Harness = request.getfixturevalue(f"{request.param}_harness")
    return found


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis of this test alone, stopped and started at will (not yet started)."""
    require_redis_server()
    server = PrivateRedis(tmp_path)
    yield server
    server.stop()
