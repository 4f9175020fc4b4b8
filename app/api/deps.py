"""Typed dependencies of the routes: the session, the caller and the Channex client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Path, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.errors import TRANSIENT_ERRORS
from app.db import MAX_INT
from app.resources import Resources
from app.services.access import Principal, find_principal

T = TypeVar("T")

_ID = r"^[A-Za-z0-9._:-]{1,64}$"
OrgId = Annotated[str, Path(description="The PMS's organization id", pattern=_ID)]
PropertyId = Annotated[str, Path(description="The PMS's property id", pattern=_ID)]
RoomTypeId = Annotated[str, Path(description="The PMS's room type id", pattern=_ID)]
RatePlanId = Annotated[str, Path(description="The PMS's rate plan id", pattern=_ID)]

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """One session per request; the route commits, anything uncommitted is rolled back."""
    async with resources.session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def get_channex(resources: ResourcesDep) -> ChannexClient | None:
    """The Channex client, or None when sync is disabled or no key is configured."""
    return resources.channex


ChannexDep = Annotated[ChannexClient | None, Depends(get_channex)]


def require_channex(channex: ChannexDep) -> ChannexClient:
    if channex is None:
        raise HTTPException(503, "Channex is not configured or sync is disabled")
    return channex


RequiredChannexDep = Annotated[ChannexClient, Depends(require_channex)]


def authenticate(
    resources: ResourcesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header_key: Annotated[str | None, Security(_api_key_header)],
) -> Principal:
    """Find the caller's key (app/api/request_guard.py already refused a request without one;
    this declares the security schemes and hands the route its Principal)."""
    presented = bearer.credentials if bearer is not None else header_key
    if not presented:
        raise HTTPException(401, "missing API key", headers={"WWW-Authenticate": "Bearer"})
    found = find_principal(resources.settings, presented)
    if found is None:
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return found


PrincipalDep = Annotated[Principal, Depends(authenticate)]


class PageParams:
    """`?limit=&offset=` of every list."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500, description="Items per page")] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_INT, description="Items to skip")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset


PageDep = Annotated[PageParams, Depends()]


async def commit_or_record(
    session: AsyncSession,
    attempt: Callable[[], Awaitable[T]],
    record: Callable[[str], Awaitable[None]],
) -> T:
    """Commit a successful sync; when Channex is briefly out of reach, roll back, record the
    failure on the existing row (so it shows in the API and the sweep retries it), re-raise."""
    try:
        result = await attempt()
    except TRANSIENT_ERRORS as exc:
        await session.rollback()
        await record(f"{type(exc).__name__}: {exc.title}")
        await session.commit()
        raise
    await session.commit()
    return result
