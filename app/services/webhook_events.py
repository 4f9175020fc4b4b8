"""Acting on stored Channex webhooks: booking revisions are fetched, applied and acked, those
of many events together (app/services/revision_batches.py); a channel event updates the
property's channels; an `ari` event widens the span a drift check will read. What should
follow (deliveries, a reconciliation, a drift check, a new connection's follow-up) is returned
for the caller to ask of the queue once this has committed.

An event whose revision Channex could not serve for now (ChannexUnavailableError,
ChannexRateLimitedError) stays pending, and the outcome says when to run it again; the other
events of its batch go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import update

from app.channex.client import ChannexClient
from app.channex.errors import TRANSIENT_ERRORS, ChannexError, ChannexNotFoundError
from app.channex.schemas import BookingRevision as ChannexRevision
from app.db import utcnow
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
from app.services.revision_batches import apply_and_ack_batch
from app.services.revision_intake import Sessions, quarantine_unreadable
from app.services.revision_sources import drop_stored, fetch_for_webhooks
from app.settings import Settings


@dataclass(frozen=True)
class EventOutcome:
    """What the event asks to follow, after its commit."""

    booking_ids: Sequence[int] = ()  # bookings whose deliveries may now be due
    reconcile: bool = False  # Channex says revisions wait unacked: read the feed soon
    drift_check: int | None = None  # the property whose span to check
    connection: ChannelChange | None = None  # a channel that just became active
    channel_deliveries: Sequence[tuple[int, int]] = ()  # (endpoint, channel) state changes


# Revisions fetched from Channex at once for a batch of webhooks; the client's rate limiter
# still spaces them within the account's budget.
FETCH_CONCURRENCY = 16


@dataclass(frozen=True)
class Claimed:
    """A pending event taken for processing (its attempt counted)."""

    id: int
    event: str
    revision_id: str | None

    @property
    def names_revision(self) -> bool:
        return self.event in BOOKING_EVENTS | UNMAPPED_EVENTS and bool(self.revision_id)


@dataclass(frozen=True)
class Processed:
    """What a batch of events asks to follow, after its commits; `retry_after`: some events
    met Channex away and stay pending, to run again no sooner than that (seconds)."""

    outcomes: Sequence[EventOutcome] = ()
    retry_after: float | None = None


async def process_events(
    sessions: Sessions,
    settings: Settings,
    channex: ChannexClient | None,
    event_ids: Sequence[int],
) -> Processed:
    """Act on those of the events still pending (running twice changes nothing): booking
    events as one batch (app/services/revision_batches.py), any other one by one."""
    claimed = await claim_events(sessions, event_ids)
    outcomes = [await _other_event(sessions, settings, e) for e in claimed if not e.names_revision]
    booking = [(e.id, str(e.revision_id)) for e in claimed if e.names_revision]
    if not booking or channex is None:  # sync off: booking events stay pending until it is on
        return Processed(outcomes)
    outcome, retry_after = await _booking_events(sessions, settings, channex, booking)
    return Processed([*outcomes, outcome], retry_after)


async def claim_events(sessions: Sessions, event_ids: Sequence[int]) -> list[Claimed]:
    """Count an attempt of each event still pending, in one statement; those events."""
    if not event_ids:
        return []
    stmt = (
        update(WebhookEvent)
        .where(WebhookEvent.id.in_(event_ids), WebhookEvent.status == EventStatus.PENDING)
        .values(attempts=WebhookEvent.attempts + 1)
        .returning(WebhookEvent.id, WebhookEvent.event, WebhookEvent.channex_revision_id)
        .execution_options(synchronize_session=False)
    )
    async with sessions() as session:
        rows = (await session.execute(stmt)).all()
        await session.commit()
    return sorted((Claimed(i, name, rev) for i, name, rev in rows), key=lambda e: e.id)


async def _other_event(sessions: Sessions, settings: Settings, event: Claimed) -> EventOutcome:
    if event.event == NON_ACKED_EVENT:
        await _finish(sessions, event.id, EventStatus.ALARM, "Channex: revision unacked for 30 min")
        return EventOutcome(reconcile=True)
    if event.event in CHANNEL_EVENTS:
        return await _channel_event(sessions, settings, event.id)
    if event.event == ARI_EVENT:
        return await _ari_event(sessions, settings, event.id)
    await _finish(sessions, event.id, EventStatus.IGNORED, "nothing to do")
    return EventOutcome()


async def _booking_events(
    sessions: Sessions,
    settings: Settings,
    channex: ChannexClient,
    events: Sequence[tuple[int, str]],
) -> tuple[EventOutcome, float | None]:
    """Fetch the events' revisions concurrently, apply them as one batch, mark the events."""
    wanted = [revision_id for _, revision_id in events]
    fetched = await fetch_for_webhooks(channex, wanted, concurrency=FETCH_CONCURRENCY)
    older: list[ChannexRevision] = []
    named: list[ChannexRevision] = []
    done: list[int] = []
    retry_after: float | None = None
    for (event_id, revision_id), got in zip(events, fetched, strict=True):
        if isinstance(got, TRANSIENT_ERRORS):  # stays pending: the job runs again later
            retry_after = max(retry_after or 0.0, getattr(got, "retry_after", 0.0))
        elif isinstance(got, ChannexNotFoundError):
            await _finish(sessions, event_id, EventStatus.FAILED, "Channex has no such revision")
        elif isinstance(got, ChannexError):
            await quarantine_unreadable(sessions, settings, channex, revision_id, got.title)
            await _finish(sessions, event_id, EventStatus.FAILED, "revision quarantined")
        else:
            *before, rev = got
            older += before
            named.append(rev)
            done.append(event_id)
    if older:
        async with sessions() as session:
            older = await drop_stored(session, older)
    applied = await apply_and_ack_batch(sessions, settings, channex, [*older, *named])
    await _finish_all(sessions, done, EventStatus.DONE)
    return EventOutcome(booking_ids=applied.booking_ids), retry_after


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


async def _finish_all(sessions: Sessions, event_ids: Sequence[int], status: str) -> None:
    """Mark these events with `status`, in one UPDATE."""
    if not event_ids:
        return
    stmt = (
        update(WebhookEvent)
        .where(WebhookEvent.id.in_(event_ids))
        .values(status=status, note=None, processed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    async with sessions() as session:
        await session.execute(stmt)
        await session.commit()


async def _finish(sessions: Sessions, event_id: int, status: str, note: str | None = None) -> None:
    async with sessions() as session:
        event = await session.get(WebhookEvent, event_id)
        if event is not None:
            mark_event(event, status, note)
            await session.commit()
