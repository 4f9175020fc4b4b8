"""Liveness and readiness for load balancers and orchestrators (no authentication)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import ResourcesDep
from app.resources import Resources
from app.schemas import CheckResult, Readiness, ReadinessBacklog, ReadinessWarning
from app.services.backlog import Backlog, read_backlog
from app.services.readiness import backlog_facts, configuration_warnings, registration_warning
from app.services.webhook_registration import find_registration_failure

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
    """Database, Redis (when configured) and Channex configuration, each with its result; then
    warnings and the backlog, which never change the answer's status."""
    checks = {
        "database": await _check(_database(resources)),
        "channex_config": _channex_config(resources),
    }
    if resources.redis is not None:
        checks["redis"] = await _check(_redis(resources))
    warnings, backlog = await _facts(resources, database_ok=checks["database"].ok)
    result = Readiness(
        ready=all(c.ok for c in checks.values()), checks=checks, warnings=warnings, backlog=backlog
    )
    return JSONResponse(result.model_dump(mode="json"), status_code=200 if result.ready else 503)


async def _facts(
    resources: Resources, *, database_ok: bool
) -> tuple[list[ReadinessWarning], ReadinessBacklog | None]:
    """Warnings and backlog; without a database (its check failed) only what the settings
    say, so that a hung database costs one timeout, not two."""
    settings = resources.settings
    warnings = configuration_warnings(settings)
    if not database_ok:
        return warnings, None
    try:
        failed_at, backlog = await asyncio.wait_for(_read_facts(resources), CHECK_TIMEOUT)
    except Exception:  # informative only: a failure here must not change readiness
        return warnings, None
    return warnings + registration_warning(settings, failed_at), backlog_facts(backlog)


async def _read_facts(resources: Resources) -> tuple[datetime | None, Backlog]:
    async with resources.session_factory() as session:
        return await find_registration_failure(session), await read_backlog(session)


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
