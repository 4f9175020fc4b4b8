"""channel-sync's Channex webhook: created once, active, sending data, with the secret header;
repaired when changed; never a second one (channex-api.md §8.1, §8.4)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from app.channex.client import ChannexClient
from app.channex.ratelimit import MemoryRateLimiter
from app.services.webhook_registration import ensure_webhook
from app.settings import Settings
from tests.booking_fakes import WEBHOOK_SECRET, ChannexBookings, booking_channex, booking_settings
from tests.fake_channex import API_KEY, BASE_URL


@pytest.fixture
def fake() -> Iterator[ChannexBookings]:
    with booking_channex() as (_, bookings, _):
        yield bookings


@pytest.fixture
async def client() -> AsyncIterator[ChannexClient]:
    async with ChannexClient(
        base_url=BASE_URL, api_key=API_KEY, limiter=MemoryRateLimiter()
    ) as client:
        yield client


@pytest.fixture
def config() -> Settings:
    return booking_settings("sqlite+aiosqlite://", public_base_url="https://sync.example.com/")


async def test_webhook_is_created_once_active_with_data_and_secret_header(
    fake: ChannexBookings, client: ChannexClient, config: Settings
) -> None:
    assert await ensure_webhook(client, config) == "created"
    assert await ensure_webhook(client, config) == "unchanged"

    (hook,) = fake.webhooks.values()
    assert hook["callback_url"] == "https://sync.example.com/v1/webhooks/channex"
    assert (hook["is_active"], hook["send_data"], hook["is_global"]) == (True, True, True)
    assert hook["headers"] == {"X-Channex-Webhook-Secret": WEBHOOK_SECRET}
    events = hook["event_mask"].split(";")
    assert {"booking", "non_acked_booking", "activate_channel"} <= set(events)
    assert not any("." in e for e in events)  # no invented dotted names (§8.2)


async def test_a_changed_or_duplicated_webhook_is_repaired(
    fake: ChannexBookings, client: ChannexClient, config: Settings
) -> None:
    await ensure_webhook(client, config)
    (hook_id,) = fake.webhooks
    fake.webhooks[hook_id].update(is_active=False, event_mask="booking")
    fake.webhooks["dup"] = {**fake.webhooks[hook_id], "id": "dup"}

    assert await ensure_webhook(client, config) == "updated"

    assert list(fake.webhooks) == [hook_id]
    assert fake.webhooks[hook_id]["is_active"] is True
    assert "non_acked_booking" in fake.webhooks[hook_id]["event_mask"]


async def test_nothing_is_registered_without_a_public_url(
    fake: ChannexBookings, client: ChannexClient
) -> None:
    config = booking_settings("sqlite+aiosqlite://")
    assert await ensure_webhook(client, config) == "skipped"
    assert fake.calls == []
