"""Properties onboarded in bulk for `ari.py`'s part 3: copies of one onboarded property.

Onboarding through the API costs about 40 requests a property (the property, 10 room types,
30 rate plans, each created in Channex too): an hour for 1,000 properties, none of it the full
syncs that part 3 measures. So one property, p-0, is onboarded through the API, and the others
are its copies, written as onboarding would leave them: the rows of the service's database
(property, room types, rate plans, each with its own Channex id, synced) and the sandbox's
entities under those ids (the sandbox stands for Channex's own database). Nothing the push reads
differs from an onboarded property's: the copies' rows are p-0's with new keys and ids.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import create_engine, create_session_factory
from app.models import Property, RatePlan, RoomType
from app.sandbox import state as sandbox_entities
from app.sandbox.state import SandboxState, new_id

Row = dict[str, Any]


def _columns(obj: Any) -> Row:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


async def _source(session: AsyncSession, pms_id: str) -> tuple[Row, list[Row], list[Row]]:
    prop = (
        await session.execute(select(Property).where(Property.pms_property_id == pms_id))
    ).scalar_one()
    rooms = (
        await session.execute(select(RoomType).where(RoomType.property_id == prop.id))
    ).scalars()
    plans = (
        await session.execute(select(RatePlan).where(RatePlan.property_id == prop.id))
    ).scalars()
    return _columns(prop), [_columns(r) for r in rooms], [_columns(p) for p in plans]


async def _next_id(session: AsyncSession, model: Any) -> int:
    return int((await session.execute(select(func.max(model.id)))).scalar() or 0) + 1


def _sandbox_copy(sandbox: SandboxState, channex_ids: dict[str, str]) -> None:
    """Register the copies' entities in the sandbox: `channex_ids` maps p-0's ids to a copy's."""
    store = sandbox.store
    for source, target in channex_ids.items():
        if (prop := store.properties.get(source)) is not None:
            store.properties[target] = sandbox_entities.Property(
                target, copy.deepcopy(prop.attrs), list(prop.group_ids)
            )
        elif (room := store.room_types.get(source)) is not None:
            store.room_types[target] = sandbox_entities.RoomType(
                target, channex_ids[room.property_id], copy.deepcopy(room.attrs)
            )
        else:
            plan = store.rate_plans[source]
            store.rate_plans[target] = sandbox_entities.RatePlan(
                target,
                channex_ids[plan.property_id],
                channex_ids[plan.room_type_id],
                copy.deepcopy(plan.attrs),
            )


async def clone_properties(
    database_url: str, sandbox: SandboxState, source_pms_id: str, count: int
) -> None:
    """p-1..p-`count`: copies of `source_pms_id`, in the database and in the sandbox."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            prop, rooms, plans = await _source(session, source_pms_id)
            prop_id, room_id, plan_id = [
                await _next_id(session, model) for model in (Property, RoomType, RatePlan)
            ]
            new_props: list[Row] = []
            new_rooms: list[Row] = []
            new_plans: list[Row] = []
            for n in range(1, count + 1):
                ids = {prop["channex_property_id"]: new_id()}
                ids |= {r["channex_room_type_id"]: new_id() for r in rooms}
                ids |= {p["channex_rate_plan_id"]: new_id() for p in plans}
                _sandbox_copy(sandbox, ids)
                pk = prop_id + n - 1
                new_props.append(
                    prop | {"id": pk, "pms_property_id": f"p-{n}", "title": f"p-{n}",
                            "channex_property_id": ids[prop["channex_property_id"]]}
                )  # fmt: skip
                room_pks = {}
                for room in rooms:
                    room_pks[room["id"]] = room_id + len(new_rooms)
                    new_rooms.append(
                        room | {"id": room_pks[room["id"]], "property_id": pk,
                                "channex_room_type_id": ids[room["channex_room_type_id"]]}
                    )  # fmt: skip
                for plan in plans:
                    new_plans.append(
                        plan | {"id": plan_id + len(new_plans), "property_id": pk,
                                "room_type_id": room_pks[plan["room_type_id"]],
                                "channex_rate_plan_id": ids[plan["channex_rate_plan_id"]]}
                    )  # fmt: skip
            for model, rows in (
                (Property, new_props),
                (RoomType, new_rooms),
                (RatePlan, new_plans),
            ):
                for start in range(0, len(rows), 1000):
                    await session.execute(insert(model), rows[start : start + 1000])
            await session.commit()
    finally:
        await engine.dispose()
