"""Acting on one stored Channex webhook: a booking revision is fetched, applied and acked; a
channel event updates the property's channels; an `ari` event widens the span a drift check
will read. What should follow (deliveries, a reconciliation, a drift check, a new connection's
follow-up) is returned for the caller to ask of the queue once this has committed.

Channex being unavailable or rate-limiting is raised (ChannexUnavailableError,
ChannexRateLimitedError): the event stays pending, and the caller runs it again later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.channex.client import ChannexClient
from app.channex.errors import TRANSIENT_ERRORS, ChannexError, ChannexNotFoundError
from app.domain.revisions import (
    ARI_EVENT,
    BOOKING_EVENTS,
    CHANNEL_EVENTS,
    NON_ACKED_EVENT,
    UNMAPPED_EVENTS,
)
from app.models import WebhookEvent
from app.models.bookings import EventStatus
from app.services.ari_watch import mark_ari_event
from app.services.channel_events import ChannelChange, handle_channel_event
from app.services.inbox import mark_event
from app.services.revision_intake import Sessions, apply_and_ack, quarantine_unreadable
from app.services.revision_sources import revisions_for_webhook
from app.settings import Settings


@dataclass(frozen=True)
class EventOutcome:
    """What the event asks to follow, after its commit."""

    booking_ids: Sequence[int] = ()  # bookings whose deliveries may now be due
    reconcile: bool = False  # Channex says revisions wait unacked: read the feed soon
    drift_check: int | None = None  # the property whose span to check
    connection: ChannelChange | None = None  # a channel that just became active
    channel_deliveries: Sequence[tuple[int, int]] = ()  # (endpoint, channel) state changes


async def process_event(
    sessions: Sessions, settings: Settings, channex: ChannexClient | None, event_id: int
) -> EventOutcome:
    """Act on the event if it is still pending (running twice changes nothing)."""
    async with sessions() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None or event.status != EventStatus.PENDING:
            return EventOutcome()
        event.attempts += 1
        name, revision_id = event.event, event.channex_revision_id
        await session.commit()
    if name in BOOKING_EVENTS | UNMAPPED_EVENTS and revision_id:
        if channex is None:
            return EventOutcome()  # sync is off: the event stays pending until it is on again
        return await _booking_event(sessions, settings, channex, event_id, revision_id)
    if name == NON_ACKED_EVENT:
        await _finish(sessions, event_id, EventStatus.ALARM, "Channex: revision unacked for 30 min")
        return EventOutcome(reconcile=True)
    if name in CHANNEL_EVENTS:
        return await _channel_event(sessions, settings, event_id)
    if name == ARI_EVENT:
        return await _ari_event(sessions, settings, event_id)
    await _finish(sessions, event_id, EventStatus.IGNORED, "nothing to do")
    return EventOutcome()


async def _booking_event(
    sessions: Sessions,
    settings: Settings,
    channex: ChannexClient,
    event_id: int,
    revision_id: str,
) -> EventOutcome:
    try:
        async with sessions() as session:
            revisions = await revisions_for_webhook(session, channex, revision_id)
    except TRANSIENT_ERRORS:
        raise
    except ChannexNotFoundError:
        await _finish(sessions, event_id, EventStatus.FAILED, "Channex has no such revision")
        return EventOutcome()
    except ChannexError as exc:
        await quarantine_unreadable(sessions, settings, channex, revision_id, exc.title)
        await _finish(sessions, event_id, EventStatus.FAILED, "revision quarantined")
        return EventOutcome()
    applied = await apply_and_ack(sessions, settings, channex, revisions)
    await _finish(sessions, event_id, EventStatus.DONE)
    return EventOutcome(booking_ids=applied.booking_ids)


async def _channel_event(sessions: Sessions, settings: Settings, event_id: int) -> EventOutcome:
    async with sessions() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None:
            return EventOutcome()
        # A go-live owes the full sync in this transaction (app/services/channel_state.py).
        outcome = await handle_channel_event(session, settings, event)
        status = EventStatus.DONE if outcome.ignored is None else EventStatus.IGNORED
        mark_event(event, status, outcome.ignored)
        await session.commit()
    return EventOutcome(connection=outcome.change, channel_deliveries=outcome.deliveries)


async def _ari_event(sessions: Sessions, settings: Settings, event_id: int) -> EventOutcome:
    """ARI changed in Channex: its dates wait for one coalesced drift check."""
    async with sessions() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None:
            return EventOutcome()
        property_pk = await mark_ari_event(session, settings, event)
        await session.commit()
    return EventOutcome(drift_check=property_pk)


async def _finish(sessions: Sessions, event_id: int, status: str, note: str | None = None) -> None:
    async with sessions() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is not None:
            mark_event(event, status, note)
            await session.commit()
