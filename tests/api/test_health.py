"""Liveness and readiness."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.errors import ChannexAuthError
from app.channex.ratelimit import MemoryRateLimiter
from app.db import utcnow
from app.main import create_app
from app.models import Booking, BookingDelivery, BookingRevision, PmsEndpoint
from app.models.bookings import WebhookEvent
from app.services.webhook_registration import check_webhook
from app.settings import ApiKey, Settings
from tests.api.test_webhooks import resources, settle
from tests.booking_fakes import booking_channex, booking_settings

# Long and random enough for production's secret policy.
STRONG = "s3cr3t-" + "x7Qp2Lm9" * 5
# A Channex that refuses the key: the webhook check fails.
REFUSING = "https://refusing.channex.test/api/v1"


async def test_ready_reports_each_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert set(body["checks"]) == {"database", "channex_config"}
    assert body["checks"]["database"]["ok"] is True


async def test_ready_is_503_when_channex_key_is_missing(settings: Settings) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"channex_api_key": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health/ready")
    assert response.status_code == 503
    check = response.json()["checks"]["channex_config"]
    assert check == {"ok": False, "detail": "CHANNEX_API_KEY is not set"}


async def test_ready_checks_redis_when_configured(settings: Settings, redis_url: str) -> None:
    app = create_app(settings.model_copy(update={"redis_url": redis_url}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.get("/health/ready")).json()
    assert body["checks"]["redis"] == {"ok": True, "detail": None}


async def test_ready_fails_when_redis_is_unreachable(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False


async def ready_body(app: FastAPI) -> tuple[int, dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/health/ready")
    body: dict[str, Any] = response.json()
    return response.status_code, body


def codes(body: dict[str, Any]) -> list[str]:
    return [warning["code"] for warning in body["warnings"]]


async def test_an_unregistrable_webhook_is_a_warning_not_a_failure(app: FastAPI) -> None:
    # The suite's settings: no PUBLIC_BASE_URL, no CHANNEX_WEBHOOK_SECRET.
    status, body = await ready_body(app)

    assert (status, body["ready"]) == (200, True)
    [warning] = body["warnings"]
    assert warning["code"] == "webhook_not_registered"
    assert warning["detail"].startswith(
        "PUBLIC_BASE_URL and CHANNEX_WEBHOOK_SECRET are not set: no Channex webhook"
    )


async def test_a_missing_secret_alone_is_named(settings: Settings) -> None:
    configured = settings.model_copy(update={"public_base_url": "https://sync.example.com"})
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        _, body = await ready_body(app)

    [warning] = body["warnings"]
    assert warning["detail"].startswith("CHANNEX_WEBHOOK_SECRET is not set:")


async def test_production_without_channex_user_id_warns_and_stays_ready(
    database_url: str,
) -> None:
    production = booking_settings(
        database_url,
        environment="production",
        public_base_url="https://sync.example.com",
        channex_webhook_secret=SecretStr(STRONG),
        api_keys=[ApiKey(name="pms", key=SecretStr(STRONG))],
    )
    with booking_channex():
        app = create_app(production)
        async with app.router.lifespan_context(app):
            status, body = await ready_body(app)
        named = create_app(production.model_copy(update={"channex_user_id": "our-user"}))
        async with named.router.lifespan_context(named):
            _, with_user = await ready_body(named)

    assert (status, body["ready"]) == (200, True)
    assert codes(body) == ["channex_user_id_missing"]
    assert "CHANNEX_USER_ID is not set" in body["warnings"][0]["detail"]
    assert with_user["warnings"] == []


async def test_development_does_not_ask_for_channex_user_id(database_url: str) -> None:
    configured = booking_settings(database_url, public_base_url="https://sync.example.com")
    with booking_channex():
        app = create_app(configured)
        async with app.router.lifespan_context(app):
            _, body = await ready_body(app)

    assert body["warnings"] == []


async def test_a_failed_webhook_check_is_reported_by_every_replica_until_one_succeeds(
    database_url: str,
) -> None:
    configured = booking_settings(database_url, public_base_url="https://sync.example.com")
    with booking_channex() as (_, bookings, router):
        router.get(f"{REFUSING}/webhooks").mock(return_value=httpx.Response(401, json={}))
        app, replica = create_app(configured), create_app(configured)
        async with app.router.lifespan_context(app), replica.router.lifespan_context(replica):
            await settle(app)  # the start-up sweep's webhook check: created, no failure
            _, before = await ready_body(app)
            async with ChannexClient(
                base_url=REFUSING, api_key="k", limiter=MemoryRateLimiter(), max_attempts=1
            ) as refusing:
                with pytest.raises(ChannexAuthError):
                    await check_webhook(
                        resources(app).session_factory, configured, refusing, force=True
                    )
            status, failed = await ready_body(app)
            _, other = await ready_body(replica)
            channex = resources(app).channex
            assert channex is not None
            assert (
                await check_webhook(resources(app).session_factory, configured, channex, force=True)
                == "unchanged"
            )
            _, after = await ready_body(replica)

    assert len(bookings.webhooks) == 1
    assert before["warnings"] == []
    assert (status, failed["ready"]) == (200, True)
    [warning] = failed["warnings"]
    assert warning["code"] == "webhook_not_registered"
    assert warning["detail"].startswith("the last check of the Channex webhook failed at 20")
    assert other["warnings"] == failed["warnings"]  # from the database, not the process
    assert after["warnings"] == []


async def test_the_backlog_is_reported_and_never_fails_readiness(app: FastAPI) -> None:
    await settle(app)  # the start-up sweep is done; the next one is an hour away
    now = utcnow()
    async with resources(app).session_factory() as session:
        await add_backlog(session, now)
        await session.commit()

    status, body = await ready_body(app)

    assert (status, body["ready"]) == (200, True)
    backlog = body["backlog"]
    assert backlog["webhook_events_pending"] == 2
    assert backlog["oldest_pending_webhook_event_age_seconds"] >= 20
    assert datetime.fromisoformat(backlog["oldest_pending_webhook_event_at"]) == now - timedelta(
        seconds=20
    )
    assert (backlog["deliveries_pending"], backlog["deliveries_failed"]) == (2, 1)
    oldest = datetime.fromisoformat(backlog["oldest_undelivered_revision_at"])
    assert oldest == now - timedelta(hours=2)  # the failed one's revision (3 h) is not waiting
    assert backlog["oldest_undelivered_revision_age_seconds"] >= 7200


async def test_an_empty_backlog_has_no_ages(app: FastAPI) -> None:
    _, body = await ready_body(app)

    assert body["backlog"] == {
        "webhook_events_pending": 0,
        "oldest_pending_webhook_event_at": None,
        "oldest_pending_webhook_event_age_seconds": None,
        "deliveries_pending": 0,
        "deliveries_failed": 0,
        "oldest_undelivered_revision_at": None,
        "oldest_undelivered_revision_age_seconds": None,
    }


async def add_backlog(session: AsyncSession, now: datetime) -> None:
    """Two pending events (one done), and deliveries of three revisions to two endpoints:
    pending (2 h and 1 h old, one per endpoint), failed (3 h), delivered (5 h)."""
    for n, (status, age) in enumerate([("pending", 20), ("pending", 5), ("done", 600)]):
        at = now - timedelta(seconds=age)
        session.add(
            WebhookEvent(
                dedup_key=f"e{n}", event="booking", body="{}", status=status, received_at=at
            )
        )
    booking = Booking(channex_booking_id="b", channex_property_id="p", status="new")
    ours, theirs = (
        PmsEndpoint(scope=s, url="https://pms.test/", secret="x") for s in ("global", "org:1")
    )
    session.add_all([booking, ours, theirs])
    await session.flush()
    deliveries = [
        (ours, "pending", 2),
        (theirs, "pending", 1),
        (ours, "failed", 3),
        (theirs, "delivered", 5),
    ]
    for n, (endpoint, status, hours) in enumerate(deliveries):
        revision = BookingRevision(
            channex_revision_id=f"r{n}", booking_id=booking.id, status="new", inserted_at=now,
            data={}, created_at=now - timedelta(hours=hours),
        )  # fmt: skip
        session.add(revision)
        await session.flush()
        session.add(
            BookingDelivery(
                message_id=f"m{n}", revision_id=revision.id, booking_id=booking.id,
                endpoint_id=endpoint.id, sequence=n + 1, status=status,
                next_attempt_at=now + timedelta(days=1),
            )
        )  # fmt: skip
