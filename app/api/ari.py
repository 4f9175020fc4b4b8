"""ARI: desired availability, rates and restrictions; full syncs; the record of each push."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api.deps import (
    PageDep,
    PrincipalDep,
    PropertyId,
    RequiredChannexDep,
    ResourcesDep,
    SessionDep,
)
from app.api.views import page_of
from app.db import MAX_INT
from app.jobs.requests import request_push
from app.models import AriCell, SyncRun
from app.schemas import Page
from app.schemas_ari import (
    AriAccepted,
    AriBatch,
    AriCellRead,
    AriStateRead,
    DriftCellRead,
    DriftRead,
    FullSyncAccepted,
    SyncRunRead,
)
from app.services import ari_drift, ari_runs, ari_state
from app.services.ari_mappings import Mappings
from app.services.ari_push import request_full_sync
from app.services.properties import get_property
from app.services.room_types import require_synced_property

router = APIRouter(prefix="/v1/properties/{property_id}", tags=["ari"])

From = Annotated[date, Query(alias="from", description="First date (inclusive)")]
To = Annotated[date, Query(alias="to", description="Last date (inclusive)")]
RunId = Annotated[int, Path(description="The sync run's id", ge=1, le=MAX_INT)]


@router.post("/ari", status_code=202, response_model=AriAccepted)
async def post_ari(
    property_id: PropertyId,
    body: AriBatch,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> AriAccepted:
    """Store a batch of ARI changes (all or nothing); Channex gets them in the background."""
    prop, change = await ari_state.apply_changes(session, principal, property_id, body)
    await session.commit()
    if change.cells_changed:
        # No wait by default: the push takes the endpoint's slot at once if it is free, and
        # the limiter defers it to the slot otherwise (app/jobs/ari.py).
        debounce = resources.settings.ari_push_debounce_seconds
        await request_push(resources.queue, prop.id, defer=debounce or None)
    return AriAccepted(change_id=change.id, cells_changed=change.cells_changed)


@router.get("/ari", response_model=AriStateRead)
async def get_ari(
    property_id: PropertyId,
    date_from: From,
    date_to: To,
    session: SessionDep,
    principal: PrincipalDep,
) -> AriStateRead:
    """Desired ARI per cell on those dates, and whether Channex has it yet."""
    mappings, cells = await ari_state.read_state(
        session, principal, property_id, date_from, date_to
    )
    items = [_cell_read(mappings, cell) for cell in cells]
    return AriStateRead(property_id=property_id, date_from=date_from, date_to=date_to, cells=items)


@router.post("/sync", status_code=202, response_model=FullSyncAccepted)
async def full_sync(
    property_id: PropertyId, session: SessionDep, principal: PrincipalDep, resources: ResourcesDep
) -> FullSyncAccepted:
    """Send the whole horizon again: one availability and one restrictions request."""
    prop, _ = await get_property(session, principal, property_id)
    require_synced_property(prop)
    state = await request_full_sync(session, prop.id)
    await session.commit()
    await request_push(resources.queue, prop.id, full=True)
    assert state.full_sync_requested_at is not None  # just set
    return FullSyncAccepted(property_id=property_id, requested_at=state.full_sync_requested_at)


@router.get("/sync-runs", response_model=Page[SyncRunRead])
async def list_sync_runs(
    property_id: PropertyId, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[SyncRunRead]:
    """What each ARI request sent and what Channex answered, newest first."""
    runs, total = await ari_runs.list_runs(
        session, principal, property_id, limit=page.limit, offset=page.offset
    )
    return page_of([_run_read(run) for run in runs], total, page.limit, page.offset)


@router.get("/sync-runs/{run_id}", response_model=SyncRunRead)
async def get_sync_run(
    property_id: PropertyId, run_id: RunId, session: SessionDep, principal: PrincipalDep
) -> SyncRunRead:
    """One sync run."""
    return _run_read(await ari_runs.get_run(session, principal, property_id, run_id))


@router.get("/drift", response_model=DriftRead)
async def get_drift(
    property_id: PropertyId,
    date_from: From,
    date_to: To,
    session: SessionDep,
    principal: PrincipalDep,
    channex: RequiredChannexDep,
) -> DriftRead:
    """Read Channex's ARI back and list the cells that differ from what we last pushed."""
    drift = await ari_drift.check_drift(
        session, channex, principal, property_id, date_from, date_to
    )
    return _drift_read(property_id, drift)


@router.post("/drift/repair", response_model=DriftRead)
async def repair_drift(
    property_id: PropertyId,
    date_from: From,
    date_to: To,
    session: SessionDep,
    principal: PrincipalDep,
    channex: RequiredChannexDep,
    resources: ResourcesDep,
) -> DriftRead:
    """Check drift and queue a push of exactly the differing cells (never a full sync)."""
    drift = await ari_drift.check_drift(
        session, channex, principal, property_id, date_from, date_to, repair=True
    )
    await session.commit()
    if drift.differences:
        await request_push(resources.queue, drift.prop.id)
    return _drift_read(property_id, drift)


def _drift_read(property_id: str, drift: ari_drift.Drift) -> DriftRead:
    differences = []
    for d in drift.differences:
        room_type_id, rate_plan_id = drift.mappings.pms_ids(d.kind, d.entity_pk)
        differences.append(
            DriftCellRead.model_validate(
                {
                    "type": d.kind,
                    "room_type_id": room_type_id,
                    "rate_plan_id": rate_plan_id,
                    "date": d.day,
                    "field": d.field,
                    "pushed": d.pushed,
                    "channex": d.channex,
                }
            )
        )
    return DriftRead(
        property_id=property_id, date_from=drift.date_from, date_to=drift.date_to,
        checked_cells=drift.checked_cells, differences=differences, repaired=drift.repaired,
    )  # fmt: skip


def _cell_read(mappings: Mappings, cell: AriCell) -> AriCellRead:
    room_type_id, rate_plan_id = mappings.pms_ids(cell.kind, cell.entity_id)
    return AriCellRead.model_validate(
        {
            "type": cell.kind,
            "room_type_id": room_type_id,
            "rate_plan_id": rate_plan_id,
            "date": cell.stay_date,
            "desired": cell.desired,
            "status": ari_state.cell_status(cell),
            "failure": cell.failure,
        }
    )


def _run_read(run: SyncRun) -> SyncRunRead:
    return SyncRunRead.model_validate(run, from_attributes=True)
