"""Configuration of each organization's PMS endpoint (where revisions are pushed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import schema_examples as ex
from app.db import utcnow
from app.errors import not_found
from app.models import BookingDelivery, Organization, PmsEndpoint
from app.models.bookings import DeliveryStatus
from app.schemas import RequestBody
from app.services.access import Principal
from app.services.callback_urls import vet_callback_url
from app.services.delivery import GLOBAL_SCOPE, new_secret, org_scope
from app.services.organizations import get_organization
from app.services.personal_data import build_cipher, seal_secret
from app.settings import Settings


class EndpointPut(RequestBody):
    """The organization's PMS endpoint for pushed booking revisions."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.ENDPOINT_PUT))

    url: str = Field(
        max_length=2048,
        description="Where revisions are POSTed: https in production; no private addresses",
    )
    rotate_secret: bool = Field(default=False, description="Issue a new signing secret")
    channel_events: bool = Field(
        default=False,
        description="Also push `channel.state_changed` (each change of a channel's connection "
        "state) to this endpoint; off unless asked, so that a PMS that expects only booking "
        "revisions gets nothing else",
    )


class EndpointRead(BaseModel):
    """An endpoint and its health; `secret` only in the answer that created or rotated it."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ENDPOINT_READ))

    scope: str = Field(description="`global` (the deployment's default) or `org:<n>`.")
    organization_id: str | None = Field(
        description="The PMS id of its organization; null for the global endpoint."
    )
    url: str = Field(description="Where revisions are POSTed.")
    secret: str | None = Field(
        default=None,
        description="Standard Webhooks signing secret (`whsec_...`); only in the answer that "
        "created or rotated it, else null",
    )
    disabled_at: datetime | None = Field(
        description="When deliveries to it were stopped (UTC); null while enabled."
    )
    disabled_reason: str | None = Field(description="Why it was disabled; null while enabled.")
    failing_since: datetime | None = Field(
        description="Start of the current run of failed deliveries (UTC); null when healthy."
    )
    last_error: str | None = Field(description="The last delivery's error; null when healthy.")
    pending_deliveries: int = Field(description="Deliveries waiting to be sent or retried.")
    failed_deliveries: int = Field(
        description="Deliveries that gave up (retries exhausted); replay them by API."
    )
    channel_events: bool = Field(description="Whether `channel.state_changed` is pushed here too.")


async def put_endpoint(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    pms_organization_id: str,
    body: EndpointPut,
) -> tuple[PmsEndpoint, str | None]:
    """Create or change the endpoint (re-enabling a disabled one); the new secret, if any."""
    org = await get_organization(session, principal, pms_organization_id)
    await vet_callback_url(body.url, settings)
    stmt = select(PmsEndpoint).where(PmsEndpoint.scope == org_scope(org.id))
    endpoint = (await session.execute(stmt)).scalar_one_or_none()
    issued = None
    if endpoint is None or body.rotate_secret:
        issued = new_secret()
        sealed = seal_secret(build_cipher(settings), issued)
        if endpoint is None:
            endpoint = PmsEndpoint(scope=org_scope(org.id), organization_id=org.id, url=body.url)
            session.add(endpoint)
        endpoint.secret = sealed
    endpoint.url = body.url
    endpoint.channel_events = body.channel_events
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint, issued


async def get_endpoint(
    session: AsyncSession, principal: Principal, pms_organization_id: str
) -> PmsEndpoint:
    org = await get_organization(session, principal, pms_organization_id)
    stmt = select(PmsEndpoint).where(PmsEndpoint.scope == org_scope(org.id))
    endpoint = (await session.execute(stmt)).scalar_one_or_none()
    if endpoint is None:
        raise not_found("booking endpoint of organization", pms_organization_id)
    return endpoint


async def list_endpoints(session: AsyncSession, principal: Principal) -> Sequence[EndpointRead]:
    """Endpoints the caller may see (the global one only with a global key), failing first."""
    stmt = select(PmsEndpoint, Organization.pms_organization_id).outerjoin(
        Organization, PmsEndpoint.organization_id == Organization.id
    )
    if principal.organization_id is not None:
        stmt = stmt.where(Organization.pms_organization_id == principal.organization_id)
    rows = (await session.execute(stmt.order_by(PmsEndpoint.id))).all()
    counts = await delivery_counts(session, [e.id for e, _ in rows])
    reads = [_read(e, org_id, counts) for e, org_id in rows]
    return sorted(reads, key=lambda r: r.failing_since is None and r.disabled_at is None)


async def delivery_counts(
    session: AsyncSession, endpoint_ids: Sequence[int] | None = None
) -> dict[tuple[int, str], int]:
    """Deliveries per (endpoint, status) in one grouped query: of these endpoints, or all."""
    stmt = select(BookingDelivery.endpoint_id, BookingDelivery.status, func.count()).group_by(
        BookingDelivery.endpoint_id, BookingDelivery.status
    )
    if endpoint_ids is not None:
        stmt = stmt.where(BookingDelivery.endpoint_id.in_(endpoint_ids))
    return {(e, s): int(n) for e, s, n in (await session.execute(stmt)).all()}


async def endpoint_read(
    session: AsyncSession, endpoint: PmsEndpoint, pms_org_id: str | None, secret: str | None = None
) -> EndpointRead:
    return _read(endpoint, pms_org_id, await delivery_counts(session, [endpoint.id]), secret)


def _read(
    endpoint: PmsEndpoint,
    pms_org_id: str | None,
    counts: Mapping[tuple[int, str], int],
    secret: str | None = None,
) -> EndpointRead:
    return EndpointRead(
        scope="global" if endpoint.scope == GLOBAL_SCOPE else "organization",
        organization_id=pms_org_id,
        url=endpoint.url,
        secret=secret,
        disabled_at=endpoint.disabled_at,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        last_error=endpoint.last_error,
        pending_deliveries=counts.get((endpoint.id, DeliveryStatus.PENDING), 0),
        failed_deliveries=counts.get((endpoint.id, DeliveryStatus.FAILED), 0),
        channel_events=endpoint.channel_events,
    )
