"""A queue's job slots shared between tenants in turn (the in-process queue's, app/jobs/queue.py).

A plain semaphore hands a freed slot to whoever waited longest: 500 pushes that organization A
asked for first all run before organization B's one, however few slots there are. Here a freed
slot goes to the waiting tenant that holds the fewest (ties in turn, the one served last going
to the back), first come first served within a tenant: B's job takes the first slot freed
while A holds several.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class FairSlots:
    """`limit` slots; when all are taken, tenants take turns for the next free one."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        # Tenants in turn order: the one served moves to the back (dicts keep insertion order).
        self._waiting: dict[Hashable, deque[asyncio.Future[None]]] = {}
        self._held: Counter[Hashable] = Counter()

    @asynccontextmanager
    async def slot(self, tenant: Hashable) -> AsyncIterator[None]:
        """Hold one slot for the block, waiting for `tenant`'s turn if none is free."""
        await self._acquire(tenant)
        try:
            yield
        finally:
            self._release(tenant)

    def waiting(self) -> int:
        return sum(len(waiters) for waiters in self._waiting.values())

    async def _acquire(self, tenant: Hashable) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            self._held[tenant] += 1
            return
        granted = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(tenant, deque()).append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release(tenant)  # handed a slot as it was cancelled: pass it on
            else:
                self._forget(tenant, granted)
            raise

    def _release(self, holder: Hashable) -> None:
        """The freed slot goes to the first waiter of the waiting tenant holding the fewest."""
        self._held[holder] -= 1
        if not self._held[holder]:
            del self._held[holder]
        while self._waiting:
            tenant = min(self._waiting, key=self._held.__getitem__)  # the first of equals
            waiters = self._waiting.pop(tenant)
            granted = waiters.popleft()
            if waiters:
                self._waiting[tenant] = waiters  # to the back of the turn order
            if not granted.done():
                granted.set_result(None)
                self._held[tenant] += 1
                return
        self._free += 1

    def _forget(self, tenant: Hashable, granted: asyncio.Future[None]) -> None:
        waiters = self._waiting.get(tenant)
        if waiters is None:
            return
        waiters.remove(granted)
        if not waiters:
            del self._waiting[tenant]
