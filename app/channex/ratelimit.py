"""Channex rate limiters: strict per-property ARI spacing, 429 cooldowns and a global ceiling.

Channex allows 10 availability and 10 restrictions requests per minute per property
(channex-api.md §6.5). Spacing is strict — one request per (property, endpoint) every
60/limit seconds and a safety margin, with no burst — because any burst allowance, or
jitter on the way, can put more than the limit into a rolling minute. Every request also
counts against account-wide sliding windows, and a request that names its tenant (our
organization) against that tenant's own windows, a `tenant_share` of the account's: one
organization's full syncs can never take the whole account's budget, so another's single
change still goes out within seconds.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from redis.asyncio import Redis

MINUTE = 60.0
HOUR = 3600.0
# Spacing is 60/limit seconds stretched by this much: requests spaced exactly 6.00 s arrive
# at Channex up to a network jitter closer, and eleven of them can then fall within one
# rolling minute (a 429). 5 % keeps ten arrivals per minute with up to 1.5 s of jitter.
DEFAULT_SPACING_MARGIN = 0.05


class RateLimiter(Protocol):
    """A budget shared by every caller of the Channex API."""

    async def acquire(
        self,
        *,
        property_id: str | None = None,
        endpoint: str | None = None,
        tenant: str | None = None,
    ) -> float:
        """Reserve one request now and return 0.0, or reserve nothing and return the wait."""
        ...

    async def acquire_many(self, count: int) -> bool:
        """Reserve `count` account-wide requests (no property, no tenant) at once if the
        budget has room for all of them now; else reserve nothing and return False."""
        ...

    async def cooldown(self, property_id: str, seconds: float) -> None:
        """Block all of the property's ARI requests for `seconds` (after a real 429)."""
        ...


def spacing(per_minute: int, margin: float) -> float:
    """Seconds between two requests of one property and endpoint."""
    return MINUTE / per_minute * (1 + margin)


def tenant_limit(account_limit: int, share: float) -> int:
    """One tenant's part of an account-wide limit: at least one request."""
    return max(1, math.floor(account_limit * share))


class MemoryRateLimiter:
    """Single-process limiter for the embedded default; state lives in this object."""

    def __init__(
        self,
        per_property_per_minute: int = 10,
        global_per_minute: int = 600,
        global_per_hour: int = 18_000,
        clock: Callable[[], float] = time.monotonic,
        tenant_share: float = 1.0,
        spacing_margin: float = DEFAULT_SPACING_MARGIN,
    ) -> None:
        self.spacing_seconds = spacing(per_property_per_minute, spacing_margin)
        self._windows = (
            (MINUTE, global_per_minute, deque[float]()),
            (HOUR, global_per_hour, deque[float]()),
        )
        self._tenant_limits = (
            tenant_limit(global_per_minute, tenant_share),
            tenant_limit(global_per_hour, tenant_share),
        )
        self._tenant_windows: dict[str, tuple[Window, Window]] = {}
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last_grant: dict[tuple[str, str], float] = {}
        self._cooldown_until: dict[str, float] = {}

    async def acquire(
        self,
        *,
        property_id: str | None = None,
        endpoint: str | None = None,
        tenant: str | None = None,
    ) -> float:
        """Reserve one request now and return 0.0, or reserve nothing and return the wait."""
        async with self._lock:
            now = self._clock()
            windows = self._windows_of(tenant)
            wait = max(self._property_wait(now, property_id, endpoint), _wait(now, windows))
            if wait > 0:
                return wait
            for _, _, log in windows:
                log.append(now)
            if property_id is not None and endpoint is not None:
                self._last_grant[(property_id, endpoint)] = now
            return 0.0

    async def acquire_many(self, count: int) -> bool:
        """Reserve `count` account-wide requests at once, or none (False) when they do not
        all fit in the windows now."""
        async with self._lock:
            now = self._clock()
            _wait(now, self._windows)  # drops the grants that fell out of each window
            if any(len(log) + count > limit for _, limit, log in self._windows):
                return False
            for _, _, log in self._windows:
                log.extend([now] * count)
            return True

    async def cooldown(self, property_id: str, seconds: float) -> None:
        """Block the property for `seconds`; never shortens a longer cooldown already running."""
        async with self._lock:
            until = self._clock() + seconds
            self._cooldown_until[property_id] = max(
                until, self._cooldown_until.get(property_id, 0.0)
            )

    def _property_wait(self, now: float, property_id: str | None, endpoint: str | None) -> float:
        if property_id is None:
            return 0.0
        wait = self._cooldown_until.get(property_id, now) - now
        if endpoint is not None:
            last = self._last_grant.get((property_id, endpoint))
            if last is not None:
                wait = max(wait, last + self.spacing_seconds - now)
        return max(wait, 0.0)

    def _windows_of(self, tenant: str | None) -> tuple[Window, ...]:
        """The account's windows, and the tenant's own when the request names one."""
        if tenant is None:
            return self._windows
        own = self._tenant_windows.get(tenant)
        if own is None:
            per_minute, per_hour = self._tenant_limits
            own = self._tenant_windows[tenant] = (
                (MINUTE, per_minute, deque[float]()),
                (HOUR, per_hour, deque[float]()),
            )
        return (*self._windows, *own)


Window = tuple[float, int, deque[float]]  # width in seconds, limit, grant times


def _wait(now: float, windows: Iterable[Window]) -> float:
    """Sliding windows over (now - width, now]; the wait lets the blocking entry fall out."""
    wait = 0.0
    for width, limit, log in windows:
        while log and log[0] <= now - width:
            log.popleft()
        if len(log) >= limit:
            wait = max(wait, log[len(log) - limit] + width - now)
    return wait


# All checks and the reservation in one script, so concurrent callers on any host cannot both
# pass a check; time comes from Redis (`TIME`) so skewed host clocks share one budget.
# Spacing and cooldown are keys whose TTL is the remaining wait; the windows are sorted sets of
# grant times in integer milliseconds (Lua turns numbers into strings with 14 significant
# digits, too few for microseconds since the epoch). Every key expires by itself when idle.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local spacing_ms = tonumber(ARGV[1])
local wait = 0
if ARGV[2] == '1' then
  wait = math.max(wait, redis.call('PTTL', KEYS[1]))
end
if spacing_ms > 0 then
  wait = math.max(wait, redis.call('PTTL', KEYS[2]))
end
local windows = {{KEYS[3], 60000, tonumber(ARGV[3])}, {KEYS[4], 3600000, tonumber(ARGV[4])}}
if ARGV[6] == '1' then
  table.insert(windows, {KEYS[5], 60000, tonumber(ARGV[7])})
  table.insert(windows, {KEYS[6], 3600000, tonumber(ARGV[8])})
end
for _, w in ipairs(windows) do
  redis.call('ZREMRANGEBYSCORE', w[1], '-inf', now - w[2])
  local n = redis.call('ZCARD', w[1])
  if n >= w[3] then
    local blocking = redis.call('ZRANGE', w[1], n - w[3], n - w[3], 'WITHSCORES')
    wait = math.max(wait, tonumber(blocking[2]) + w[2] - now)
  end
end
if wait > 0 then return wait end
for _, w in ipairs(windows) do
  redis.call('ZADD', w[1], now, ARGV[5])
  redis.call('PEXPIRE', w[1], w[2] + 1000)
end
if spacing_ms > 0 then redis.call('SET', KEYS[2], '1', 'PX', spacing_ms) end
return 0
"""

# `count` account-wide grants in one round trip (a batch of booking calls), all or none.
_ACQUIRE_MANY_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[1])
local windows = {{KEYS[1], 60000, tonumber(ARGV[2])}, {KEYS[2], 3600000, tonumber(ARGV[3])}}
for _, w in ipairs(windows) do
  redis.call('ZREMRANGEBYSCORE', w[1], '-inf', now - w[2])
  if redis.call('ZCARD', w[1]) + count > w[3] then return 0 end
end
for _, w in ipairs(windows) do
  for i = 1, count do redis.call('ZADD', w[1], now, ARGV[4] .. ':' .. i) end
  redis.call('PEXPIRE', w[1], w[2] + 1000)
end
return 1
"""

_COOLDOWN_LUA = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 0
"""


class RedisRateLimiter:
    """Limiter shared by every process and host through one Redis."""

    def __init__(
        self,
        redis: Redis,
        per_property_per_minute: int = 10,
        global_per_minute: int = 600,
        global_per_hour: int = 18_000,
        prefix: str = "channel-sync:rl:",
        tenant_share: float = 1.0,
        spacing_margin: float = DEFAULT_SPACING_MARGIN,
    ) -> None:
        self.spacing_seconds = spacing(per_property_per_minute, spacing_margin)
        self._global_per_minute = global_per_minute
        self._global_per_hour = global_per_hour
        self._tenant_per_minute = tenant_limit(global_per_minute, tenant_share)
        self._tenant_per_hour = tenant_limit(global_per_hour, tenant_share)
        self._prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE_LUA)
        self._acquire_many = redis.register_script(_ACQUIRE_MANY_LUA)
        self._cooldown = redis.register_script(_COOLDOWN_LUA)

    async def acquire(
        self,
        *,
        property_id: str | None = None,
        endpoint: str | None = None,
        tenant: str | None = None,
    ) -> float:
        """Reserve one request now and return 0.0, or reserve nothing and return the wait."""
        spaced = property_id is not None and endpoint is not None
        keys = [
            self._cooldown_key(property_id or ""),
            f"{self._prefix}spacing:{property_id}:{endpoint}",
            f"{self._prefix}global:minute",
            f"{self._prefix}global:hour",
            f"{self._prefix}tenant:{tenant}:minute",
            f"{self._prefix}tenant:{tenant}:hour",
        ]
        args: list[str | int] = [
            max(1, round(self.spacing_seconds * 1000)) if spaced else 0,
            "1" if property_id is not None else "0",
            self._global_per_minute,
            self._global_per_hour,
            uuid.uuid4().hex,  # a unique member, so two grants in one microsecond both count
            "1" if tenant is not None else "0",
            self._tenant_per_minute,
            self._tenant_per_hour,
        ]
        wait_ms = await self._acquire(keys=keys, args=args)
        return int(wait_ms) / 1000

    async def acquire_many(self, count: int) -> bool:
        """Reserve `count` account-wide requests in one round trip, or none (False) when they
        do not all fit in the windows now."""
        keys = [f"{self._prefix}global:minute", f"{self._prefix}global:hour"]
        args: list[str | int] = [
            count,
            self._global_per_minute,
            self._global_per_hour,
            uuid.uuid4().hex,
        ]
        return int(await self._acquire_many(keys=keys, args=args)) == 1

    async def cooldown(self, property_id: str, seconds: float) -> None:
        """Block the property for `seconds`; never shortens a longer cooldown already running."""
        ms = max(1, round(seconds * 1000))
        await self._cooldown(keys=[self._cooldown_key(property_id)], args=[ms])

    def _cooldown_key(self, property_id: str) -> str:
        return f"{self._prefix}cooldown:{property_id}"
