"""The webhook inbox page: recent Channex webhook calls, newest first, each with where it
stands and what it led to (the revision it stored, its quarantine, its property), in one
query per page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.revisions import ARI_EVENT, CHANNEL_EVENTS, NON_ACKED_EVENT
from app.models import Booking, BookingRevision, Property, QuarantinedRevision, WebhookEvent
from app.models.bookings import EventStatus

PAGE_SIZE = 50

# The page's three states; `status` keeps the stored one beside it.
STATE_OF: dict[str, str] = {
    EventStatus.PENDING: "pending",
    EventStatus.DONE: "processed",
    EventStatus.IGNORED: "processed",
    EventStatus.ALARM: "processed",
    EventStatus.FAILED: "failed",
    EventStatus.MALFORMED: "failed",
}
STATES = ("pending", "processed", "failed")


@dataclass(frozen=True)
class InboxRow:
    event_id: int
    event: str
    received_at: datetime
    processed_at: datetime | None
    status: str  # as stored: pending, done, ignored, malformed, alarm, failed
    state: str  # pending | processed | failed
    attempts: int
    property_id: str | None  # ours, when the Channex property is known
    channex_property_id: str | None
    revision_id: str | None
    led_to: str


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int
    state: str


async def inbox_page(session: AsyncSession, *, state: str = "", page: int = 1) -> InboxPage:
    """`state`: one of STATES, or "" for every event."""
    where = []
    if state in STATES:
        where = [WebhookEvent.status.in_([s for s, shown in STATE_OF.items() if shown == state])]
    total = (
        await session.execute(select(func.count()).select_from(WebhookEvent).where(*where))
    ).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    stmt = (
        select(
            WebhookEvent,
            Property.pms_property_id,
            BookingRevision.sequence,
            Booking.channex_booking_id,
            QuarantinedRevision.reason,
            QuarantinedRevision.resolved_at,
        )
        .outerjoin(Property, Property.channex_property_id == WebhookEvent.channex_property_id)
        .outerjoin(
            BookingRevision,
            BookingRevision.channex_revision_id == WebhookEvent.channex_revision_id,
        )
        .outerjoin(Booking, Booking.id == BookingRevision.booking_id)
        .outerjoin(
            QuarantinedRevision,
            QuarantinedRevision.channex_revision_id == WebhookEvent.channex_revision_id,
        )
        .where(*where)
        .order_by(WebhookEvent.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = [
        InboxRow(
            event_id=e.id,
            event=e.event,
            received_at=e.received_at,
            processed_at=e.processed_at,
            status=e.status,
            state=STATE_OF.get(e.status, e.status),
            attempts=e.attempts,
            property_id=pms_id,
            channex_property_id=e.channex_property_id,
            revision_id=e.channex_revision_id,
            led_to=led_to(e, pms_id, sequence, booking_id, reason, resolved_at),
        )
        for e, pms_id, sequence, booking_id, reason, resolved_at in (
            await session.execute(stmt)
        ).all()
    ]
    return InboxPage(rows=rows, total=total, page=page, pages=pages, state=state)


def led_to(
    event: WebhookEvent,
    property_id: str | None,
    sequence: int | None,
    booking_id: str | None,
    quarantine_reason: str | None,
    quarantine_resolved_at: datetime | None,
) -> str:
    """In words, what became of the event (the note says why when it was not acted on)."""
    done: list[str] = []
    if booking_id is not None:
        position = f" (sequence {sequence})" if sequence is not None else " (stale, kept)"
        done.append(f"revision stored for booking {booking_id}{position}")
    if quarantine_reason is not None:
        state = "re-applied since" if quarantine_resolved_at else "still in quarantine"
        done.append(f"quarantined: {quarantine_reason} ({state})")
    if event.status == EventStatus.DONE and not done:
        done.append(_done_by_kind(event.event, property_id))
    if event.note:
        done.append(event.note)
    if not done:
        done.append("waiting to be processed" if event.status == EventStatus.PENDING else "—")
    return "; ".join(done)


def _done_by_kind(event: str, property_id: str | None) -> str:
    where = f" of {property_id}" if property_id else ""
    if event in CHANNEL_EVENTS:
        return f"channel rows{where} updated"
    if event == ARI_EVENT:
        return f"drift check{where} asked for the dates Channex named"
    if event == NON_ACKED_EVENT:
        return "reconciliation asked for"
    return "processed"
