"""Booking side of a respx Channex for the booking tests: revisions, feed, ack, webhooks.

Routes are registered before the onboarding fake's catch-all (`tests/fake_channex.py`), so one
router serves both. `on_ack` lets a test look at the database at the moment Channex is acked.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from app.settings import ApiKey, Settings
from tests.conftest import FAST_DEBOUNCE_SECONDS, FAST_RATE_LIMIT_PER_MINUTE, GLOBAL_KEY, ORG1_KEY
from tests.fake_channex import API_KEY, BASE_URL, FakeChannex

WEBHOOK_SECRET = "channex-webhook-secret"
PERSONAL_KEY = Fernet.generate_key().decode()
T0 = datetime(2030, 12, 1, 10, 0, tzinfo=UTC)


def booking_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": None,
        "channex_api_url": BASE_URL,
        "channex_api_key": API_KEY,
        "channex_webhook_secret": WEBHOOK_SECRET,
        "personal_data_keys": [SecretStr(PERSONAL_KEY)],
        "sweep_interval_seconds": 3600,
        "channex_rate_limit_per_minute": FAST_RATE_LIMIT_PER_MINUTE,
        "ari_push_debounce_seconds": FAST_DEBOUNCE_SECONDS,
        "api_keys": [
            ApiKey(name="pms", key=GLOBAL_KEY),
            ApiKey(name="org-1", key=ORG1_KEY, organization_id="org-1"),
        ],
    }
    return Settings(_env_file=None, **{**values, **overrides})


def _error(status: int) -> httpx.Response:
    return httpx.Response(status, json={"errors": {"code": "error", "title": f"HTTP {status}"}})


@dataclass
class ChannexBookings:
    """Revisions Channex holds; the feed serves the unacked ones, oldest first."""

    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    acked: list[str] = field(default_factory=list)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: list[tuple[str, str]] = field(default_factory=list)
    fail_acks: int = 0
    refuse_actions: bool = False  # OTA actions answer 422 (Channex refuses them)
    on_ack: Callable[[str], Awaitable[None]] | None = None
    calls: list[httpx.Request] = field(default_factory=list)

    def add(
        self,
        property_id: str,
        *,
        booking_id: str | None = None,
        status: str = "new",
        minutes: int = 0,
        room_type_id: str = "rt-x",
        rate_plan_id: str = "rp-x",
        arrival: str = "2031-01-10",
        departure: str = "2031-01-12",
        guest: str = "Ada",
    ) -> str:
        """Store a revision; returns its id."""
        revision_id = str(uuid.uuid4())
        inserted = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%f")
        self.revisions[revision_id] = {
            "id": revision_id,
            "booking_id": booking_id or str(uuid.uuid4()),
            "property_id": property_id,
            "unique_id": "BDC-1556013801",
            "ota_name": "Booking.com",
            "status": status,
            "arrival_date": arrival,
            "departure_date": departure,
            "amount": "200.00",
            "currency": "EUR",
            "inserted_at": inserted,
            "notes": "late arrival",
            "customer": {"name": guest, "surname": "Lovelace", "mail": "ada@example.com"},
            "rooms": [
                {
                    "room_type_id": room_type_id,
                    "rate_plan_id": rate_plan_id,
                    "checkin_date": arrival,
                    "checkout_date": departure,
                    "guests": [{"name": guest, "surname": "Lovelace"}],
                    "amount": "200.00",
                    "days": {arrival: "100.00"},
                }
            ],
        }
        return revision_id

    def booking_of(self, revision_id: str) -> str:
        return str(self.revisions[revision_id]["booking_id"])

    def _item(self, revision_id: str) -> dict[str, Any]:
        attrs = self.revisions[revision_id]
        return {"type": "booking_revision", "id": revision_id, "attributes": attrs}

    def get(self, request: httpx.Request, revision_id: str) -> httpx.Response:
        self.calls.append(request)
        if revision_id not in self.revisions:
            return _error(404)
        return httpx.Response(200, json={"data": self._item(revision_id)})

    def feed(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        wanted = request.url.params.get("filter[property_id]")
        ids = [
            r
            for r, a in self.revisions.items()
            if r not in self.acked and (wanted is None or a["property_id"] == wanted)
        ]
        ids.sort(key=lambda r: str(self.revisions[r]["inserted_at"]))
        page = int(request.url.params.get("pagination[page]", 1))
        limit = int(request.url.params.get("pagination[limit]", 10))
        chunk = [self._item(r) for r in ids[(page - 1) * limit : page * limit]]
        meta = {"page": page, "limit": limit, "total": len(ids)}
        return httpx.Response(200, json={"data": chunk, "meta": meta})

    async def ack(self, request: httpx.Request, revision_id: str) -> httpx.Response:
        self.calls.append(request)
        if self.on_ack is not None:
            await self.on_ack(revision_id)
        if self.fail_acks > 0:
            self.fail_acks -= 1
            return _error(422)
        if revision_id not in self.revisions:
            return _error(404)
        self.acked.append(revision_id)
        return httpx.Response(200, json={"meta": {"message": "Success"}})

    def webhook_collection(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if request.method == "POST":
            attrs = json.loads(request.content)["webhook"]
            ident = str(uuid.uuid4())
            self.webhooks[ident] = {"id": ident, **attrs}
            item = {"type": "webhook", "id": ident, "attributes": self.webhooks[ident]}
            return httpx.Response(201, json={"data": item})
        items = [{"type": "webhook", "id": i, "attributes": a} for i, a in self.webhooks.items()]
        meta = {"page": 1, "limit": 100, "total": len(items)}
        return httpx.Response(200, json={"data": items, "meta": meta})

    def webhook_item(self, request: httpx.Request, webhook_id: str) -> httpx.Response:
        self.calls.append(request)
        if webhook_id not in self.webhooks:
            return _error(404)
        if request.method == "DELETE":
            del self.webhooks[webhook_id]
            return httpx.Response(200, json={"meta": {"message": "Success"}})
        self.webhooks[webhook_id].update(json.loads(request.content)["webhook"])
        item = {"type": "webhook", "id": webhook_id, "attributes": self.webhooks[webhook_id]}
        return httpx.Response(200, json={"data": item})

    def execute(self, request: httpx.Request, channel_id: str, action: str) -> httpx.Response:
        self.calls.append(request)
        self.actions.append((channel_id, action))
        if self.refuse_actions:
            return _error(422)
        return httpx.Response(200, json={"meta": {"message": "Success"}})

    def register(self, router: respx.MockRouter) -> None:
        base = "^" + re.escape(BASE_URL)
        rid = base + r"/booking_revisions/(?P<revision_id>[^/?]+)"
        router.get(url__regex=base + r"/booking_revisions/feed").mock(side_effect=self.feed)
        router.get(url__regex=rid + r"$").mock(side_effect=self.get)
        router.post(url__regex=rid + r"/ack$").mock(side_effect=self.ack)
        router.route(url__regex=base + r"/webhooks(\?.*)?$").mock(
            side_effect=self.webhook_collection
        )
        router.route(url__regex=base + r"/webhooks/(?P<webhook_id>[^/?]+)$").mock(
            side_effect=self.webhook_item
        )
        channel = base + r"/channels/(?P<channel_id>[^/]+)/execute/(?P<action>\w+)$"
        router.post(url__regex=channel).mock(side_effect=self.execute)


@contextmanager
def booking_channex() -> Iterator[tuple[FakeChannex, ChannexBookings, respx.MockRouter]]:
    """The onboarding fake plus the booking routes on one respx router; tests add the PMS's
    routes to the router (it has no base URL, so any host can be mocked)."""
    fake, bookings = FakeChannex(), ChannexBookings()
    with respx.mock(assert_all_called=False) as router:
        bookings.register(router)
        router.route(url__startswith=BASE_URL).mock(side_effect=fake.handle)
        yield fake, bookings, router


Pair = tuple[FakeChannex, ChannexBookings, respx.MockRouter]


@pytest.fixture
def booking_fake() -> Iterator[Pair]:
    with booking_channex() as pair:
        yield pair


@pytest.fixture
def channex(booking_fake: Pair) -> FakeChannex:
    """Overrides the conftest fixture: the same fake, with the booking routes in front."""
    return booking_fake[0]


@pytest.fixture
def bookings(booking_fake: Pair) -> ChannexBookings:
    return booking_fake[1]


@pytest.fixture
def router(booking_fake: Pair) -> respx.MockRouter:
    return booking_fake[2]


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Overrides the conftest fixture: adds the webhook secret and a personal data key."""
    return booking_settings(database_url)
