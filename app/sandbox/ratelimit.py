"""Channex's ARI rate limit: N writes per minute per property per endpoint (channex-api.md §6.5)."""

from __future__ import annotations

import time
from collections import deque

from app.sandbox.state import SandboxState


def admit(state: SandboxState, endpoint: str, property_ids: set[str]) -> bool:
    """Record one write for each property, or refuse all when any is over its rolling window.

    A refused request is not processed and does not count against the window.
    """
    now = time.monotonic()
    window = state.scaled(60.0)
    queues = [state.store.windows.setdefault((p, endpoint), deque()) for p in property_ids]
    for queue in queues:
        while queue and queue[0] <= now - window:
            queue.popleft()
    if any(len(queue) >= state.config.rate_limit_per_minute for queue in queues):
        return False
    for queue in queues:
        queue.append(now)
    return True
