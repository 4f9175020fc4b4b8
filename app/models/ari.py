"""ARI tables: the desired state per cell, what Channex last accepted, and each push's record.

A cell is one (property, endpoint, room type or rate plan, date). `desired` is what the PMS
says; `pushed` is what Channex last accepted from us; the fields to send are exactly those
where the two differ. `dirty` marks cells with something to send, so that "what is pending
for this property" is an index lookup, and is recomputed whenever `desired` or `pushed` moves.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime, utcnow

AVAILABILITY = "availability"
RESTRICTIONS = "restrictions"
ENDPOINTS = (AVAILABILITY, RESTRICTIONS)


class AriCell(Base):
    """One cell of the calendar: `entity_id` is room_type.id (availability) or rate_plan.id."""

    __tablename__ = "ari_cell"
    __table_args__ = (Index("ix_ari_cell_pending", "property_id", "dirty"),)

    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stay_date: Mapped[date] = mapped_column(Date, primary_key=True)
    # {field: value}: availability int; rate as a decimal string; rates as [[occupancy, rate]].
    desired: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pushed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped only when `desired` actually changes.
    version: Mapped[int] = mapped_column(Integer, default=1)
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    # Channex's warning for this cell's last push (channex-api.md §6.6), until desired changes.
    failure: Mapped[str | None] = mapped_column(Text)
    # Availability only: Channex lowered it by itself for a new booking (channex-api.md §3),
    # so our older desired value must not go back over it; the PMS's next value releases it.
    held_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The PMS change (ari_change.id) that last changed `desired`: what a run sending the cell
    # carries, and what a later change supersedes. No foreign key: the batch upsert of
    # thousands of cells would check it row by row for a value written just before.
    change_id: Mapped[str | None] = mapped_column(String(32), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AriState(Base):
    """Per-property ARI bookkeeping; its row is also the lock that serializes writers."""

    __tablename__ = "ari_state"

    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"), primary_key=True)
    # A full sync is owed for this endpoint (set by POST /sync, cleared once it is sent).
    full_availability: Mapped[bool] = mapped_column(Boolean, default=False)
    full_restrictions: Mapped[bool] = mapped_column(Boolean, default=False)
    full_sync_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_full_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    # The nightly off-peak work (drift check, optional full sync) last ran at.
    nightly_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The last drift check (nightly over the horizon, or an `ari` webhook's span): when, and
    # how many (cell, field) differed.
    drift_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    drift_differences: Mapped[int | None] = mapped_column(Integer)
    # Dates Channex's `ari` webhook named, still to check (widened by each event, cleared by
    # the check); `drift_pending_at` is the last event's mark, so a check that overlapped a
    # newer event leaves the span for another check.
    drift_pending_from: Mapped[date | None] = mapped_column(Date)
    drift_pending_to: Mapped[date | None] = mapped_column(Date)
    drift_pending_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Bumped by every taking of the lock (every writer of the property's cells takes it): a
    # push that finds it where its own last taking left it knows no one else wrote cells
    # since, so what it read of them still holds and need not be read again (ari_push_known).
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AriChange(Base):
    """One accepted PMS batch (`change_id` in the 202 answer)."""

    __tablename__ = "ari_change"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"), index=True)
    items: Mapped[int] = mapped_column(Integer)
    cells_changed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


FULL_SYNC_STATES = ("queued", "running", "done", "failed")


class FullSync(Base):
    """One full sync owed to a property: queued until a push starts it, running until both
    endpoints went out, then done (or failed: Channex rejected a request or was unavailable).
    At most one is queued per property (requests coalesce into it, under the ARI lock)."""

    __tablename__ = "full_sync"
    __table_args__ = (Index("ix_full_sync_property_state", "property_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SyncRun(Base):
    """One ARI request to Channex (or its failure): what was sent and what Channex said."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_property_newest", "property_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"))
    kind: Mapped[str] = mapped_column(String(16))  # incremental | full | repair
    endpoint: Mapped[str] = mapped_column(String(16))  # availability | restrictions
    outcome: Mapped[str] = mapped_column(String(16))  # success | partial | failed | rate_limited
    cells: Mapped[int] = mapped_column(Integer, default=0)
    values_count: Mapped[int] = mapped_column(Integer, default=0)
    requests_count: Mapped[int] = mapped_column(Integer, default=0)
    bytes_count: Mapped[int] = mapped_column(Integer, default=0)
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    task_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    # The full sync this run belongs to (kind full only).
    full_sync_id: Mapped[int | None] = mapped_column(ForeignKey("full_sync.id"), index=True)


class SyncRunChange(Base):
    """A PMS change a run carried: the change that last set a cell whose value the run sent
    because Channex lacked it. Written in the run's transaction; keyed for lookup by change."""

    __tablename__ = "sync_run_change"

    change_id: Mapped[str] = mapped_column(ForeignKey("ari_change.id"), primary_key=True)
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"), primary_key=True)
