"""ARI: desired availability, rates and restrictions; full syncs; the record of each push."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

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
from app.models import AriCell, FullSync, SyncRun
from app.schemas import Page
from app.schemas_ari import (
    AriAccepted,
    AriBatch,
    AriCellRead,
    AriChangeCells,
    AriChangeRead,
    AriStateRead,
    DriftCellRead,
    DriftRead,
    FullSyncRead,
    SyncRunRead,
)
from app.services import ari_changes, ari_drift, ari_full_syncs, ari_runs, ari_state
from app.services.ari_mappings import Mappings
from app.services.properties import get_property
from app.services.room_types import require_synced_property

router = APIRouter(prefix="/v1/properties/{property_id}", tags=["ari"])

From = Annotated[date, Query(alias="from", description="First date (inclusive)")]
To = Annotated[date, Query(alias="to", description="Last date (inclusive)")]
RunId = Annotated[int, Path(description="The sync run's id", ge=1, le=MAX_INT)]
FullSyncId = Annotated[int, Path(description="The full sync's id", ge=1, le=MAX_INT)]
ChangeId = Annotated[str, Path(description="`change_id` from POST /ari", pattern=r"^[0-9a-f]{32}$")]
LOCATION = {"Location": {"description": "Where to follow it", "schema": {"type": "string"}}}


@router.post(
    "/ari",
    status_code=202,
    response_model=AriAccepted,
    responses={202: {"headers": LOCATION}},
    summary="Push availability, rates and restrictions",
)
async def post_ari(
    property_id: PropertyId,
    body: AriBatch,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
    response: Response,
) -> AriAccepted:
    """Store a batch of ARI changes (all or nothing); Channex gets them in the background."""
    prop, change = await ari_state.apply_changes(session, principal, property_id, body)
    await session.commit()
    response.headers["Location"] = f"/v1/properties/{property_id}/ari/changes/{change.id}"
    if change.cells_changed:
        # No wait by default: the push takes the endpoint's slot at once if it is free, and
        # the limiter defers it to the slot otherwise (app/jobs/ari.py).
        debounce = resources.settings.ari_push_debounce_seconds
        await request_push(resources.queue, prop.id, defer=debounce or None)
    return AriAccepted(change_id=change.id, cells_changed=change.cells_changed)


@router.get("/ari", response_model=AriStateRead, summary="Read the desired ARI and its sync status")
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


@router.post(
    "/sync",
    status_code=202,
    response_model=FullSyncRead,
    responses={202: {"headers": LOCATION}},
    summary="Start a full sync of a property",
)
async def full_sync(
    property_id: PropertyId,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
    response: Response,
) -> FullSyncRead:
    """Send the whole horizon again; answers the full sync started, or the queued one joined."""
    prop, _ = await get_property(session, principal, property_id)
    require_synced_property(prop)
    owed = await ari_full_syncs.request_full_sync(session, prop.id)
    await session.commit()
    await request_push(resources.queue, prop.id, full=True)
    runs = await ari_full_syncs.list_full_sync_runs(session, owed.id)
    response.headers["Location"] = f"/v1/properties/{property_id}/full-syncs/{owed.id}"
    return _full_sync_read(property_id, owed, runs)


@router.get("/full-syncs/{full_sync_id}", response_model=FullSyncRead, summary="Follow a full sync")
async def get_full_sync(
    property_id: PropertyId, full_sync_id: FullSyncId, session: SessionDep, principal: PrincipalDep
) -> FullSyncRead:
    """A full sync: queued, running, done or failed, and the sync runs it produced."""
    owed, runs = await ari_full_syncs.get_full_sync(session, principal, property_id, full_sync_id)
    return _full_sync_read(property_id, owed, runs)


@router.get(
    "/ari/changes/{change_id}",
    response_model=AriChangeRead,
    summary="Follow an ARI change to Channex",
)
async def get_ari_change(
    property_id: PropertyId, change_id: ChangeId, session: SessionDep, principal: PrincipalDep
) -> AriChangeRead:
    """What became of an accepted batch's cells, and the sync runs that carried them."""
    trace = await ari_changes.trace_change(session, principal, property_id, change_id)
    change = trace.change
    return AriChangeRead(
        change_id=change.id, property_id=property_id, created_at=change.created_at,
        items=change.items, cells_changed=change.cells_changed, state=trace.state,
        cells=AriChangeCells(**trace.cells), runs=[_run_read(run) for run in trace.runs],
    )  # fmt: skip


@router.get(
    "/sync-runs", response_model=Page[SyncRunRead], summary="List the sync runs of a property"
)
async def list_sync_runs(
    property_id: PropertyId, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[SyncRunRead]:
    """What each ARI request sent and what Channex answered, newest first."""
    runs, total = await ari_runs.list_runs(
        session, principal, property_id, limit=page.limit, offset=page.offset
    )
    return page_of([_run_read(run) for run in runs], total, page.limit, page.offset)


@router.get("/sync-runs/{run_id}", response_model=SyncRunRead, summary="Get a sync run")
async def get_sync_run(
    property_id: PropertyId, run_id: RunId, session: SessionDep, principal: PrincipalDep
) -> SyncRunRead:
    """One sync run."""
    return _run_read(await ari_runs.get_run(session, principal, property_id, run_id))


@router.get(
    "/drift", response_model=DriftRead, summary="Compare Channex's ARI with what was pushed"
)
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


@router.post(
    "/drift/repair",
    response_model=DriftRead,
    summary="Repair drift: push the differing cells again",
)
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


def _full_sync_read(property_id: str, owed: FullSync, runs: Sequence[SyncRun]) -> FullSyncRead:
    return FullSyncRead(
        id=owed.id, property_id=property_id, state=owed.state,
        requested_at=owed.requested_at, started_at=owed.started_at,
        finished_at=owed.finished_at, runs=[_run_read(run) for run in runs],
    )  # fmt: skip


def _run_read(run: SyncRun) -> SyncRunRead:
    return SyncRunRead.model_validate(run, from_attributes=True)
