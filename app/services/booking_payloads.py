"""What the PMS receives for a booking, pushed or pulled: one shape for both.

A revision is Channex's snapshot (channex-api.md §7.1) with the PMS's ids added to each room
(`pms_room_type_id`, `pms_rate_plan_id`; null when unmapped, see `flags`) and guest data
decrypted back in place (null once erased); its typed shape is app/schemas_revision.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from cryptography.fernet import MultiFernet
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select

from app.models import Booking, BookingRevision, Organization, Property
from app.schemas_revision import RevisionData, RevisionRead
from app.schemas_revision_examples import BOOKING_EXAMPLES
from app.services.personal_data import decrypt, merge_personal


class BookingRead(BaseModel):
    """A booking's current state (its newest revision) and its history."""

    model_config = ConfigDict(json_schema_extra={"examples": BOOKING_EXAMPLES})

    id: str = Field(description="Channex booking id")
    property_id: str | None = Field(
        description="The PMS id of the property; null if Channex's property is not mapped."
    )
    organization_id: str | None = Field(
        description="The PMS id of the property's organization; null if unmapped."
    )
    channex_property_id: str = Field(description="Channex property id")
    status: str = Field(description="new, modified or cancelled: its newest revision's status.")
    unique_id: str | None = Field(
        description="The OTA's booking reference with its channel prefix (BDC-…), if sent."
    )
    arrival_date: date | None = Field(description="First night (ISO date), if known.")
    departure_date: date | None = Field(description="Check-out day (ISO date), if known.")
    amount: str | None = Field(
        description="The booking's total as a decimal string in `currency`, if known."
    )
    currency: str | None = Field(description="ISO 4217 currency code, if known.")
    current_revision_id: str | None = Field(
        description="Channex id of its newest revision; null before any was stored."
    )
    last_sequence: int = Field(description="The newest revision's `sequence` (1, 2, …).")
    personal_data_erased_at: datetime | None = Field(
        description="When the guest's personal data was erased; null if it was not."
    )
    revisions: list[RevisionRead] = Field(description="Every revision, oldest first.")


RevisionRow = tuple[BookingRevision, Booking, str | None, str | None]
# Property and organization ids are None for a revision of an unknown property (outer joins).
RevisionSelect = Select[BookingRevision, Booking, str, str]


def as_row(row: Sequence[Any]) -> RevisionRow:
    """A result row as a plain tuple (the outer-joined ids may be None)."""
    return (row[0], row[1], row[2], row[3])


def revision_query() -> RevisionSelect:
    """Revisions with their booking and the PMS property and organization ids."""
    return (
        select(BookingRevision, Booking, Property.pms_property_id, Organization.pms_organization_id)
        .join(Booking, BookingRevision.booking_id == Booking.id)
        .outerjoin(Property, Booking.property_id == Property.id)
        .outerjoin(Organization, Property.organization_id == Organization.id)
    )


def revision_read(row: RevisionRow, cipher: MultiFernet | None) -> RevisionRead:
    revision, booking, pms_property_id, pms_org_id = row
    personal = decrypt(cipher, revision.personal_data)
    return RevisionRead(
        id=revision.channex_revision_id,
        booking_id=booking.channex_booking_id,
        property_id=pms_property_id,
        organization_id=pms_org_id,
        channex_property_id=booking.channex_property_id,
        status=revision.status,
        sequence=revision.sequence,
        inserted_at=revision.inserted_at,
        flags=list(revision.flags),
        acked_at=revision.acked_at,
        pulled_at=revision.pulled_at,
        personal_data_erased=booking.personal_data_erased_at is not None,
        revision=RevisionData.model_validate(merge_personal(revision.data, personal)),
    )


def booking_read(
    booking: Booking,
    pms_property_id: str | None,
    pms_org_id: str | None,
    revisions: list[RevisionRead],
) -> BookingRead:
    return BookingRead(
        id=booking.channex_booking_id,
        property_id=pms_property_id,
        organization_id=pms_org_id,
        channex_property_id=booking.channex_property_id,
        status=booking.status,
        unique_id=booking.unique_id,
        arrival_date=booking.arrival_date,
        departure_date=booking.departure_date,
        amount=booking.amount,
        currency=booking.currency,
        current_revision_id=booking.current_revision_id,
        last_sequence=booking.last_sequence,
        personal_data_erased_at=booking.personal_data_erased_at,
        revisions=revisions,
    )
