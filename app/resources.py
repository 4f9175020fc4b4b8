"""The per-process resources: one engine, one Channex client, one limiter, one queue.

Built in the API's lifespan and in the worker process from settings, closed on shutdown;
nothing here exists at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.channex.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from app.db import create_engine, create_session_factory, open_driver_pool
from app.jobs.context import WorkerContext
from app.jobs.namespace import RedisNames
from app.jobs.queue import ArqQueue, InProcessQueue, lazy_json_pool
from app.jobs.registry import build_registry
from app.jobs.requests import JobQueue
from app.jobs.spec import JobSpec
from app.services.delivery import delivery_client
from app.services.personal_data import with_personal_data_keys
from app.services.secret_policy import require_strong_secrets
from app.settings import Settings


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    limiter: RateLimiter
    channex: ChannexClient | None
    queue: JobQueue
    pms_http: httpx.AsyncClient
    redis: Redis | None = None
    owns_redis: bool = True
    # The webhook intake's own asyncpg pool (API process on PostgreSQL; see app.db).
    intake_pool: asyncpg.Pool | None = None

    def context(self) -> WorkerContext:
        """What every job receives: ids in, resources from here."""
        return WorkerContext(
            settings=self.settings,
            session_factory=self.session_factory,
            channex=self.channex,
            queue=self.queue,
            pms_http=self.pms_http,
        )

    async def start(self) -> None:
        """Start in-process jobs (embedded mode); arq workers run in their own processes."""
        await self.queue.start(self.context())

    async def aclose(self) -> None:
        # The queue first, so that running jobs finish while the engine and client still work.
        await self.queue.close()
        if self.channex is not None:
            await self.channex.aclose()
        await self.pms_http.aclose()
        if self.intake_pool is not None:
            await self.intake_pool.close()
        if self.redis is not None and self.owns_redis:
            await self.redis.aclose(close_connection_pool=True)
        await self.engine.dispose()


def build_limiter(settings: Settings, redis: Redis | None) -> RateLimiter:
    """Redis when configured, so every process shares one budget per Channex property."""
    per_property = settings.channex_rate_limit_per_minute
    per_minute = settings.channex_global_limit_per_minute
    per_hour = settings.channex_global_limit_per_hour
    share = settings.channex_tenant_share
    margin = settings.channex_rate_limit_margin
    if redis is not None:
        return RedisRateLimiter(
            redis,
            per_property_per_minute=per_property,
            global_per_minute=per_minute,
            global_per_hour=per_hour,
            prefix=RedisNames.of(settings).limiter_prefix,
            tenant_share=share,
            spacing_margin=margin,
        )
    return MemoryRateLimiter(
        per_property_per_minute=per_property,
        global_per_minute=per_minute,
        global_per_hour=per_hour,
        tenant_share=share,
        spacing_margin=margin,
    )


def build_channex(settings: Settings, limiter: RateLimiter) -> ChannexClient | None:
    """None when there is nothing to talk to: no key, or sync switched off."""
    if settings.channex_api_key is None or not settings.channex_sync_enabled:
        return None
    return ChannexClient(
        base_url=settings.channex_api_url,
        api_key=settings.channex_api_key.get_secret_value(),
        limiter=limiter,
        timeout=settings.channex_timeout_seconds,
        max_attempts=settings.channex_max_attempts,
    )


def _assemble(
    settings: Settings, redis: Redis | None, queue: JobQueue, *, owns_redis: bool
) -> Resources:
    # Before anything is opened: nothing to close on refusal. Every part of the process
    # reads its settings from here, so a generated development key reaches them all.
    settings = with_personal_data_keys(settings)
    require_strong_secrets(settings)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    limiter = build_limiter(settings, redis)
    return Resources(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        limiter=limiter,
        channex=build_channex(settings, limiter),
        queue=queue,
        pms_http=delivery_client(settings),
        redis=redis,
        owns_redis=owns_redis,
    )


async def open_resources(settings: Settings) -> Resources:
    """The API process: arq when REDIS_URL is set, else jobs run in this process."""
    registry = build_registry()
    if settings.redis_url:
        # One pool serves the queue, the limiter and the readiness check.
        pool = lazy_json_pool(settings.redis_url)
        queue = ArqQueue(pool, registry, RedisNames.of(settings))
        resources = _assemble(settings, pool, queue, owns_redis=True)
    else:
        resources = _assemble(settings, None, InProcessQueue(registry), owns_redis=True)
    try:
        resources.intake_pool = await open_driver_pool(
            resources.engine, settings.database_pool_size
        )
    except BaseException:
        await resources.aclose()
        raise
    return resources


async def open_worker_resources(
    settings: Settings, pool: ArqRedis, registry: dict[str, JobSpec]
) -> Resources:
    """A worker process: the arq pool doubles as the limiter's Redis (the caller closes it)."""
    queue = ArqQueue(pool, registry, RedisNames.of(settings))
    return _assemble(settings, pool, queue, owns_redis=False)
