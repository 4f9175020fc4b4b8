"""What the console's pages show, read in a few aggregate queries (not one per property), so
that a page stays quick with a thousand properties."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AriCell, Organization, Property, RatePlan, RoomType, SyncRun
from app.models.ari import AVAILABILITY, RESTRICTIONS
from app.services.ari_state import cell_status, read_cells

PAGE_SIZE = 50


@dataclass(frozen=True)
class PropertyRow:
    organization_id: str
    organization_title: str
    property_id: str
    title: str
    sync_status: str
    last_error: str | None
    disconnected: bool
    pending_cells: int
    failed_cells: int
    last_push_outcome: str | None
    last_push_at: datetime | None


@dataclass(frozen=True)
class OverviewPage:
    rows: list[PropertyRow]
    total: int
    page: int
    pages: int


def _cell_counts(property_ids: list[int]) -> Select[int, int, int]:
    """Per property of the page: dirty cells waiting (pending) and those Channex refused
    (failed). Only the page's properties: counted over all of them, the dirty cells of a
    thousand properties were a full scan of ari_cell and most of the page's time."""
    return (
        select(
            AriCell.property_id,
            func.count().label("dirty"),
            func.count(AriCell.failure).label("failed"),  # counts the non-null ones
        )
        .where(AriCell.property_id.in_(property_ids), AriCell.dirty.is_(True))
        .group_by(AriCell.property_id)
    )


def _last_runs(property_ids: list[int]) -> Select[int, int]:
    return (
        select(SyncRun.property_id, func.max(SyncRun.id).label("run_id"))
        .where(SyncRun.property_id.in_(property_ids))
        .group_by(SyncRun.property_id)
    )


def _search(stmt: Select[Property, Organization], q: str) -> Select[Property, Organization]:
    like = f"%{q.lower()}%"
    return stmt.where(
        or_(
            func.lower(Property.pms_property_id).like(like),
            func.lower(Property.title).like(like),
            func.lower(Organization.pms_organization_id).like(like),
            func.lower(Organization.title).like(like),
        )
    )


async def overview(session: AsyncSession, *, q: str = "", page: int = 1) -> OverviewPage:
    base = select(Property, Organization).join(
        Organization, Property.organization_id == Organization.id
    )
    if q:
        base = _search(base, q)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    order = (Organization.pms_organization_id, Property.pms_property_id)
    # The page's properties first, then the counts of those alone (both through indexes).
    shown = base.with_only_columns(Property.id).order_by(*order)
    shown = shown.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ids = list((await session.execute(shown)).scalars())
    cells = _cell_counts(ids).subquery()
    runs = _last_runs(ids).subquery()
    stmt = (
        select(Property, Organization)
        .join(Organization, Property.organization_id == Organization.id)
        .add_columns(cells.c.dirty, cells.c.failed, SyncRun.outcome, SyncRun.started_at)
        .where(Property.id.in_(ids))
        .outerjoin(cells, cells.c.property_id == Property.id)
        .outerjoin(runs, runs.c.property_id == Property.id)
        .outerjoin(SyncRun, SyncRun.id == runs.c.run_id)
        .order_by(*order)
    )
    rows = [
        PropertyRow(
            organization_id=org.pms_organization_id,
            organization_title=org.title,
            property_id=prop.pms_property_id,
            title=prop.title,
            sync_status=prop.sync_status,
            last_error=prop.last_error,
            disconnected=prop.disconnected_at is not None,
            pending_cells=int(dirty or 0) - int(failed or 0),
            failed_cells=int(failed or 0),
            last_push_outcome=outcome,
            last_push_at=started,
        )
        for prop, org, dirty, failed, outcome, started in (await session.execute(stmt)).all()
    ]
    return OverviewPage(rows=rows, total=total, page=page, pages=pages)


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
