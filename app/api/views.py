"""Rows to API answers: the PMS sees its own ids, with Channex ids beside them."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from app.models import Organization, Property, RatePlan, RoomType
from app.schemas import (
    OrganizationRead,
    Page,
    PropertyRead,
    RatePlanOptionRead,
    RatePlanRead,
    RoomTypeRead,
)

T = TypeVar("T")


def _sync_fields(row: Organization | Property | RoomType | RatePlan) -> dict[str, object]:
    return {
        "sync_status": row.sync_status,
        "last_error": row.last_error,
        "synced_at": row.synced_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def organization_read(org: Organization) -> OrganizationRead:
    return OrganizationRead.model_validate(
        {
            "id": org.pms_organization_id,
            "title": org.title,
            "channex_group_id": org.channex_group_id,
            "disconnected_at": org.disconnected_at,
            **_sync_fields(org),
        }
    )


def property_read(prop: Property, pms_organization_id: str) -> PropertyRead:
    return PropertyRead.model_validate(
        {
            "id": prop.pms_property_id,
            "organization_id": pms_organization_id,
            "title": prop.title,
            "currency": prop.currency,
            "timezone": prop.timezone,
            "state_length": prop.state_length,
            "details": prop.details,
            "channex_property_id": prop.channex_property_id,
            "disconnected_at": prop.disconnected_at,
            **_sync_fields(prop),
        }
    )


def room_type_read(room_type: RoomType, pms_property_id: str) -> RoomTypeRead:
    return RoomTypeRead.model_validate(
        {
            "id": room_type.pms_room_type_id,
            "property_id": pms_property_id,
            "title": room_type.title,
            "count_of_rooms": room_type.count_of_rooms,
            "occ_adults": room_type.occ_adults,
            "occ_children": room_type.occ_children,
            "occ_infants": room_type.occ_infants,
            "default_occupancy": room_type.default_occupancy,
            "room_kind": room_type.room_kind,
            "channex_room_type_id": room_type.channex_room_type_id,
            **_sync_fields(room_type),
        }
    )


def rate_plan_read(
    rate_plan: RatePlan, pms_property_id: str, pms_room_type_id: str
) -> RatePlanRead:
    options = [
        RatePlanOptionRead(
            occupancy=o["occupancy"], is_primary=o["is_primary"], rate=Decimal(o["rate"])
        )
        for o in rate_plan.options
    ]
    return RatePlanRead.model_validate(
        {
            "id": rate_plan.pms_rate_plan_id,
            "property_id": pms_property_id,
            "room_type_id": pms_room_type_id,
            "title": rate_plan.title,
            "sell_mode": rate_plan.sell_mode,
            "currency": rate_plan.currency,
            "meal_type": rate_plan.meal_type,
            "options": options,
            "channex_rate_plan_id": rate_plan.channex_rate_plan_id,
            **_sync_fields(rate_plan),
        }
    )


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
