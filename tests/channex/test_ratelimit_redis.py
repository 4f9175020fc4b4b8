"""RedisRateLimiter against a real Redis: spacing, cooldown, global ceiling, atomicity."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from app.channex.ratelimit import RedisRateLimiter

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards (never FLUSHDB)."""
    value = f"test:channex-rl:{uuid.uuid4().hex}:"
    yield value
    keys = [key async for key in redis.scan_iter(match=f"{value}*")]
    if keys:
        await redis.delete(*keys)


async def test_second_request_waits_out_the_spacing(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix=prefix, spacing_margin=0)

    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0
    wait = await limiter.acquire(property_id="p1", endpoint="availability")

    assert 5.5 < wait <= 6.0
    assert await limiter.acquire(property_id="p1", endpoint="restrictions") == 0.0
    assert await limiter.acquire(property_id="p2", endpoint="availability") == 0.0


async def test_request_is_granted_once_the_spacing_has_passed(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(
        redis, per_property_per_minute=600, prefix=prefix, spacing_margin=0
    )  # 0.1 s

    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0
    assert 0 < await limiter.acquire(property_id="p1", endpoint="availability") <= 0.1
    await asyncio.sleep(0.12)
    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0


async def test_cooldown_blocks_every_endpoint_of_that_property_only(
    redis: Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis, prefix=prefix, spacing_margin=0)
    await limiter.cooldown("p1", 60)
    await limiter.cooldown("p1", 1)  # a shorter one never shortens it

    assert 59 < await limiter.acquire(property_id="p1", endpoint="availability") <= 60
    assert 59 < await limiter.acquire(property_id="p1", endpoint="restrictions") <= 60
    assert await limiter.acquire(property_id="p2", endpoint="availability") == 0.0


async def test_cooldown_ends_by_itself(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix=prefix, spacing_margin=0)
    await limiter.cooldown("p1", 0.1)

    assert await limiter.acquire(property_id="p1", endpoint="availability") > 0
    await asyncio.sleep(0.12)
    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0


async def test_global_minute_ceiling_counts_every_request(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, global_per_minute=3, prefix=prefix)
    for n in range(3):
        assert await limiter.acquire(property_id=f"p{n}", endpoint="availability") == 0.0

    assert 59 < await limiter.acquire() <= 60
    assert 59 < await limiter.acquire(property_id="p9", endpoint="availability") <= 60
    assert await redis.zcard(f"{prefix}global:minute") == 3  # refusals reserve nothing


async def test_global_hour_ceiling(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, global_per_minute=100, global_per_hour=2, prefix=prefix)
    assert await limiter.acquire() == 0.0
    assert await limiter.acquire() == 0.0

    assert 3599 < await limiter.acquire() <= 3600


async def test_fifty_concurrent_acquires_grant_exactly_one(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix=prefix, spacing_margin=0)

    waits = await asyncio.gather(
        *(limiter.acquire(property_id="p1", endpoint="availability") for _ in range(50))
    )

    assert waits.count(0.0) == 1
    assert await redis.zcard(f"{prefix}global:hour") == 1


async def test_limiters_on_separate_connections_share_one_budget(
    redis: Redis, redis_url: str, prefix: str
) -> None:
    other = Redis.from_url(redis_url)
    try:
        first = RedisRateLimiter(redis, prefix=prefix, spacing_margin=0)
        second = RedisRateLimiter(other, prefix=prefix, spacing_margin=0)
        assert await first.acquire(property_id="p1", endpoint="availability") == 0.0
        assert await second.acquire(property_id="p1", endpoint="availability") > 5
    finally:
        await other.aclose()


async def test_every_key_expires_by_itself(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix=prefix, spacing_margin=0)
    await limiter.acquire(property_id="p1", endpoint="availability")
    await limiter.cooldown("p1", 60)

    keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    assert len(keys) == 4  # spacing, cooldown, minute window, hour window
    for key in keys:
        assert 0 < await redis.pttl(key) <= 3_601_000


async def test_one_tenant_takes_only_its_share_of_the_shared_budget(
    redis: Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis, global_per_minute=10, tenant_share=0.5, prefix=prefix)
    busy = [await limiter.acquire(property_id=f"p{n}", tenant="a") for n in range(7)]
    other = RedisRateLimiter(redis, global_per_minute=10, tenant_share=0.5, prefix=prefix)

    assert busy[:5] == [0.0] * 5
    assert all(wait > 0 for wait in busy[5:])
    assert await other.acquire(property_id="q", tenant="b") == 0.0  # another process, tenant b
    grants = [await other.acquire(property_id=f"r{n}", tenant=f"t{n}") for n in range(6)]
    assert grants.count(0.0) == 4  # the account's 10 a minute hold across tenants


async def test_a_batch_is_reserved_whole_or_not_at_all(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, global_per_minute=10, prefix=prefix)
    assert await limiter.acquire() == 0.0

    assert not await limiter.acquire_many(10)  # 1 + 10 > 10: nothing reserved
    assert await limiter.acquire_many(9)
    assert 59 < await limiter.acquire() <= 60  # the ten are all counted, in both windows
    assert await redis.zcard(f"{prefix}global:hour") == 10
