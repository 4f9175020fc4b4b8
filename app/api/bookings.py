"""Bookings for the PMS: the pull feed, one booking, erasure, replay, problems, endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app import schema_examples as ex
from app.api.deps import ChannexDep, OrgId, PrincipalDep, ResourcesDep, SessionDep
from app.jobs.requests import request_deliveries
from app.schemas_revision import RevisionRead
from app.schemas_revision_examples import FEED_EXAMPLES
from app.services import bookings as service
from app.services.booking_payloads import BookingRead, revision_read
from app.services.booking_problems import BookingProblems, list_problems
from app.services.personal_data import build_cipher
from app.services.pms_endpoints import (
    EndpointPut,
    EndpointRead,
    endpoint_read,
    get_endpoint,
    list_endpoints,
    put_endpoint,
)
from app.services.revision_sources import reapply_quarantined

router = APIRouter(tags=["bookings"])

ChannexRevisionId = Annotated[str, Path(description="Channex booking revision id", max_length=64)]
ChannexBookingId = Annotated[str, Path(description="Channex booking id", max_length=64)]


class RevisionFeed(BaseModel):
    """A page of the pull feed. `next_cursor` is set only when another page follows (null on
    the last page); `resume_after` is always set: pass it as `after` to poll for what comes
    next, after a break as much as after the last page."""

    model_config = ConfigDict(json_schema_extra={"examples": FEED_EXAMPLES})

    items: list[RevisionRead] = Field(description="The page's revisions, oldest first.")
    next_cursor: str | None = Field(description="`after` for the next page; null on the last.")
    resume_after: str = Field(description="The position after this page; keep it to resume from.")


class Replayed(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.REPLAYED))

    revision_id: str = Field(description="Channex booking revision id")
    deliveries: int = Field(description="Deliveries queued: one per PMS endpoint it goes to")


@router.get("/v1/bookings/revisions", response_model=RevisionFeed, summary="Pull booking revisions")
async def list_booking_revisions(
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
    after: Annotated[str | None, Query(description="Cursor from the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    pending: Annotated[bool, Query(description="Only revisions not yet acked here")] = False,
) -> RevisionFeed:
    """Booking revisions in a stable order (the order they were applied), after a cursor."""
    page = await service.list_revisions(
        session,
        principal,
        build_cipher(resources.settings),
        after=after,
        limit=limit,
        pending_only=pending,
    )
    return RevisionFeed(
        items=page.items, next_cursor=page.next_cursor, resume_after=page.resume_after
    )


@router.post(
    "/v1/bookings/revisions/{revision_id}/ack",
    response_model=RevisionRead,
    summary="Acknowledge a pulled revision",
)
async def ack_booking_revision(
    revision_id: ChannexRevisionId,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> RevisionRead:
    """Mark a pulled revision as taken by the PMS; acking twice changes nothing."""
    row = await service.ack_pulled_revision(session, principal, revision_id)
    await session.commit()
    return revision_read(row, build_cipher(resources.settings))


@router.post(
    "/v1/bookings/revisions/{revision_id}/replay",
    response_model=Replayed,
    summary="Deliver a revision to the PMS again",
)
async def replay_booking_revision(
    revision_id: ChannexRevisionId,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> Replayed:
    """Push the revision to the PMS again (same `webhook-id`, same sequence)."""
    deliveries = await service.replay_revision(session, principal, revision_id)
    pairs = [(d.endpoint_id, d.booking_id) for d in deliveries]
    await session.commit()
    await request_deliveries(resources.queue, pairs)
    return Replayed(revision_id=revision_id, deliveries=len(pairs))


@router.post(
    "/v1/bookings/quarantine/{revision_id}/reapply",
    response_model=RevisionRead,
    summary="Apply a quarantined revision again",
)
async def reapply_quarantined_revision(
    revision_id: ChannexRevisionId,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
    channex: ChannexDep,
) -> RevisionRead:
    """Apply a quarantined revision again, once its cause is fixed (global keys only)."""
    service.require_global(principal)
    outcome = await reapply_quarantined(session, channex, resources.settings, revision_id)
    await session.commit()
    row = await service.get_revision_row(session, principal, revision_id)
    await request_deliveries(
        resources.queue, await service.pending_pairs(session, outcome.revision.booking_id)
    )
    return revision_read(row, build_cipher(resources.settings))


@router.get(
    "/v1/bookings/problems",
    response_model=BookingProblems,
    summary="List booking problems that need a human",
)
async def list_booking_problems(session: SessionDep, principal: PrincipalDep) -> BookingProblems:
    """Unmapped, overbooked, stale and quarantined revisions, alarms and failing endpoints."""
    return await list_problems(session, principal)


@router.get(
    "/v1/bookings/endpoints",
    response_model=list[EndpointRead],
    summary="List PMS endpoints and their health",
)
async def list_booking_endpoints(
    session: SessionDep, principal: PrincipalDep
) -> list[EndpointRead]:
    """PMS endpoints with their health (failing and disabled ones first)."""
    return list(await list_endpoints(session, principal))


@router.get(
    "/v1/bookings/{booking_id}",
    response_model=BookingRead,
    summary="Get a booking with its revisions",
)
async def get_booking(
    booking_id: ChannexBookingId,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> BookingRead:
    """A booking's current state and every revision of it, oldest first."""
    cipher = build_cipher(resources.settings)
    return await service.get_booking(session, principal, cipher, booking_id)


@router.delete(
    "/v1/bookings/{booking_id}/personal-data",
    response_model=BookingRead,
    summary="Erase a booking's personal data",
)
async def erase_booking_personal_data(
    booking_id: ChannexBookingId,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> BookingRead:
    """Erase the guest's personal data from the booking and all its revisions; recorded."""
    await service.erase_personal_data(session, principal, booking_id)
    await session.commit()
    cipher = build_cipher(resources.settings)
    return await service.get_booking(session, principal, cipher, booking_id)


@router.put(
    "/v1/organizations/{org_id}/booking-endpoint",
    response_model=EndpointRead,
    summary="Set the organization's booking endpoint",
)
async def put_booking_endpoint(
    org_id: OrgId,
    body: EndpointPut,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> EndpointRead:
    """Set where the organization's booking revisions are pushed (URL vetted, no redirects)."""
    endpoint, secret = await put_endpoint(session, resources.settings, principal, org_id, body)
    await session.commit()
    return await endpoint_read(session, endpoint, org_id, secret)


@router.get(
    "/v1/organizations/{org_id}/booking-endpoint",
    response_model=EndpointRead,
    summary="Get the organization's booking endpoint",
)
async def get_booking_endpoint(
    org_id: OrgId, session: SessionDep, principal: PrincipalDep
) -> EndpointRead:
    """The organization's push endpoint and its health (never its secret)."""
    endpoint = await get_endpoint(session, principal, org_id)
    return await endpoint_read(session, endpoint, org_id)
