"""Rows to API answers: the PMS sees its own ids, with Channex ids beside them.

The answer models read a row by attribute (`from_attributes`, aliases in `app/schemas.py`).
A row knows its parents only by our integer foreign keys, so their PMS ids come beside it.
"""

from __future__ import annotations

from typing import TypeVar

from app.models import Organization, Property, RatePlan, RoomType
from app.schemas import OrganizationRead, Page, PropertyRead, RatePlanRead, RoomTypeRead

T = TypeVar("T")


class _WithParents:
    """A row seen together with its parents' PMS ids (`pms_property_id=...`)."""

    def __init__(self, row: object, **pms_ids: str) -> None:
        self._row = row
        vars(self).update(pms_ids)

    def __getattr__(self, name: str) -> object:  # only asked for what __init__ did not set
        return getattr(self._row, name)


def organization_read(org: Organization) -> OrganizationRead:
    return OrganizationRead.model_validate(org)


def property_read(prop: Property, pms_organization_id: str) -> PropertyRead:
    return PropertyRead.model_validate(_WithParents(prop, pms_organization_id=pms_organization_id))


def room_type_read(room_type: RoomType, pms_property_id: str) -> RoomTypeRead:
    return RoomTypeRead.model_validate(_WithParents(room_type, pms_property_id=pms_property_id))


def rate_plan_read(
    rate_plan: RatePlan, pms_property_id: str, pms_room_type_id: str
) -> RatePlanRead:
    scoped = _WithParents(
        rate_plan, pms_property_id=pms_property_id, pms_room_type_id=pms_room_type_id
    )
    return RatePlanRead.model_validate(scoped)


def page_of(items: list[T], total: int, limit: int, offset: int) -> Page[T]:
    """The page envelope: `next_offset` is None once the last item is in."""
    following = offset + len(items)
    return Page[T](
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        next_offset=following if following < total else None,
    )
