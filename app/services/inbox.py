"""The webhook inbox: every Channex call is stored before it is answered, once.

The request path needs only the database (DESIGN "Webhook intake needs only the database"):
authenticate, cap the body, INSERT … ON CONFLICT DO NOTHING, commit, answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.domain.revisions import classify_webhook
from app.errors import AppError
from app.models import WebhookEvent
from app.models.bookings import EventStatus
from app.settings import Settings

SECRET_HEADER = "X-Channex-Webhook-Secret"


def check_webhook_secret(settings: Settings, presented: str | None) -> None:
    """Channex signs nothing; our webhook carries a secret header we set (§8.4)."""
    expected = settings.channex_webhook_secret
    if expected is None:
        raise AppError(503, "webhook_secret_unset", "Webhook intake is not configured")
    if presented is None or not hmac.compare_digest(
        expected.get_secret_value().encode(), presented.encode()
    ):
        raise AppError(401, "unauthorized", "Unauthorized", "missing or wrong webhook secret")


async def store_event(session: AsyncSession, raw: bytes) -> int | None:
    """Store one webhook call; the new event's id, or None for a duplicate or one not to
    process (test messages, unknown events and malformed bodies are stored and marked)."""
    classified = classify_webhook(raw)
    now = utcnow()
    values = {
        "dedup_key": classified.dedup_key,
        "event": classified.event,
        "channex_property_id": classified.channex_property_id,
        "channex_revision_id": classified.channex_revision_id,
        "body": classified.body,
        "status": classified.status,
        "note": classified.note,
        "attempts": 0,
        "received_at": now,
        "processed_at": None if classified.status == EventStatus.PENDING else now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(WebhookEvent).values(**values).on_conflict_do_nothing().returning(WebhookEvent.id)
    event_id = (await session.execute(stmt)).scalar_one_or_none()
    return event_id if classified.status == EventStatus.PENDING else None


async def pending_event_ids(session: AsyncSession, *, older_than: float = 0.0) -> Sequence[int]:
    """Events still to process (received at least `older_than` seconds ago)."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    stmt = (
        select(WebhookEvent.id)
        .where(WebhookEvent.status == EventStatus.PENDING, WebhookEvent.received_at <= cutoff)
        .order_by(WebhookEvent.id)
        .limit(500)
    )
    return list((await session.execute(stmt)).scalars())


def mark_event(event: WebhookEvent, status: str, note: str | None = None) -> None:
    event.status = status
    event.note = note
    event.processed_at = utcnow()
