"""`/metrics` in the Prometheus text format: this process's counters and the backlogs read
from the database (no authentication, like /health: serve it on an internal network)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import SessionDep
from app.metrics import process_metrics, state_metrics

router = APIRouter(tags=["health"])


# For Prometheus, not for a PMS: outside the OpenAPI document (docs/operations.md#metrics).
@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(session: SessionDep) -> Response:
    """Prometheus metrics: counters of this process, backlogs of the whole deployment."""
    body = process_metrics() + await state_metrics(session)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
