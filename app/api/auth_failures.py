"""Failed authentications per client address: past a limit within a minute, the address is
answered 429 until the minute has passed, so keys and the webhook secret cannot be guessed at
the speed of the server.

Per process: each API replica counts its own (an attacker spread over replicas gets the limit
once per replica, still far from guessing speed). Memory is bounded by MAX_ADDRESSES; past it
the address that failed least recently is forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 10_000


class AuthFailures:
    def __init__(
        self,
        limit: int,
        *,
        window_seconds: float = WINDOW_SECONDS,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window = window_seconds
        self._max_addresses = max_addresses
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, address: str) -> float | None:
        """Seconds until `address` may try again, or None when it may now."""
        times = self._recent(address)
        if times is None or len(times) < self._limit:
            return None
        return max(0.0, times[0] + self._window - self._clock())

    def failed(self, address: str) -> None:
        times = self._recent(address)
        if times is None:
            times = self._failures[address] = deque(maxlen=self._limit)
            while len(self._failures) > self._max_addresses:
                self._failures.popitem(last=False)
        times.append(self._clock())
        self._failures.move_to_end(address)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float] | None:
        """The address's failures within the window (older ones dropped), if any."""
        times = self._failures.get(address)
        if times is None:
            return None
        horizon = self._clock() - self._window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[address]
            return None
        return times
