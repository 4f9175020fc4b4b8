"""Booking tables: the webhook inbox, bookings and their revisions, quarantine, and delivery
to the PMS. Channex ids are the natural keys (`channex_*_id`); our integer ids give the
stable order of the pull feed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime, utcnow


class EventStatus(StrEnum):
    """Where a received webhook stands."""

    PENDING = "pending"  # stored, a job will process it
    DONE = "done"  # processed
    IGNORED = "ignored"  # Channex test message or an event we do not act on
    MALFORMED = "malformed"  # not a JSON object with an event name; kept for inspection
    ALARM = "alarm"  # non_acked_booking: Channex says a revision stayed unacked 30 min
    FAILED = "failed"  # could not be processed (e.g. Channex has no such revision)


class RevisionFlag(StrEnum):
    """Problems a stored revision carries; listed by the problems API."""

    UNKNOWN_PROPERTY = "unknown_property"
    UNMAPPED_ROOM_TYPE = "unmapped_room_type"
    UNMAPPED_RATE_PLAN = "unmapped_rate_plan"
    OVERBOOKING = "overbooking"
    STALE = "stale"  # older than the booking's applied state; kept, never delivered


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the retry schedule is exhausted; replay by API


class WebhookEvent(Base):
    """The inbox: every Channex webhook call, stored before it is answered."""

    __tablename__ = "webhook_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Booking events: the revision id (all booking* events of one revision are one event);
    # others: sha256 of the body. A duplicate delivery hits this key and is stored once.
    dedup_key: Mapped[str] = mapped_column(String(80), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    channex_property_id: Mapped[str | None] = mapped_column(String(64))
    channex_revision_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.PENDING, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Booking(Base):
    """The latest applied state of a Channex booking."""

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channex_booking_id: Mapped[str] = mapped_column(String(64), unique=True)
    channex_property_id: Mapped[str] = mapped_column(String(64))
    # None: a property channel-sync does not know (flagged on the revision).
    property_id: Mapped[int | None] = mapped_column(ForeignKey("property.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    unique_id: Mapped[str | None] = mapped_column(String(80))
    arrival_date: Mapped[date | None] = mapped_column(Date)
    departure_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str | None] = mapped_column(String(3))
    # The newest applied revision; an older one arriving later never replaces it.
    current_revision_id: Mapped[str | None] = mapped_column(String(64))
    current_inserted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class BookingRevision(Base):
    """One Channex revision as received; guest data only encrypted, in `personal_data`."""

    __tablename__ = "booking_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channex_revision_id: Mapped[str] = mapped_column(String(64), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    inserted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Position in the booking's delivered history (1, 2, ...); None for a stale revision.
    sequence: Mapped[int | None] = mapped_column(Integer)
    # Position in the pull feed, taken under one counter lock so commit order = feed order.
    feed_position: Mapped[int | None] = mapped_column(Integer, unique=True)
    # The revision's attributes without guest data, rooms enriched with PMS ids.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    personal_data: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pulled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class FeedCounter(Base):
    """One row per counter; `booking_feed` orders the pull feed."""

    __tablename__ = "feed_counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class QuarantinedRevision(Base):
    """A revision that could not be applied: acked (so Channex stops), kept to re-apply."""

    __tablename__ = "quarantined_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channex_revision_id: Mapped[str] = mapped_column(String(64), unique=True)
    channex_booking_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channex_property_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    # The whole revision, encrypted (it holds guest data).
    payload: Mapped[str | None] = mapped_column(Text)
    quarantined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PmsEndpoint(Base):
    """Where revisions are pushed: one per organization, or the global one from settings."""

    __tablename__ = "pms_endpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "global", or "org:<organization.id>"
    scope: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # While failing, the earliest time of the next probe (app/services/delivery_probe.py):
    # spaces probes across workers and replicas, and keeps a PMS's Retry-After.
    next_probe_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Subscribed to `channel.state_changed` too (PUT booking-endpoint); the global one never.
    channel_events: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class BookingDelivery(Base):
    """One revision to one endpoint; the database drives the push and its retries."""

    __tablename__ = "booking_delivery"
    __table_args__ = (
        UniqueConstraint("revision_id", "endpoint_id"),
        Index("ix_booking_delivery_due", "status", "next_attempt_at"),
        # A booking's deliveries to an endpoint in order: what decides which one is next
        # (delivery.next_of_its_booking); it also serves lookups by endpoint alone.
        Index("ix_booking_delivery_endpoint_booking", "endpoint_id", "booking_id", "sequence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The stable `webhook-id`: the same on every retry and replay.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("booking_revision.id"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("pms_endpoint.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Held by the sender while its POST is in flight (app/services/delivery.py claim): a
    # booking's job, a probe and a drain never send the same revision at once.
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set while a recovery of the endpoint has brought the next try forward: the try its
    # schedule had set. Such an early try that fails is not counted (app/services/delivery.py
    # record_failure), as a failed probe is not.
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ChannelDelivery(Base):
    """One `channel.state_changed` to one endpoint: the state as it was at the change (`data`),
    sent in `sequence` order per channel, retried like a booking delivery."""

    __tablename__ = "channel_delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "endpoint_id", "sequence"),
        Index("ix_channel_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("pms_endpoint.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BookingMarker(Base):
    """When periodic booking work last ran (reconciliation, webhook check), and when the last
    webhook check failed (`webhook:failed`, present only until one succeeds)."""

    __tablename__ = "booking_marker"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
