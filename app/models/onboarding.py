"""Onboarding tables. The PMS addresses everything by its own ids (`pms_*_id`);
Channex ids (`channex_*_id`) are stored beside them once known."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime, utcnow


class SyncStatus(StrEnum):
    """Where an onboarded entity stands with its Channex twin."""

    PENDING = "pending"  # stored here, not yet confirmed in Channex
    SYNCED = "synced"  # Channex holds what we last sent
    ERROR = "error"  # the last attempt failed; `last_error` says why, the sweep retries
    MISSING = "missing"  # a refresh found the Channex side gone


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class _SyncState:
    sync_status: Mapped[str] = mapped_column(String(16), default=SyncStatus.PENDING)
    last_error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Organization(_Timestamps, _SyncState, Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pms_organization_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    channex_group_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Disconnect keeps the row and its history; a later PUT reconnects it.
    disconnected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Property(_Timestamps, _SyncState, Base):
    __tablename__ = "property"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    pms_property_id: Mapped[str] = mapped_column(String(64), unique=True)
    channex_property_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    state_length: Mapped[int] = mapped_column(Integer, default=500)
    # The rest of the PMS's description (country, address, contact...), sent as given.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    disconnected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RoomType(_Timestamps, _SyncState, Base):
    __tablename__ = "room_type"
    __table_args__ = (UniqueConstraint("property_id", "pms_room_type_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"), index=True)
    pms_room_type_id: Mapped[str] = mapped_column(String(64))
    channex_room_type_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    count_of_rooms: Mapped[int] = mapped_column(Integer)
    occ_adults: Mapped[int] = mapped_column(Integer)
    occ_children: Mapped[int] = mapped_column(Integer, default=0)
    occ_infants: Mapped[int] = mapped_column(Integer, default=0)
    default_occupancy: Mapped[int] = mapped_column(Integer)
    room_kind: Mapped[str] = mapped_column(String(8), default="room")


class RatePlan(_Timestamps, _SyncState, Base):
    __tablename__ = "rate_plan"
    __table_args__ = (UniqueConstraint("room_type_id", "pms_rate_plan_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"), index=True)
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_type.id"), index=True)
    pms_rate_plan_id: Mapped[str] = mapped_column(String(64))
    channex_rate_plan_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    sell_mode: Mapped[str] = mapped_column(String(16), default="per_room")
    meal_type: Mapped[str | None] = mapped_column(String(40))
    # [{"occupancy": 2, "is_primary": true, "rate": "100.00"}], as the PMS sent it.
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class Channel(_Timestamps, Base):
    """An OTA connection of a property, as Channex last reported it."""

    __tablename__ = "channel"
    # One Channex channel can serve several properties; we keep a row per property.
    __table_args__ = (UniqueConstraint("property_id", "channex_channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"), index=True)
    channex_channel_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=False)
    # The connection state the PMS shows (app/domain/channel_state.py derives it from the
    # facts below; it is stored so that a change of it can be told, and delivered).
    state: Mapped[str] = mapped_column(String(20), default="pending")
    state_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ever_live: Mapped[bool] = mapped_column(default=False)
    last_event: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    removal_warning: Mapped[bool] = mapped_column(default=False)
    hotel_id: Mapped[str | None] = mapped_column(String(64))  # Channex `settings.hotel_id`
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Sequence of the last `channel.state_changed` delivery: the PMS gets them in order.
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # The last go-live: its full ARI sync (the full_sync row) and the import of the OTA's
    # existing bookings (requested | sent | failed; Channex reports no count, see docs).
    went_live_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    full_sync_id: Mapped[int | None] = mapped_column(ForeignKey("full_sync.id"))
    import_state: Mapped[str | None] = mapped_column(String(16))
    import_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    import_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    import_error: Mapped[str | None] = mapped_column(Text)
