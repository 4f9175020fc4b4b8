"""What the console's pages show, read in a few aggregate queries (not one per property), so
that a page stays quick with a thousand properties."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models import (
    AriCell,
    AriState,
    Channel,
    Organization,
    Property,
    RatePlan,
    RoomType,
    SyncRun,
)
from app.models.ari import AVAILABILITY, RESTRICTIONS
from app.services.ari_state import cell_status, read_cells

PAGE_SIZE = 50


AnySelect = Select[*tuple[Any, ...]]
Figures = dict[int, tuple[Any, ...]]  # property pk → the rest of a grouped row

# The 429s column looks back this far.
RATE_LIMIT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class PropertyRow:
    organization_id: str
    organization_title: str
    organization_status: str
    property_id: str
    title: str
    sync_status: str
    last_error: str | None
    disconnected: bool
    pending_cells: int
    failed_cells: int
    last_push_outcome: str | None
    last_push_at: datetime | None
    # The last drift check's (cell, field) differences and when it ran; None: never checked.
    drift_differences: int | None
    drift_checked_at: datetime | None
    active_channels: int
    channels: int
    # ARI requests Channex answered 429 within RATE_LIMIT_WINDOW (their sync runs).
    rate_limited: int


@dataclass(frozen=True)
class OverviewPage:
    rows: list[PropertyRow]
    total: int
    page: int
    pages: int
    organizations: dict[str, int]  # sync status → organizations, those without property too


def _search(stmt: AnySelect, q: str) -> AnySelect:
    like = f"%{q.lower()}%"
    return stmt.where(
        or_(
            func.lower(Property.pms_property_id).like(like),
            func.lower(Property.title).like(like),
            func.lower(Organization.pms_organization_id).like(like),
            func.lower(Organization.title).like(like),
        )
    )


async def _grouped(session: AsyncSession, stmt: AnySelect) -> Figures:
    """{property pk: the rest of the row} of a query whose first column is the property."""
    return {row[0]: tuple(row[1:]) for row in (await session.execute(stmt)).all()}


async def _figures(session: AsyncSession, pks: list[int]) -> dict[str, Figures]:
    """One grouped query per figure, each over the page's properties only (never one query
    per property, never the whole table)."""
    cells = (
        select(
            AriCell.property_id,
            func.count().label("dirty"),
            func.count(AriCell.failure).label("failed"),  # counts the non-null ones
        )
        .where(AriCell.property_id.in_(pks), AriCell.dirty.is_(True))
        .group_by(AriCell.property_id)
    )
    newest = (
        select(func.max(SyncRun.id))
        .where(SyncRun.property_id.in_(pks))
        .group_by(SyncRun.property_id)
        .scalar_subquery()
    )
    runs = select(SyncRun.property_id, SyncRun.outcome, SyncRun.started_at).where(
        SyncRun.id.in_(newest)
    )
    channels = (
        select(
            Channel.property_id,
            func.count(),
            func.count(case((Channel.is_active.is_(True), 1))),
        )
        .where(Channel.property_id.in_(pks))
        .group_by(Channel.property_id)
    )
    limited = (
        select(SyncRun.property_id, func.count())
        .where(
            SyncRun.property_id.in_(pks),
            SyncRun.outcome == "rate_limited",
            SyncRun.started_at >= utcnow() - RATE_LIMIT_WINDOW,
        )
        .group_by(SyncRun.property_id)
    )
    statements = {"cells": cells, "runs": runs, "channels": channels, "limited": limited}
    return {name: await _grouped(session, stmt) for name, stmt in statements.items()}


async def overview(session: AsyncSession, *, q: str = "", page: int = 1) -> OverviewPage:
    base = (
        select(Property, Organization, AriState.drift_differences, AriState.drift_checked_at)
        .join(Organization, Property.organization_id == Organization.id)
        .outerjoin(AriState, AriState.property_id == Property.id)
    )
    if q:
        base = _search(base, q)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    stmt = (
        base.order_by(Organization.pms_organization_id, Property.pms_property_id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    found = (await session.execute(stmt)).all()
    figures = await _figures(session, [prop.id for prop, *_ in found]) if found else {}
    rows = [_row(prop, org, diffs, checked, figures) for prop, org, diffs, checked in found]
    orgs = select(Organization.sync_status, func.count()).group_by(Organization.sync_status)
    organizations = {status: int(n) for status, n in (await session.execute(orgs)).all()}
    return OverviewPage(rows=rows, total=total, page=page, pages=pages, organizations=organizations)


def _row(
    prop: Property,
    org: Organization,
    drift_differences: int | None,
    drift_checked_at: datetime | None,
    figures: dict[str, Figures],
) -> PropertyRow:
    dirty, failed = figures["cells"].get(prop.id, (0, 0))
    outcome, started = figures["runs"].get(prop.id, (None, None))
    channels, active = figures["channels"].get(prop.id, (0, 0))
    (limited,) = figures["limited"].get(prop.id, (0,))
    return PropertyRow(
        organization_id=org.pms_organization_id,
        organization_title=org.title,
        organization_status=org.sync_status,
        property_id=prop.pms_property_id,
        title=prop.title,
        sync_status=prop.sync_status,
        last_error=prop.last_error,
        disconnected=prop.disconnected_at is not None,
        pending_cells=int(dirty) - int(failed),
        failed_cells=int(failed),
        last_push_outcome=outcome,
        last_push_at=started,
        drift_differences=drift_differences,
        drift_checked_at=drift_checked_at,
        active_channels=int(active),
        channels=int(channels),
        rate_limited=int(limited),
    )


@dataclass(frozen=True)
class GridCell:
    status: str  # in_sync | pending | failed | held | empty
    desired: str  # shown on hover
    failure: str | None


@dataclass(frozen=True)
class GridRow:
    kind: str
    title: str
    cells: list[GridCell]


EMPTY = GridCell("empty", "", None)


async def ari_grid(
    session: AsyncSession, property_pk: int, date_from: date, days: int
) -> tuple[list[date], list[GridRow]]:
    """The property's calendar: a row per room type (availability) and rate plan
    (restrictions), a column per date, each cell with its state."""
    dates = [date_from + timedelta(days=n) for n in range(days)]
    titles = await _entity_titles(session, property_pk)
    found: dict[tuple[str, int], dict[date, GridCell]] = {key: {} for key in titles}
    for cell in await read_cells(session, property_pk, dates[0], dates[-1]):
        desired = json.dumps(cell.desired, sort_keys=True)
        shown = GridCell(cell_status(cell), desired, cell.failure)
        found.setdefault((cell.kind, cell.entity_id), {})[cell.stay_date] = shown
    rows = [
        GridRow(
            kind, titles.get((kind, entity), f"#{entity}"), [by_date.get(d, EMPTY) for d in dates]
        )
        for (kind, entity), by_date in found.items()
    ]
    return dates, rows


async def _entity_titles(session: AsyncSession, property_pk: int) -> dict[tuple[str, int], str]:
    rooms = select(RoomType.id, RoomType.title).where(RoomType.property_id == property_pk)
    rates = select(RatePlan.id, RatePlan.title).where(RatePlan.property_id == property_pk)
    titles = {(AVAILABILITY, pk): t for pk, t in (await session.execute(rooms)).all()}
    titles |= {(RESTRICTIONS, pk): t for pk, t in (await session.execute(rates)).all()}
    return titles
