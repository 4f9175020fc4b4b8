"""Channex webhook intake: authenticate, cap the body, store (one INSERT), answer 200.

The request path touches only the database. In embedded mode the in-process queue takes the
event's job directly (no I/O); with arq the InboxWaker asks for a drain from a task of its own,
at most once per burst, so Redis being slow or down never slows or fails intake. Whatever is
not picked up that way, the sweep finds in the inbox.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app import schema_examples as ex
from app.api.request_guard import too_large
from app.errors import AppError
from app.jobs.inbox_waker import InboxWaker
from app.metrics import WEBHOOK_RECEIVED, WEBHOOK_REFUSED
from app.resources import Resources
from app.services.inbox import SECRET_HEADER, check_webhook_secret, store_event

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

RECEIVED = b'{"received":true}'
_EXAMPLE: dict[str, Any] = {
    "event": "booking",
    "property_id": "716305c4-561a-4561-a187-7f5b8aeb5920",
    "user_id": None,
    "timestamp": "2026-11-25T10:00:00.000000Z",
    "payload": {
        "booking_id": "2b4f6c61-9d0a-4c8a-93a4-0f0b6f1d0e22",
        "property_id": "716305c4-561a-4561-a187-7f5b8aeb5920",
        "revision_id": "4ee2a1b4-d3b1-4a3c-8ee3-3a6b7a1b0c11",
    },
}
_OPENAPI: dict[str, Any] = {
    # The route reads its header and body itself (no FastAPI parameters): declared here.
    "parameters": [
        {
            "name": SECRET_HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "The secret channel-sync set in the webhook's headers",
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "examples": {"booking": {"value": _EXAMPLE}},
            }
        },
    },
}


class WebhookReceived(BaseModel):
    """Stored (or already stored): Channex need not send it again."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.WEBHOOK_RECEIVED))

    received: bool = Field(default=True, description="Always true: the event is stored.")


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes — counted, not taken from Content-Length."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/channex",
    response_model=WebhookReceived,
    openapi_extra=_OPENAPI,
    summary="Receive a Channex webhook",
)
async def receive_channex_webhook(request: Request) -> Response:
    """Receive a Channex webhook: stored once before the answer, processed by a job."""
    # No dependencies and no response validation on the hottest route: each costs a
    # measurable share of a request whose real work is one INSERT (benchmarks/).
    resources: Resources = request.app.state.resources
    WEBHOOK_RECEIVED.inc()
    try:
        check_webhook_secret(resources.settings, request.headers.get(SECRET_HEADER))
        raw = await read_capped(request, resources.settings.webhook_max_body_bytes)
        event_id = await store_event(resources.engine, raw, resources.intake_pool)
    except AppError as refused:
        WEBHOOK_REFUSED.labels(refused.code).inc()
        raise
    if event_id is not None:
        waker: InboxWaker = request.app.state.inbox_waker
        await waker.notify(event_id)
    return Response(RECEIVED, media_type="application/json")
