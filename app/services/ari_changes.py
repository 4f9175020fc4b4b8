"""A PMS change (`change_id`) followed to Channex: what became of each cell it changed, and
the sync runs (with Channex's task ids) that carried it.

A cell belongs to the change that last changed its desired value (`ari_cell.change_id`); the
cells a change changed that now belong to a later one are superseded: Channex is owed the
later value, not this one. Runs are linked to the changes whose values they sent
(`sync_run_change`, written with the run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import not_found
from app.models import AriCell, AriChange, SyncRun, SyncRunChange
from app.services.access import Principal
from app.services.ari_state import status_of
from app.services.properties import get_property

CELL_STATES = ("in_sync", "pending", "held", "failed", "superseded")


@dataclass(frozen=True)
class ChangeTrace:
    change: AriChange
    state: str
    cells: dict[str, int]  # per CELL_STATES
    runs: Sequence[SyncRun]


async def trace_change(
    session: AsyncSession, principal: Principal, pms_property_id: str, change_id: str
) -> ChangeTrace:
    """The change's cells by state and its runs, oldest first; 404 for another property's."""
    prop, _ = await get_property(session, principal, pms_property_id)
    change = await session.get(AriChange, change_id)
    if change is None or change.property_id != prop.id:
        raise not_found("ARI change", change_id)
    stmt = select(AriCell.desired, AriCell.pushed, AriCell.failure, AriCell.held_at).where(
        AriCell.property_id == prop.id, AriCell.change_id == change_id
    )
    rows = (await (await session.connection()).execute(stmt)).all()
    counts = Counter(status_of(*row) for row in rows)
    counts["superseded"] = change.cells_changed - len(rows)
    cells = {name: counts[name] for name in CELL_STATES}
    return ChangeTrace(change, change_state(cells), cells, await _runs(session, change_id))


def change_state(cells: dict[str, int]) -> str:
    """The change as a whole: superseded once no cell holds its value any more; else the
    worst of its own cells (failed, then pending, then held); in_sync when Channex has all."""
    owned = sum(n for name, n in cells.items() if name != "superseded")
    if owned == 0 and cells["superseded"] > 0:
        return "superseded"
    return next((name for name in ("failed", "pending", "held") if cells[name]), "in_sync")


async def _runs(session: AsyncSession, change_id: str) -> Sequence[SyncRun]:
    stmt = (
        select(SyncRun)
        .join(SyncRunChange, SyncRunChange.sync_run_id == SyncRun.id)
        .where(SyncRunChange.change_id == change_id)
        .order_by(SyncRun.id)
    )
    return (await session.execute(stmt)).scalars().all()
