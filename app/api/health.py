"""Liveness and readiness for load balancers and orchestrators (no authentication)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import ResourcesDep
from app.resources import Resources
from app.schemas import CheckResult, Readiness

router = APIRouter(prefix="/health", tags=["health"])
CHECK_TIMEOUT = 3.0


@router.get(
    "/live",
    response_model=dict[str, str],
    summary="Liveness probe",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def live() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
    summary="Readiness probe",
)
async def ready(resources: ResourcesDep) -> JSONResponse:
    """Database, Redis (when configured) and Channex configuration, each with its result."""
    checks = {
        "database": await _check(_database(resources)),
        "channex_config": _channex_config(resources),
    }
    if resources.redis is not None:
        checks["redis"] = await _check(_redis(resources))
    result = Readiness(ready=all(c.ok for c in checks.values()), checks=checks)
    return JSONResponse(result.model_dump(), status_code=200 if result.ready else 503)


async def _check(probe: asyncio.Future[None] | object) -> CheckResult:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT)  # type: ignore[arg-type]
    except Exception as exc:  # any failure means "not ready"; say which, without secrets
        return CheckResult(ok=False, detail=type(exc).__name__)
    return CheckResult(ok=True)


async def _database(resources: Resources) -> None:
    async with resources.session_factory() as session:
        await session.execute(text("SELECT 1"))


async def _redis(resources: Resources) -> None:
    assert resources.redis is not None
    await resources.redis.ping()


def _channex_config(resources: Resources) -> CheckResult:
    settings = resources.settings
    if not settings.channex_sync_enabled:
        return CheckResult(ok=True, detail="sync disabled")
    if settings.channex_api_key is None:
        return CheckResult(ok=False, detail="CHANNEX_API_KEY is not set")
    return CheckResult(ok=True, detail=settings.channex_api_url)
