"""Channex's `ari` webhook: mark the dates it names for a drift check, and run that check.

The span waits in the database (`ari_state.drift_pending_*`), not in the queue: any number of
events widen one span per property, one job checks it (two reads, whatever the burst), and the
sweep re-drives a span whose job was lost. Checking re-reads Channex (§6.7: the event is a
trigger, not state) and compares with what we pushed, exactly like the nightly check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.db import utcnow
from app.domain.ari_webhook import Skip, ari_span, widen
from app.models import AriState, Property, WebhookEvent
from app.models.bookings import EventStatus
from app.services.ari_drift import Drift, check_property_drift
from app.services.ari_mappings import horizon, lock_ari_state
from app.services.ari_push import has_pending
from app.services.inbox import mark_event
from app.settings import Settings


async def mark_ari_event(
    session: AsyncSession, settings: Settings, event: WebhookEvent
) -> int | None:
    """Widen the property's pending span by the event's dates and mark the event processed;
    the property's id when a check is now due, else None (the event is marked why)."""
    if not settings.ari_webhook_drift_check:
        mark_event(event, EventStatus.IGNORED, "ari drift check is off")
        return None
    found = ari_span(event.body, settings.channex_user_id)
    if isinstance(found, Skip):
        status = EventStatus.MALFORMED if found.malformed else EventStatus.IGNORED
        mark_event(event, status, found.note)
        return None
    stmt = select(Property.id).where(
        Property.channex_property_id == event.channex_property_id,
        Property.disconnected_at.is_(None),
    )
    property_pk = (await session.execute(stmt)).scalar_one_or_none()
    if property_pk is None:
        mark_event(event, EventStatus.IGNORED, "no connected property with this Channex id")
        return None
    state = await lock_ari_state(session, property_pk)
    current = (state.drift_pending_from, state.drift_pending_to)
    state.drift_pending_from, state.drift_pending_to = widen(current, found)
    state.drift_pending_at = utcnow()
    mark_event(event, EventStatus.DONE)
    await session.flush()
    return property_pk


@dataclass(frozen=True)
class PendingCheck:
    """What a check of the pending span did: the drift found (None: nothing was checked) and
    whether a newer event came in meanwhile, leaving a span to check again."""

    drift: Drift | None
    again: bool
    # Writes of the property wait to be sent: nothing was read, so that they go first (the
    # reads take the same per-property budget at Channex); check again once they are out.
    writes_first: bool = False


async def check_pending_drift(
    session: AsyncSession,
    channex: ChannexClient,
    property_pk: int,
    *,
    repair: bool,
    now: datetime | None = None,
) -> PendingCheck:
    """Check the property's pending span (repairing if asked; the caller commits, then pushes)
    and clear it, unless an event widened it during the check."""
    state = await session.get(AriState, property_pk)
    if state is None or state.drift_pending_from is None or state.drift_pending_to is None:
        return PendingCheck(None, again=False)
    prop = await session.get(Property, property_pk)
    if prop is not None:
        first, last = horizon(prop, now or utcnow())
        if await has_pending(session, property_pk, first, last):
            return PendingCheck(None, again=False, writes_first=True)
    span = (state.drift_pending_from, state.drift_pending_to)
    marked = state.drift_pending_at
    drift = await check_property_drift(
        session, channex, property_pk, repair=repair, now=now, span=span
    )
    state = await lock_ari_state(session, property_pk)  # re-read: an event may have come
    if state.drift_pending_at != marked or (drift is not None and drift.stale):
        return PendingCheck(drift, again=True)  # the span stays pending
    state.drift_pending_from = state.drift_pending_to = state.drift_pending_at = None
    await session.flush()
    return PendingCheck(drift, again=False)


async def pending_drift_properties(session: AsyncSession) -> list[int]:
    """Connected properties with a span still to check."""
    stmt = (
        select(AriState.property_id)
        .join(Property, Property.id == AriState.property_id)
        .where(
            AriState.drift_pending_from.is_not(None),
            Property.channex_property_id.is_not(None),
            Property.disconnected_at.is_(None),
        )
        .order_by(AriState.property_id)
    )
    return list((await session.execute(stmt)).scalars())
