"""A value loaded once per key into a caller's cache (a batch's memo), or each time without one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


async def remembered(cache: dict[K, V] | None, key: K, load: Callable[[], Awaitable[V]]) -> V:
    """`load()`, kept in `cache` under `key` when there is a cache, and read from it after."""
    if cache is None:
        return await load()
    if key not in cache:
        cache[key] = await load()
    return cache[key]
