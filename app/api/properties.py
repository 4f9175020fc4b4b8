"""Properties: each becomes one Channex property inside its organization's group."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import (
    ChannexDep,
    PageDep,
    PrincipalDep,
    PropertyId,
    ResourcesDep,
    SessionDep,
    commit_or_record,
)
from app.api.views import page_of, property_read
from app.schemas import Page, PropertyPut, PropertyRead
from app.services import properties as service
from app.services.mapped_entity import Quotas, put_mapped, record_put_failure

router = APIRouter(prefix="/v1/properties", tags=["properties"])


@router.put("/{property_id}", response_model=PropertyRead, summary="Create or update a property")
async def put_property(
    property_id: PropertyId,
    body: PropertyPut,
    session: SessionDep,
    channex: ChannexDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> PropertyRead:
    """Create the Channex property in the organization's group, or update it."""
    quotas = Quotas.of(resources.settings)
    put = await service.prepare_property_put(session, principal, property_id, body, quotas=quotas)
    attempt = partial(put_mapped, session, channex, put)
    prop = await commit_or_record(session, attempt, partial(record_put_failure, session, put))
    return property_read(prop, body.organization_id)


@router.get("/{property_id}", response_model=PropertyRead, summary="Get a property")
async def get_property(
    property_id: PropertyId, session: SessionDep, principal: PrincipalDep
) -> PropertyRead:
    """One property with its Channex id and sync state."""
    return property_read(*await service.get_property(session, principal, property_id))


@router.get("", response_model=Page[PropertyRead], summary="List properties")
async def list_properties(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    organization_id: Annotated[str | None, Query(description="Only this organization's")] = None,
) -> Page[PropertyRead]:
    """Properties the caller may see, oldest first."""
    rows, total = await service.list_properties(
        session, principal, organization_id=organization_id, limit=page.limit, offset=page.offset
    )
    return page_of([property_read(*row) for row in rows], total, page.limit, page.offset)


@router.delete("/{property_id}", response_model=PropertyRead, summary="Disconnect a property")
async def disconnect_property(
    property_id: PropertyId, session: SessionDep, principal: PrincipalDep
) -> PropertyRead:
    """Disconnect the property: syncing stops, its history stays; a PUT reconnects it."""
    prop, org_id = await service.disconnect_property(session, principal, property_id)
    await session.commit()
    return property_read(prop, org_id)
