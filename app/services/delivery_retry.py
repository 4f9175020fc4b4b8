"""'Retry now' for one PMS endpoint: its pending deliveries, waiting out their backoff, are
made due at once (as when a failing endpoint answers again), for the endpoint's drain job
(app/services/delivery_probe.py) to send after the caller's commit. Deliveries that gave up
(failed) are not touched: a replay resends those, in order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import not_found
from app.models import PmsEndpoint
from app.services.delivery import bring_forward, due_deliveries


class EndpointDisabledError(Exception):
    """The PMS answered 410 Gone: nothing is sent until it configures the endpoint again."""


async def retry_endpoint_now(session: AsyncSession, endpoint_id: int) -> list[tuple[int, int]]:
    """Make the endpoint's pending deliveries due now; the pairs now due on it."""
    endpoint = await session.get(PmsEndpoint, endpoint_id)
    if endpoint is None:
        raise not_found("PMS endpoint", str(endpoint_id))
    if endpoint.disabled_at is not None:
        raise EndpointDisabledError(endpoint.disabled_reason or "disabled")
    await bring_forward(session, endpoint_id, asked=True)
    return await due_deliveries(session, endpoint_id=endpoint_id)
