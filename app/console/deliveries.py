"""The deliveries page: each PMS endpoint with its delivery counts and its oldest pending
delivery, in three queries whatever the number of endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Booking, BookingDelivery, BookingRevision, Organization, PmsEndpoint
from app.models.bookings import DeliveryStatus
from app.services.delivery import GLOBAL_SCOPE
from app.services.pms_endpoints import delivery_counts


@dataclass(frozen=True)
class OldestPending:
    revision_id: str
    booking_id: str
    stored_at: datetime  # when the revision was stored, so about when its delivery was queued
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class EndpointRow:
    endpoint_id: int
    scope: str  # "global", or the PMS organization id
    url: str
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    last_error: str | None
    pending: int
    failed: int
    delivered: int
    oldest_pending: OldestPending | None


async def endpoint_rows(session: AsyncSession) -> list[EndpointRow]:
    """Every endpoint, failing or disabled first."""
    stmt = (
        select(PmsEndpoint, Organization.pms_organization_id)
        .outerjoin(Organization, PmsEndpoint.organization_id == Organization.id)
        .order_by(PmsEndpoint.id)
    )
    endpoints = (await session.execute(stmt)).all()
    counts = await delivery_counts(session)
    oldest = await _oldest_pending(session)
    rows = [
        EndpointRow(
            endpoint_id=e.id,
            scope="global" if e.scope == GLOBAL_SCOPE else (org_id or e.scope),
            url=e.url,
            disabled_at=e.disabled_at,
            disabled_reason=e.disabled_reason,
            failing_since=e.failing_since,
            last_error=e.last_error,
            pending=counts.get((e.id, DeliveryStatus.PENDING), 0),
            failed=counts.get((e.id, DeliveryStatus.FAILED), 0),
            delivered=counts.get((e.id, DeliveryStatus.DELIVERED), 0),
            oldest_pending=oldest.get(e.id),
        )
        for e, org_id in endpoints
    ]
    return sorted(rows, key=lambda r: r.failing_since is None and r.disabled_at is None)


async def _oldest_pending(session: AsyncSession) -> dict[int, OldestPending]:
    """Per endpoint, its first-queued pending delivery (the smallest id)."""
    first = (
        select(func.min(BookingDelivery.id))
        .where(BookingDelivery.status == DeliveryStatus.PENDING)
        .group_by(BookingDelivery.endpoint_id)
        .scalar_subquery()
    )
    stmt = (
        select(BookingDelivery, BookingRevision, Booking.channex_booking_id)
        .join(BookingRevision, BookingDelivery.revision_id == BookingRevision.id)
        .join(Booking, BookingDelivery.booking_id == Booking.id)
        .where(BookingDelivery.id.in_(first))
    )
    return {
        d.endpoint_id: OldestPending(
            revision_id=r.channex_revision_id,
            booking_id=booking_id,
            stored_at=r.created_at,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_error=d.last_error,
        )
        for d, r, booking_id in (await session.execute(stmt)).all()
    }
