"""The in-memory store of one sandbox: entities, ARI, bookings, counters and owned tasks."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from app.http_pool import cheap_check_transport
from app.sandbox.config import SandboxConfig
from app.sandbox.faults import FaultState

# Channex's day rolls at 02:00 property time (channex-api.md §3, §6.5).
DAY_ROLL = timedelta(hours=2)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Group:
    id: str
    title: str


@dataclass
class Property:
    id: str
    attrs: dict[str, Any]
    group_ids: list[str]


@dataclass
class RoomType:
    id: str
    property_id: str
    attrs: dict[str, Any]


@dataclass
class RatePlan:
    id: str
    property_id: str
    room_type_id: str
    attrs: dict[str, Any]


@dataclass
class Channel:
    id: str
    group_id: str
    property_ids: list[str]
    attrs: dict[str, Any]


@dataclass
class OneTimeToken:
    """A token that opens the channel iframe for one property, once (channex-api.md §9.4)."""

    property_id: str
    username: str
    expires_at: datetime
    used: bool = False


@dataclass
class IframeSession:
    """A hotel's browser session in the channel iframe, after its token was exchanged."""

    property_id: str
    # Adapter codes (BookingCom, ...) the PMS let the hotel pick from.
    offered: list[str]
    language: str
    read_only_availability: bool


@dataclass
class Webhook:
    id: str
    attrs: dict[str, Any]


@dataclass
class Revision:
    id: str
    booking_id: str
    property_id: str
    attrs: dict[str, Any]
    inserted_at: datetime
    acked: bool = False


@dataclass
class Booking:
    id: str
    property_id: str
    channel_id: str | None
    revision_ids: list[str] = field(default_factory=list)
    # The simulator's request, so that a modification starts from the current booking.
    source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """One webhook POST to make: a snapshot of the webhook at the time of the event."""

    webhook_id: str
    event: str
    url: str
    headers: dict[str, str]
    params: dict[str, str]
    body: dict[str, Any]


@dataclass
class Counter:
    """Requests and ARI values seen by one endpoint."""

    requests: int = 0
    values: int = 0
    rejected_values: int = 0
    rate_limited: int = 0


class Store:
    """Everything a reset wipes."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.properties: dict[str, Property] = {}
        self.room_types: dict[str, RoomType] = {}
        self.rate_plans: dict[str, RatePlan] = {}
        self.channels: dict[str, Channel] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.bookings: dict[str, Booking] = {}
        self.revisions: dict[str, Revision] = {}
        # room_type_id → date → count; rate_plan_id → date → restriction → value.
        self.availability: dict[str, dict[date, int]] = {}
        self.restrictions: dict[str, dict[date, dict[str, Any]]] = {}
        self.counters: dict[str, Counter] = {}
        # (property_id, endpoint) → monotonic times of accepted writes in the window.
        self.windows: dict[tuple[str, str], deque[float]] = {}
        # (property_id, endpoint) → seconds since the sandbox started of every write, refused
        # ones too: how a test sees whether a client ever went over the limit.
        self.arrivals: dict[tuple[str, str], list[float]] = {}
        self.deliveries: list[dict[str, Any]] = []
        # A delivery held back by the reorder fault until the next one overtakes it.
        self.held: Delivery | None = None
        # OTA reservations made before the channel was connected, per channel id; sent by the
        # `load_future_reservations` action (channex-api.md §7.3).
        self.future_reservations: dict[str, list[dict[str, Any]]] = {}
        # One-time tokens by token, iframe sessions by session id (app/sandbox/iframe.py).
        self.one_time_tokens: dict[str, OneTimeToken] = {}
        self.iframe_sessions: dict[str, IframeSession] = {}


class SandboxState:
    """One sandbox: config, store, faults, and the background tasks it owns."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.started = time.monotonic()
        self.user_id = new_id()
        self.store = Store()
        self.faults = FaultState(config.seed)
        self.rng = random.Random(config.seed)
        self.lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        # Bounds webhook POSTs in flight: hundreds queued inside one httpx pool make its
        # request-to-connection assignment quadratic (seen: most of an e2e run's CPU).
        self.webhook_slots = asyncio.Semaphore(config.webhook_concurrency)
        # The wall clock (aware, UTC); a test may replace it to stand near a property's midnight.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def scaled(self, seconds: float) -> float:
        """Real seconds for a span of Channex time."""
        return seconds * self.config.time_scale

    def today(self, property_id: str | None = None) -> date:
        """Channex's "today" for a property: its local date, rolling at 02:00 local time
        (channex-api.md §3, §6.5); the UTC date when no property (or no valid timezone) is given."""
        now = self.clock()
        prop = self.store.properties.get(property_id) if property_id is not None else None
        if prop is None:
            return now.date()
        try:
            zone = ZoneInfo(str(prop.attrs.get("timezone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return (now.astimezone(zone) - DAY_ROLL).date()

    def counter(self, endpoint: str) -> Counter:
        return self.store.counters.setdefault(endpoint, Counter())

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run background work owned by this sandbox (cancelled by `aclose`)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def http(self) -> httpx.AsyncClient:
        """The one client used for webhook POSTs, created on first use."""
        if self._http is None:
            limits = httpx.Limits(max_connections=self.config.webhook_concurrency)
            # A transport given to the client replaces its own, so the limits go to it.
            self._http = httpx.AsyncClient(
                timeout=self.config.webhook_timeout_seconds,
                transport=cheap_check_transport(limits=limits),
            )
        return self._http

    async def cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def reset(self) -> None:
        """Forget everything: entities, ARI, bookings, counters, faults, pending deliveries."""
        await self.cancel_tasks()
        self.store = Store()
        self.faults = FaultState(self.config.seed)
        self.rng = random.Random(self.config.seed)

    async def aclose(self) -> None:
        """Stop background work and close the HTTP client."""
        await self.cancel_tasks()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
