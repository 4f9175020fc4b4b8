"""'Retry now' for one PMS endpoint: its pending deliveries, waiting out their backoff, are
made due at once, and the (endpoint, booking) pairs to send are returned for the caller to
enqueue after its commit. Deliveries that gave up (failed) are not touched: a replay resends
those, in order."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import not_found
from app.models import BookingDelivery, PmsEndpoint
from app.models.bookings import DeliveryStatus
from app.services.delivery import due_deliveries


class EndpointDisabledError(Exception):
    """The PMS answered 410 Gone: nothing is sent until it configures the endpoint again."""


async def retry_endpoint_now(session: AsyncSession, endpoint_id: int) -> list[tuple[int, int]]:
    """Make the endpoint's pending deliveries due now; the pairs now due on it."""
    endpoint = await session.get(PmsEndpoint, endpoint_id)
    if endpoint is None:
        raise not_found("PMS endpoint", str(endpoint_id))
    if endpoint.disabled_at is not None:
        raise EndpointDisabledError(endpoint.disabled_reason or "disabled")
    now = utcnow()
    await session.execute(
        update(BookingDelivery)
        .where(
            BookingDelivery.endpoint_id == endpoint_id,
            BookingDelivery.status == DeliveryStatus.PENDING,
            BookingDelivery.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return await due_deliveries(session, endpoint_id=endpoint_id)
