"""The work waiting in the database: webhook events not processed yet and booking revisions
not delivered to the PMS. Read by `/metrics` and `/health/ready`, so that every replica
answers alike and both say the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.bookings import (
    BookingDelivery,
    BookingRevision,
    DeliveryStatus,
    EventStatus,
    PmsEndpoint,
    WebhookEvent,
)


@dataclass(frozen=True)
class EndpointBacklog:
    """One PMS endpoint's deliveries not done: waiting, and past their retries."""

    scope: str
    pending: int = 0
    failed: int = 0
    # When the oldest waiting delivery's revision was stored.
    oldest_pending_at: datetime | None = None


@dataclass(frozen=True)
class Backlog:
    events_pending: int
    oldest_event_at: datetime | None  # received_at of the oldest unprocessed event
    endpoints: tuple[EndpointBacklog, ...]

    @property
    def deliveries_pending(self) -> int:
        return sum(e.pending for e in self.endpoints)

    @property
    def deliveries_failed(self) -> int:
        return sum(e.failed for e in self.endpoints)

    @property
    def oldest_undelivered_at(self) -> datetime | None:
        """When the oldest revision still waiting for a delivery was stored."""
        return min(
            (e.oldest_pending_at for e in self.endpoints if e.oldest_pending_at), default=None
        )


async def read_backlog(session: AsyncSession) -> Backlog:
    """Two grouped queries, both on indexed status columns."""
    events, oldest = (
        await session.execute(
            select(func.count(), func.min(WebhookEvent.received_at)).where(
                WebhookEvent.status == EventStatus.PENDING
            )
        )
    ).one()
    return Backlog(events, oldest, await _endpoints(session))


async def _endpoints(session: AsyncSession) -> tuple[EndpointBacklog, ...]:
    rows = await session.execute(
        select(
            PmsEndpoint.scope,
            BookingDelivery.status,
            func.count(),
            func.min(BookingRevision.created_at),
        )
        .join(BookingDelivery, BookingDelivery.endpoint_id == PmsEndpoint.id)
        .join(BookingRevision, BookingRevision.id == BookingDelivery.revision_id)
        .where(BookingDelivery.status != DeliveryStatus.DELIVERED)
        .group_by(PmsEndpoint.scope, BookingDelivery.status)
    )
    found: dict[str, EndpointBacklog] = {}
    for scope, status, number, oldest_at in rows:
        was = found.get(scope, EndpointBacklog(scope))
        if status == DeliveryStatus.PENDING:
            found[scope] = EndpointBacklog(scope, number, was.failed, oldest_at)
        else:
            found[scope] = EndpointBacklog(
                scope, was.pending, was.failed + number, was.oldest_pending_at
            )
    return tuple(found[scope] for scope in sorted(found))
