"""Test doubles and constants for the Channex client tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BASE_URL = "https://channex.test/api/v1"
API_KEY = "test-key-not-secret"
PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict[str, Any]:
    """A Channex response example from tests/channex/payloads."""
    body: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return body


class ScriptedLimiter:
    """A RateLimiter double: answers queued waits (then 0.0) and records every call."""

    def __init__(self, *waits: float) -> None:
        self.waits = list(waits)
        self.acquires: list[tuple[str | None, str | None]] = []
        self.tenants: list[str | None] = []
        self.cooldowns: list[tuple[str, float]] = []
        self.batches: list[int] = []  # acquire_many's counts, each granted

    async def acquire(
        self,
        *,
        property_id: str | None = None,
        endpoint: str | None = None,
        tenant: str | None = None,
    ) -> float:
        self.acquires.append((property_id, endpoint))
        self.tenants.append(tenant)
        return self.waits.pop(0) if self.waits else 0.0

    async def acquire_many(self, count: int) -> bool:
        self.batches.append(count)
        return True

    async def cooldown(self, property_id: str, seconds: float) -> None:
        self.cooldowns.append((property_id, seconds))


class RecordedSleeps:
    """An injectable `sleep` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class FakeClock:
    """A monotonic clock moved by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
