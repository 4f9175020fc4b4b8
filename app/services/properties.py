"""Onboarding of PMS properties as Channex properties inside the organization's group."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.schemas import Property as ChannexProperty
from app.channex.schemas import PropertyAttributes, PropertySettings
from app.db import utcnow
from app.errors import AppError, FieldError, conflict, not_found
from app.models import Organization, Property, SyncStatus
from app.schemas import PropertyPut
from app.services.access import Principal, check_organization
from app.services.mapped_entity import (
    ChannexCalls,
    MappedEntity,
    Put,
    Quota,
    Quotas,
    copy_values,
)
from app.services.organizations import get_organization

log = logging.getLogger(__name__)


async def find_property(session: AsyncSession, pms_property_id: str) -> tuple[Property, str] | None:
    """The property and its PMS organization id."""
    stmt = (
        select(Property, Organization.pms_organization_id)
        .join(Organization, Property.organization_id == Organization.id)
        .where(Property.pms_property_id == pms_property_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1])


async def get_property(
    session: AsyncSession, principal: Principal, pms_property_id: str
) -> tuple[Property, str]:
    """The property if the caller may see it, else 404 (also for another org's property)."""
    found = await find_property(session, pms_property_id)
    if found is None or not principal.can_see(found[1]):
        raise not_found("property", pms_property_id)
    return found


async def list_properties(
    session: AsyncSession,
    principal: Principal,
    *,
    organization_id: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[tuple[Property, str]], int]:
    stmt = select(Property, Organization.pms_organization_id).join(
        Organization, Property.organization_id == Organization.id
    )
    for org_filter in (principal.organization_id, organization_id):
        if org_filter is not None:
            stmt = stmt.where(Organization.pms_organization_id == org_filter)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(stmt.order_by(Property.id).limit(limit).offset(offset))
    return [(row[0], row[1]) for row in rows.all()], total


async def prepare_property_put(
    session: AsyncSession,
    principal: Principal,
    pms_property_id: str,
    body: PropertyPut,
    *,
    quotas: Quotas,
) -> Put[Property, str]:
    """The property's PUT, inside its organization's group; it never changes organization."""
    check_organization(principal, body.organization_id)
    org = await get_organization(session, principal, body.organization_id)
    if org.disconnected_at is not None:
        raise conflict("organization_disconnected", "the organization is disconnected")
    existing = await find_property(session, pms_property_id)
    if existing is not None and existing[1] != body.organization_id:
        if not principal.can_see(existing[1]):
            raise not_found("property", pms_property_id)
        raise conflict("property_in_other_organization", "a property cannot change organization")
    values = {"title": body.title, "currency": body.currency, "timezone": body.timezone,
              "state_length": body.state_length, "details": body.details()}  # fmt: skip
    return Put(
        PROPERTY,
        key={"pms_property_id": pms_property_id},
        values=values,
        adopt=body.channex_property_id,
        target=partial(_group_id, org),
        parents={"organization_id": org.id},
        quota=Quota(
            {"organization_id": org.id},
            quotas.properties_per_organization,
            "properties per organization",
        ),
    )


def _group_id(org: Organization) -> str:
    """The Channex group a property goes into; 409 while the organization has none."""
    if org.channex_group_id is None or org.sync_status != SyncStatus.SYNCED:
        raise conflict("organization_not_synced", "the organization has no Channex group yet")
    return org.channex_group_id


def _apply(prop: Property, values: dict[str, object]) -> bool:
    """The PMS's values; a PUT also reconnects, which alone sends nothing to Channex."""
    prop.disconnected_at = None
    return copy_values(prop, values)


def channex_attributes(prop: Property, group_id: str | None = None) -> PropertyAttributes:
    return PropertyAttributes(
        title=prop.title,
        currency=prop.currency,
        timezone=prop.timezone,
        group_id=group_id,
        settings=PropertySettings(state_length=prop.state_length),
        **prop.details,
    )


def _property_calls(
    channex: ChannexClient, prop: Property, group_id: str, adopting: bool
) -> ChannexCalls:
    async def create() -> str:
        return (await channex.create_property(channex_attributes(prop, group_id))).id

    async def in_group() -> list[ChannexProperty]:
        return [
            p for p in await channex.list_properties(title=prop.title) if group_id in p.group_ids
        ]

    async def update(ident: str) -> None:
        if adopting:
            await _check_in_group(channex, ident, group_id)
        # The group is set once, at creation: a property never changes organization.
        await channex.update_property(ident, channex_attributes(prop))

    return ChannexCalls(update=update, create=create, candidates=in_group)


async def _check_in_group(channex: ChannexClient, channex_property_id: str, group_id: str) -> None:
    """One Channex account serves every organization: a property is adopted only from the
    organization's own group, or a key of one organization could take over (and read the
    bookings of) a property of another."""
    existing = await channex.get_property(channex_property_id)
    if group_id not in existing.group_ids:
        raise AppError(
            403, "channex_property_in_other_group", "Forbidden",
            "the Channex property is not in this organization's group",
            [FieldError("body.channex_property_id", "not in this organization's group")],
        )  # fmt: skip


PROPERTY = MappedEntity(Property, "property", Property.channex_property_id, _apply, _property_calls)


async def disconnect_property(
    session: AsyncSession, principal: Principal, pms_property_id: str
) -> tuple[Property, str]:
    """Stop syncing the property; rows and history stay, Channex is left untouched."""
    prop, org_id = await get_property(session, principal, pms_property_id)
    if prop.disconnected_at is None:
        prop.disconnected_at = utcnow()
    await session.flush()
    return prop, org_id
