"""Organizations: each becomes one Channex group."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter

from app.api.deps import (
    ChannexDep,
    OrgId,
    PageDep,
    PrincipalDep,
    ResourcesDep,
    SessionDep,
    commit_or_record,
)
from app.api.views import organization_read, page_of
from app.schemas import OrganizationPut, OrganizationRead, Page
from app.services import organizations as service
from app.services.mapped_entity import put_mapped, record_put_failure

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])


@router.put(
    "/{org_id}", response_model=OrganizationRead, summary="Create or update an organization"
)
async def put_organization(
    org_id: OrgId,
    body: OrganizationPut,
    session: SessionDep,
    channex: ChannexDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> OrganizationRead:
    """Create the organization's Channex group, or update its title; never a second group."""
    allowed = resources.settings.allow_scoped_group_adoption
    put = service.prepare_organization_put(principal, org_id, body, scoped_group_adoption=allowed)
    attempt = partial(put_mapped, session, channex, put)
    org = await commit_or_record(session, attempt, partial(record_put_failure, session, put))
    return organization_read(org)


@router.get("/{org_id}", response_model=OrganizationRead, summary="Get an organization")
async def get_organization(
    org_id: OrgId, session: SessionDep, principal: PrincipalDep
) -> OrganizationRead:
    """One organization with its Channex group id and sync state."""
    return organization_read(await service.get_organization(session, principal, org_id))


@router.get("", response_model=Page[OrganizationRead], summary="List organizations")
async def list_organizations(
    session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[OrganizationRead]:
    """Organizations the caller may see, oldest first."""
    rows, total = await service.list_organizations(
        session, principal, limit=page.limit, offset=page.offset
    )
    return page_of([organization_read(org) for org in rows], total, page.limit, page.offset)


@router.delete("/{org_id}", response_model=OrganizationRead, summary="Disconnect an organization")
async def disconnect_organization(
    org_id: OrgId, session: SessionDep, principal: PrincipalDep
) -> OrganizationRead:
    """Disconnect the organization: syncing stops, its history stays; a PUT reconnects it."""
    org = await service.disconnect_organization(session, principal, org_id)
    await session.commit()
    return organization_read(org)
