"""Onboarding of PMS organizations as Channex groups."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.db import utcnow
from app.errors import AppError, FieldError, not_found
from app.models import Organization
from app.schemas import OrganizationPut
from app.services.access import Principal, check_organization
from app.services.mapped_entity import ChannexCalls, MappedEntity, Put, copy_values

log = logging.getLogger(__name__)


async def find_organization(session: AsyncSession, pms_organization_id: str) -> Organization | None:
    stmt = select(Organization).where(Organization.pms_organization_id == pms_organization_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_organization(
    session: AsyncSession, principal: Principal, pms_organization_id: str
) -> Organization:
    check_organization(principal, pms_organization_id)
    org = await find_organization(session, pms_organization_id)
    if org is None:
        raise not_found("organization", pms_organization_id)
    return org


async def list_organizations(
    session: AsyncSession, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[Organization], int]:
    stmt = select(Organization)
    if principal.organization_id is not None:
        stmt = stmt.where(Organization.pms_organization_id == principal.organization_id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(stmt.order_by(Organization.id).limit(limit).offset(offset))
    return rows.scalars().all(), total


def prepare_organization_put(
    principal: Principal,
    pms_organization_id: str,
    body: OrganizationPut,
    *,
    scoped_group_adoption: bool = False,
) -> Put[Organization, None]:
    """The organization's PUT: its Channex group is created, adopted or renamed. A group no
    other organization maps may be adopted with a global key; with an organization's own key
    only where the deployment allows it (ALLOW_SCOPED_GROUP_ADOPTION): the account's groups
    are every tenant's."""
    check_organization(principal, pms_organization_id)
    if body.channex_group_id and principal.organization_id and not scoped_group_adoption:
        raise AppError(
            403, "group_adoption_forbidden", "Forbidden",
            "an organization's key cannot adopt an existing Channex group",
            [FieldError("body.channex_group_id", "adoption needs a global key")],
        )  # fmt: skip
    return Put(
        ORGANIZATION,
        key={"pms_organization_id": pms_organization_id},
        values={"title": body.title},
        adopt=body.channex_group_id,
        target=lambda: None,  # a group has no parent in Channex
    )


def _apply(org: Organization, values: dict[str, object]) -> bool:
    """The PMS's values, and a PUT reconnects: the group hears of both."""
    reconnected = org.disconnected_at is not None
    org.disconnected_at = None
    return copy_values(org, values) or reconnected


def _group_calls(
    channex: ChannexClient, org: Organization, _: None, adopting: bool
) -> ChannexCalls:
    async def create() -> str:
        return (await channex.create_group(org.title)).id

    return ChannexCalls(
        update=lambda group_id: channex.update_group(group_id, org.title),
        create=create,
        candidates=channex.list_groups,
    )


ORGANIZATION = MappedEntity(
    Organization, "group", Organization.channex_group_id, _apply, _group_calls
)


async def disconnect_organization(
    session: AsyncSession, principal: Principal, pms_organization_id: str
) -> Organization:
    """Stop syncing the organization; its rows and history stay, Channex is left untouched."""
    org = await get_organization(session, principal, pms_organization_id)
    if org.disconnected_at is None:
        org.disconnected_at = utcnow()
    await session.flush()
    return org
