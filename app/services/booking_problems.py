"""What needs a human: flagged revisions, quarantined ones, Channex's non-ack alarms, failed
events, failing endpoints and deliveries that gave up."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import schema_examples as ex
from app.models import (
    Booking,
    BookingDelivery,
    BookingRevision,
    Organization,
    Property,
    QuarantinedRevision,
    WebhookEvent,
)
from app.models.bookings import DeliveryStatus, EventStatus
from app.services.access import Principal
from app.services.pms_endpoints import EndpointRead, list_endpoints

LIMIT = 200


class FlaggedRevision(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.FLAGGED_REVISION))

    revision_id: str = Field(description="Channex booking revision id")
    booking_id: str = Field(description="Channex booking id")
    property_id: str | None = Field(description="The PMS's property id; null if unknown")
    channex_property_id: str = Field(description="Channex property id (UUID)")
    status: str = Field(description="new | modified | cancelled")
    flags: list[str] = Field(
        description="unmapped_room_type, unmapped_rate_plan, overbooking, unknown_property, stale"
    )
    inserted_at: datetime = Field(description="When Channex created the revision (UTC)")


class Quarantined(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.QUARANTINED))

    revision_id: str = Field(description="Channex booking revision id")
    booking_id: str | None = Field(description="Channex booking id; null if unreadable")
    channex_property_id: str | None = Field(description="Channex property id; null if unreadable")
    reason: str = Field(
        description="The error's type and where it was raised (never its message: it may "
        "quote guest data)"
    )
    quarantined_at: datetime = Field(description="When it was set aside (UTC)")
    resolved_at: datetime | None = Field(description="When it was applied again; null until then")


class EventProblem(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.EVENT_PROBLEM))

    event_id: int = Field(description="The inbox row's id")
    event: str = Field(description="Channex's event name, e.g. booking or non_acked_booking")
    status: str = Field(description="failed or alarm")
    channex_property_id: str | None = Field(description="Channex property id, if it had one")
    channex_revision_id: str | None = Field(description="Channex revision id, if it had one")
    note: str | None = Field(description="What was found, for a person")
    received_at: datetime = Field(description="When channel-sync received it (UTC)")


class FailedDelivery(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.FAILED_DELIVERY))

    revision_id: str = Field(description="Channex booking revision id")
    booking_id: str = Field(description="Channex booking id")
    sequence: int = Field(description="The revision's position in the booking's history")
    attempts: int = Field(description="POSTs tried before giving up")
    last_status_code: int | None = Field(
        description="The PMS's last HTTP status; null if it was never reached"
    )
    last_error: str | None = Field(description="The last attempt's error")


class BookingProblems(BaseModel):
    """Everything about bookings that will not fix itself."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.BOOKING_PROBLEMS))

    flagged_revisions: list[FlaggedRevision] = Field(
        description="Revisions with a flag a person should look at (unmapped, overbooking...)"
    )
    quarantined_revisions: list[Quarantined] = Field(
        description="Unresolved revisions that could not be applied, newest first"
    )
    events: list[EventProblem] = Field(
        description="Webhooks that could not be processed, and Channex's non-ack alarms"
    )
    failed_deliveries: list[FailedDelivery] = Field(
        description="Deliveries to the PMS that gave up"
    )
    failing_endpoints: list[EndpointRead] = Field(
        description="PMS endpoints that are failing or disabled"
    )


async def _own_channex_properties(session: AsyncSession, principal: Principal) -> set[str] | None:
    """Channex property ids the caller may see; None = all (a global key)."""
    if principal.organization_id is None:
        return None
    stmt = (
        select(Property.channex_property_id)
        .join(Organization, Property.organization_id == Organization.id)
        .where(Organization.pms_organization_id == principal.organization_id)
    )
    return {p for p in (await session.execute(stmt)).scalars() if p}


async def list_problems(session: AsyncSession, principal: Principal) -> BookingProblems:
    own = await _own_channex_properties(session, principal)
    endpoints = await list_endpoints(session, principal)
    return BookingProblems(
        flagged_revisions=await _flagged(session, own),
        quarantined_revisions=await _quarantined(session, own),
        events=await _events(session, own),
        failed_deliveries=await _failed_deliveries(session, own),
        failing_endpoints=[e for e in endpoints if e.failing_since or e.disabled_at],
    )


async def _flagged(session: AsyncSession, own: set[str] | None) -> list[FlaggedRevision]:
    stmt = (
        select(BookingRevision, Booking, Property.pms_property_id)
        .join(Booking, BookingRevision.booking_id == Booking.id)
        .outerjoin(Property, Booking.property_id == Property.id)
        .where(cast(BookingRevision.flags, String) != "[]")
        .order_by(BookingRevision.id.desc())
        .limit(LIMIT)
    )
    if own is not None:
        stmt = stmt.where(Booking.channex_property_id.in_(own))
    return [
        FlaggedRevision(
            revision_id=r.channex_revision_id,
            booking_id=b.channex_booking_id,
            property_id=pms_id,
            channex_property_id=b.channex_property_id,
            status=r.status,
            flags=list(r.flags),
            inserted_at=r.inserted_at,
        )
        for r, b, pms_id in (await session.execute(stmt)).all()
    ]


async def _quarantined(session: AsyncSession, own: set[str] | None) -> list[Quarantined]:
    stmt = (
        select(QuarantinedRevision)
        .where(QuarantinedRevision.resolved_at.is_(None))
        .order_by(QuarantinedRevision.id.desc())
        .limit(LIMIT)
    )
    if own is not None:
        stmt = stmt.where(QuarantinedRevision.channex_property_id.in_(own))
    return [
        Quarantined(
            revision_id=q.channex_revision_id,
            booking_id=q.channex_booking_id,
            channex_property_id=q.channex_property_id,
            reason=q.reason,
            quarantined_at=q.quarantined_at,
            resolved_at=q.resolved_at,
        )
        for q in (await session.execute(stmt)).scalars()
    ]


async def _events(session: AsyncSession, own: set[str] | None) -> list[EventProblem]:
    stmt = (
        select(WebhookEvent)
        .where(WebhookEvent.status.in_([EventStatus.ALARM, EventStatus.FAILED]))
        .order_by(WebhookEvent.id.desc())
        .limit(LIMIT)
    )
    if own is not None:
        stmt = stmt.where(WebhookEvent.channex_property_id.in_(own))
    return [
        EventProblem(
            event_id=e.id,
            event=e.event,
            status=e.status,
            channex_property_id=e.channex_property_id,
            channex_revision_id=e.channex_revision_id,
            note=e.note,
            received_at=e.received_at,
        )
        for e in (await session.execute(stmt)).scalars()
    ]


async def _failed_deliveries(session: AsyncSession, own: set[str] | None) -> list[FailedDelivery]:
    stmt = (
        select(BookingDelivery, BookingRevision.channex_revision_id, Booking)
        .join(BookingRevision, BookingDelivery.revision_id == BookingRevision.id)
        .join(Booking, BookingDelivery.booking_id == Booking.id)
        .where(BookingDelivery.status == DeliveryStatus.FAILED)
        .limit(LIMIT)
    )
    if own is not None:
        stmt = stmt.where(Booking.channex_property_id.in_(own))
    return [
        FailedDelivery(
            revision_id=rev_id,
            booking_id=b.channex_booking_id,
            sequence=d.sequence,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
        )
        for d, rev_id, b in (await session.execute(stmt)).all()
    ]
