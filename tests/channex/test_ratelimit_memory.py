"""MemoryRateLimiter: strict ARI spacing, cooldowns and global windows, on a fake clock."""

from __future__ import annotations

import asyncio
import bisect
import random

import pytest

from app.channex.ratelimit import MINUTE, MemoryRateLimiter
from tests.channex.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> MemoryRateLimiter:
    """Spaced exactly 6 s (no margin), so the arithmetic below reads plainly."""
    return MemoryRateLimiter(clock=clock, spacing_margin=0)


async def test_second_request_within_six_seconds_waits_the_rest(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0
    clock.advance(1)
    assert await limiter.acquire(property_id="p1", endpoint="availability") == pytest.approx(5.0)
    clock.advance(5)
    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0


async def test_spacing_is_per_property_and_per_endpoint(limiter: MemoryRateLimiter) -> None:
    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0
    assert await limiter.acquire(property_id="p1", endpoint="restrictions") == 0.0
    assert await limiter.acquire(property_id="p2", endpoint="availability") == 0.0
    assert await limiter.acquire(property_id="p1", endpoint="availability") > 0


async def test_a_refused_acquire_reserves_nothing(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await limiter.acquire(property_id="p1", endpoint="availability")
    clock.advance(3)
    for _ in range(5):
        assert await limiter.acquire(property_id="p1", endpoint="availability") == pytest.approx(3)
    clock.advance(3)
    # The refusals did not push the next slot further out.
    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0


async def test_never_more_than_ten_per_rolling_minute_over_an_hour(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    start, rng, grants = clock.now, random.Random(7), list[float]()
    while clock.now < start + 3600:
        if await limiter.acquire(property_id="p1", endpoint="restrictions") == 0.0:
            grants.append(clock.now)
        clock.advance(rng.uniform(0.01, 2.0))

    for granted_at in grants:
        in_window = [t for t in grants if granted_at - 60 < t <= granted_at]
        assert len(in_window) <= 10
    assert len(grants) > 500  # the limiter is strict, not starving


async def test_cooldown_blocks_every_endpoint_of_that_property_only(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await limiter.cooldown("p1", 60)

    assert await limiter.acquire(property_id="p1", endpoint="availability") == pytest.approx(60)
    assert await limiter.acquire(property_id="p1", endpoint="restrictions") == pytest.approx(60)
    assert await limiter.acquire(property_id="p2", endpoint="availability") == 0.0
    clock.advance(60)
    assert await limiter.acquire(property_id="p1", endpoint="availability") == 0.0


async def test_a_shorter_cooldown_never_shortens_a_running_one(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await limiter.cooldown("p1", 60)
    clock.advance(10)
    await limiter.cooldown("p1", 5)

    assert await limiter.acquire(property_id="p1", endpoint="availability") == pytest.approx(50)


async def test_global_minute_ceiling_is_a_sliding_window(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter(global_per_minute=3, clock=clock)
    for _ in range(3):
        assert await limiter.acquire() == 0.0
        clock.advance(10)

    assert await limiter.acquire() == pytest.approx(30)  # first grant leaves the window at +60
    assert await limiter.acquire(property_id="p9", endpoint="availability") == pytest.approx(30)
    clock.advance(30)
    assert await limiter.acquire() == 0.0
    assert await limiter.acquire() == pytest.approx(10)


async def test_global_hour_ceiling(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter(global_per_minute=100, global_per_hour=2, clock=clock)
    assert await limiter.acquire() == 0.0
    clock.advance(100)
    assert await limiter.acquire() == 0.0

    assert await limiter.acquire() == pytest.approx(3500)
    clock.advance(3500)
    assert await limiter.acquire() == 0.0


async def test_concurrent_acquires_grant_exactly_one(limiter: MemoryRateLimiter) -> None:
    waits = await asyncio.gather(
        *(limiter.acquire(property_id="p1", endpoint="availability") for _ in range(50))
    )

    assert waits.count(0.0) == 1


def test_spacing_follows_the_per_minute_limit_and_its_margin() -> None:
    assert MemoryRateLimiter(spacing_margin=0).spacing_seconds == 6.0
    assert MemoryRateLimiter(per_property_per_minute=5, spacing_margin=0).spacing_seconds == 12.0
    assert MemoryRateLimiter().spacing_seconds == pytest.approx(6.3)  # 5 % by default


async def test_the_margin_keeps_ten_arrivals_a_minute_under_jitter(clock: FakeClock) -> None:
    """Requests sent as soon as the limiter allows, each arriving 0 to 400 ms late (±200 ms
    around a mean): with the default margin, no rolling minute ever holds eleven arrivals;
    spaced exactly 6 s, some do."""
    rng = random.Random(7)

    async def most_in_a_minute(limiter: MemoryRateLimiter) -> int:
        arrivals = []
        for _ in range(200):
            wait = await limiter.acquire(property_id="p1", endpoint="availability")
            clock.advance(wait)
            if wait == 0.0:
                arrivals.append(clock() + rng.uniform(0, 0.4))
        arrivals.sort()
        return max(bisect.bisect_left(arrivals, t + 60) - i for i, t in enumerate(arrivals))

    assert await most_in_a_minute(MemoryRateLimiter(clock=clock)) <= 10
    assert await most_in_a_minute(MemoryRateLimiter(clock=clock, spacing_margin=0)) > 10


async def test_one_tenant_takes_only_its_share_and_another_still_gets_a_slot(
    clock: FakeClock,
) -> None:
    limiter = MemoryRateLimiter(global_per_minute=10, tenant_share=0.5, clock=clock)
    busy = [await limiter.acquire(property_id=f"p{n}", tenant="a") for n in range(7)]

    assert busy[:5] == [0.0] * 5  # its half of the account's 10 a minute
    assert all(wait > 0 for wait in busy[5:])  # then it waits
    assert await limiter.acquire(property_id="q", tenant="b") == 0.0  # b is not behind a
    clock.now += MINUTE
    assert await limiter.acquire(property_id="p9", tenant="a") == 0.0


async def test_the_account_ceiling_still_holds_across_tenants(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter(global_per_minute=10, tenant_share=0.5, clock=clock)
    grants = [await limiter.acquire(property_id=f"p{n}", tenant=f"t{n % 4}") for n in range(12)]
    assert grants.count(0.0) == 10


async def test_a_batch_is_reserved_whole_or_not_at_all(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter(global_per_minute=10, clock=clock)
    assert await limiter.acquire() == 0.0

    assert not await limiter.acquire_many(10)  # 1 + 10 > 10: nothing reserved
    assert await limiter.acquire_many(9)
    assert await limiter.acquire() == pytest.approx(60)  # the ten are all counted
    clock.advance(60)
    assert await limiter.acquire_many(10)
