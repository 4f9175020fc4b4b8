"""The PMS's view of bookings: the pull feed with its cursor, one booking, erasure, replay.

Every read is scoped to the caller: an organization's key sees only bookings of its
properties (404 otherwise, so it cannot learn that another organization's booking exists).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import MultiFernet
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import MAX_INT, utcnow
from app.errors import FieldError, invalid, not_found
from app.models import (
    Booking,
    BookingDelivery,
    BookingRevision,
    Organization,
    Property,
    QuarantinedRevision,
)
from app.models.bookings import DeliveryStatus
from app.schemas_revision import RevisionRead
from app.services.access import Principal
from app.services.booking_payloads import (
    BookingRead,
    RevisionRow,
    RevisionSelect,
    as_row,
    booking_read,
    revision_query,
    revision_read,
)
from app.services.delivery import due_deliveries


@dataclass(frozen=True)
class FeedPage:
    """A page of the pull feed: `next_cursor` only when another page follows; `resume_after`
    always, the position after this page (or the one asked for), to poll from later."""

    items: list[RevisionRead]
    resume_after: str
    next_cursor: str | None


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The feed position after which to continue; 422 for anything we did not hand out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        position = int(text.removeprefix("p"))
        if not text.startswith("p") or not 0 <= position <= MAX_INT:
            raise ValueError(text)
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError):
        error = FieldError("query.after", "not a cursor from this feed")
        raise invalid("bad cursor", [error]) from None


def _scoped(stmt: RevisionSelect, principal: Principal) -> RevisionSelect:
    if principal.organization_id is None:
        return stmt
    return stmt.where(Organization.pms_organization_id == principal.organization_id)


async def list_revisions(
    session: AsyncSession,
    principal: Principal,
    cipher: MultiFernet | None,
    *,
    after: str | None,
    limit: int,
    pending_only: bool,
) -> FeedPage:
    """Revisions in feed order (the order they were applied), and where to go on from."""
    stmt = _scoped(revision_query(), principal).where(BookingRevision.feed_position.is_not(None))
    if after is not None:
        stmt = stmt.where(BookingRevision.feed_position > decode_cursor(after))
    if pending_only:
        stmt = stmt.where(BookingRevision.pulled_at.is_(None))
    # One row past the page says whether another page follows, without a count.
    stmt = stmt.order_by(BookingRevision.feed_position).limit(limit + 1)
    rows = [as_row(r) for r in (await session.execute(stmt)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    items = [revision_read(r, cipher) for r in rows]
    last = rows[-1][0].feed_position if rows else None
    resume = encode_cursor(last) if last is not None else (after or encode_cursor(0))
    return FeedPage(items, resume_after=resume, next_cursor=resume if more else None)


async def get_revision_row(
    session: AsyncSession, principal: Principal, channex_revision_id: str
) -> RevisionRow:
    stmt = _scoped(revision_query(), principal).where(
        BookingRevision.channex_revision_id == channex_revision_id
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise not_found("booking revision", channex_revision_id)
    return as_row(row)


async def ack_pulled_revision(
    session: AsyncSession, principal: Principal, channex_revision_id: str
) -> RevisionRow:
    """The PMS took the revision from the pull feed; acking twice keeps the first time."""
    row = await get_revision_row(session, principal, channex_revision_id)
    if row[0].pulled_at is None:
        row[0].pulled_at = utcnow()
        await session.flush()
    return row


async def _get_booking(
    session: AsyncSession, principal: Principal, channex_booking_id: str
) -> tuple[Booking, str | None, str | None]:
    stmt = (
        select(Booking, Property.pms_property_id, Organization.pms_organization_id)
        .outerjoin(Property, Booking.property_id == Property.id)
        .outerjoin(Organization, Property.organization_id == Organization.id)
        .where(Booking.channex_booking_id == channex_booking_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None or (
        principal.organization_id is not None and row[2] != principal.organization_id
    ):
        raise not_found("booking", channex_booking_id)
    return row[0], row[1], row[2]


async def get_booking(
    session: AsyncSession, principal: Principal, cipher: MultiFernet | None, booking_id: str
) -> BookingRead:
    """A booking and its revisions, oldest first."""
    booking, pms_property_id, pms_org_id = await _get_booking(session, principal, booking_id)
    stmt = (
        revision_query()
        .where(BookingRevision.booking_id == booking.id)
        .order_by(BookingRevision.inserted_at, BookingRevision.id)
    )
    revisions = [revision_read(as_row(r), cipher) for r in (await session.execute(stmt)).all()]
    return booking_read(booking, pms_property_id, pms_org_id, revisions)


async def erase_personal_data(
    session: AsyncSession, principal: Principal, booking_id: str
) -> Booking:
    """Erase the guest data of every revision (and any quarantined copy); records when.
    Revisions arriving later for this booking are stored without guest data."""
    booking, _, _ = await _get_booking(session, principal, booking_id)
    await session.execute(
        update(BookingRevision)
        .where(BookingRevision.booking_id == booking.id)
        .values(personal_data=None)
    )
    await session.execute(
        update(QuarantinedRevision)
        .where(QuarantinedRevision.channex_booking_id == booking.channex_booking_id)
        .values(payload=None)
    )
    booking.personal_data_erased_at = booking.personal_data_erased_at or utcnow()
    await session.flush()
    return booking


async def replay_revision(
    session: AsyncSession, principal: Principal, channex_revision_id: str
) -> Sequence[BookingDelivery]:
    """Send the revision again to its endpoints (same webhook-id, so the PMS can dedupe)."""
    revision, _, _, _ = await get_revision_row(session, principal, channex_revision_id)
    stmt = select(BookingDelivery).where(BookingDelivery.revision_id == revision.id)
    deliveries = list((await session.execute(stmt)).scalars())
    for delivery in deliveries:
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = utcnow()
        delivery.delivered_at = None
    await session.flush()
    return deliveries


def require_global(principal: Principal) -> None:
    """Quarantine spans organizations (its property may be unknown): global keys only."""
    if principal.organization_id is not None:
        raise not_found("quarantine", "")


async def pending_pairs(session: AsyncSession, booking_id: int) -> list[tuple[int, int]]:
    """(endpoint, booking) pairs with something to push for this booking."""
    return await due_deliveries(session, booking_ids=[booking_id])
