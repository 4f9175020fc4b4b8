"""Real arq workers inside a test: the production path (PostgreSQL + Redis + arq) run for the
length of a `with` block, one worker per queue, as `channel-sync worker` would run them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.jobs.namespace import RedisNames
from app.jobs.queue import create_json_pool
from app.jobs.registry import build_registry
from app.jobs.spec import ALL_QUEUES
from app.jobs.worker import (
    WorkerFactory,
    WorkerGroup,
    build_worker_settings,
    queues_with_jobs,
    worker_factory,
)
from app.resources import open_worker_resources
from app.settings import Settings
from tests.servers import REDIS_URL, require_server


def production_redis(database_url: str) -> str | None:
    """Redis (and so arq) for the PostgreSQL leg of a test, none for the embedded SQLite one."""
    if not database_url.startswith("postgresql"):
        return None
    require_server(REDIS_URL, "Redis")
    return REDIS_URL


@asynccontextmanager
async def arq_workers(settings: Settings) -> AsyncIterator[None]:
    """Run arq workers for every queue until the block ends; nothing when no REDIS_URL."""
    if settings.redis_url is None:
        yield
        return
    registry = build_registry()
    redis_url = settings.redis_url
    pool = await create_json_pool(redis_url)
    names = RedisNames.of(settings)
    # Jobs left by an earlier test would act on another database's ids; and their arq keys
    # without them (a job queued as that test's workers stopped) would turn this test's
    # requests for the same job ids away as "queued already", for the key's day of expiry.
    left = [key async for key in pool.scan_iter(match=f"arq:*{names.job('')}*", count=1000)]
    await pool.delete(*(names.queue(queue) for queue in ALL_QUEUES), *left)
    resources = await open_worker_resources(settings, pool, registry)

    def factory(queue: str) -> WorkerFactory:
        config = build_worker_settings(settings, queue, registry)
        ctx = resources.context()
        return worker_factory(config, redis_url, ctx, poll_delay=0.05, job_completion_wait=5)

    group = WorkerGroup([factory(queue) for queue in queues_with_jobs(registry, ALL_QUEUES)])
    running = asyncio.create_task(group.run())
    try:
        yield
    finally:
        group.stop()  # finish running jobs, stop
        await running
        await resources.aclose()
        await pool.aclose(close_connection_pool=True)
