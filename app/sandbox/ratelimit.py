"""Channex's ARI rate limit: N writes per minute per property per endpoint (channex-api.md §6.5)."""

from __future__ import annotations

import time
from collections import deque

from app.sandbox.state import SandboxState


def admit(state: SandboxState, endpoint: str, property_ids: set[str]) -> bool:
    """Record one write for each property, or refuse all when any is over its rolling window.

    A refused request is not processed and does not count against the window; its arrival
    is recorded all the same (`GET /sandbox/ari/writes`).
    """
    now = time.monotonic()
    window = state.scaled(60.0)
    for property_id in property_ids:
        state.store.arrivals.setdefault((property_id, endpoint), []).append(now - state.started)
    queues = [state.store.windows.setdefault((p, endpoint), deque()) for p in property_ids]
    for queue in queues:
        while queue and queue[0] <= now - window:
            queue.popleft()
    if any(len(queue) >= state.config.rate_limit_per_minute for queue in queues):
        return False
    for queue in queues:
        queue.append(now)
    return True


def busiest_window(times: list[float], window: float) -> int:
    """The most of `times` (ascending) inside any rolling `window`, as `admit` counts them."""
    busiest, first = 0, 0
    for last, arrival in enumerate(times):
        while arrival - times[first] >= window:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest
