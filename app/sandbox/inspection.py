"""Sandbox-only inspection and control: ARI state, counters, deliveries, faults, reset."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Query

from app.sandbox.deps import StateDep
from app.sandbox.errors import not_found
from app.sandbox.faults import Faults, FaultState
from app.sandbox.jsonapi import Json, success
from app.sandbox.ratelimit import busiest_window

router = APIRouter(prefix="/sandbox")


@router.get("/ari")
async def inspect_ari(state: StateDep, property_id: str = Query()) -> Json:
    """The ARI received for a property: availability per room type, restrictions per rate plan.

    Only cells that some write set are listed; everything else is still at its default.
    """
    store = state.store
    if property_id not in store.properties:
        raise not_found()
    availability = {
        room.id: {d.isoformat(): n for d, n in sorted(store.availability.get(room.id, {}).items())}
        for room in store.room_types.values()
        if room.property_id == property_id
    }
    restrictions = {
        plan.id: {
            d.isoformat(): dict(v) for d, v in sorted(store.restrictions.get(plan.id, {}).items())
        }
        for plan in store.rate_plans.values()
        if plan.property_id == property_id
    }
    data = {"property_id": property_id, "availability": availability, "restrictions": restrictions}
    return {"data": data}


@router.get("/ari/writes")
async def inspect_ari_writes(state: StateDep, property_id: str | None = Query(None)) -> Json:
    """Every ARI write per property and endpoint, refused ones too: arrival times (seconds
    since the sandbox started) and the most that arrived in any rolling Channex minute."""
    data: dict[str, Json] = {}
    for (prop, endpoint), times in sorted(state.store.arrivals.items()):
        if property_id is None or prop == property_id:
            busiest = busiest_window(times, state.scaled(60.0))
            data.setdefault(prop, {})[endpoint] = {"times": times, "busiest_minute": busiest}
    return {"data": data}


@router.get("/stats")
async def inspect_stats(state: StateDep) -> Json:
    """Requests, ARI values (and rejected ones) and 429s per Channex endpoint."""
    return {"data": {name: asdict(c) for name, c in sorted(state.store.counters.items())}}


@router.get("/deliveries")
async def inspect_deliveries(state: StateDep) -> Json:
    """Every webhook attempt made (or dropped by a fault), oldest first."""
    return {"data": list(state.store.deliveries)}


@router.get("/faults")
async def read_faults(state: StateDep) -> Json:
    """The faults in force."""
    return {"data": state.faults.faults.model_dump()}


@router.put("/faults")
async def set_faults(faults: Faults, state: StateDep) -> Json:
    """Replace the faults; their random sources restart from `seed` (else the sandbox seed)."""
    seeded = (
        faults if faults.seed is not None else faults.model_copy(update={"seed": state.config.seed})
    )
    state.faults = FaultState(seeded.seed, seeded)
    return {"data": seeded.model_dump()}


@router.post("/reset")
async def reset_sandbox(state: StateDep) -> Json:
    """Forget all entities, ARI, bookings, counters, faults and pending webhook deliveries."""
    await state.reset()
    return success()
