"""Onboarding of PMS organizations as Channex groups."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.db import utcnow
from app.errors import not_found
from app.models import Organization, SyncStatus
from app.schemas import OrganizationPut
from app.services.access import Principal, check_organization
from app.services.remote import Remote, reach_remote
from app.services.rows import (
    ensure_unmapped,
    insert_ignore,
    lock_row,
)
from app.services.sync_state import mark_pending, mark_synced

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


async def put_organization(
    session: AsyncSession,
    channex: ChannexClient | None,
    principal: Principal,
    pms_organization_id: str,
    body: OrganizationPut,
) -> Organization:
    """Create or update the organization and its Channex group; never a second group."""
    check_organization(principal, pms_organization_id)
    await insert_ignore(
        session,
        Organization,
        {"pms_organization_id": pms_organization_id, "title": body.title},
    )
    org = await find_organization(session, pms_organization_id)
    assert org is not None  # inserted above or by a concurrent twin
    org = await lock_row(session, org)
    changed = org.title != body.title or org.disconnected_at is not None
    org.title = body.title
    org.disconnected_at = None
    if body.channex_group_id and body.channex_group_id != org.channex_group_id:
        await ensure_unmapped(session, Organization.channex_group_id, body.channex_group_id)
        org.channex_group_id = body.channex_group_id
        changed = True
    if channex is None:
        mark_pending(org)
    elif changed or org.sync_status != SyncStatus.SYNCED:
        await sync_organization(session, channex, org, adopting=body.channex_group_id is not None)
    await session.flush()
    return org


async def sync_organization(
    session: AsyncSession, channex: ChannexClient, org: Organization, *, adopting: bool
) -> None:
    """Make Channex's group say what the row says, creating it only if no twin exists."""

    async def create() -> str:
        return (await channex.create_group(org.title)).id

    remote = Remote(
        kind="group",
        column=Organization.channex_group_id,
        update=lambda group_id: channex.update_group(group_id, org.title),
        create=create,
        candidates=channex.list_groups,
    )
    org.channex_group_id = await reach_remote(
        session, remote, org.channex_group_id, org.title, adopting=adopting
    )
    mark_synced(org)


async def disconnect_organization(
    session: AsyncSession, principal: Principal, pms_organization_id: str
) -> Organization:
    """Stop syncing the organization; its rows and history stay, Channex is left untouched."""
    org = await get_organization(session, principal, pms_organization_id)
    if org.disconnected_at is None:
        org.disconnected_at = utcnow()
    await session.flush()
    return org
