"""Channex webhook intake: authenticate, cap the body, store, commit, answer 200.

The request path touches only the database. In embedded mode the in-process queue is poked
directly (no I/O); with arq the poke runs as a background task AFTER the answer is sent, with a
short timeout, so Redis being down never slows or fails intake. Whatever is not picked up that
way, the sweep finds in the inbox.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Request
from pydantic import BaseModel

from app.api.deps import ResourcesDep, SessionDep
from app.errors import AppError
from app.jobs.queue import InProcessQueue, JobQueue
from app.services.inbox import SECRET_HEADER, check_webhook_secret, store_event

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

POKE_TIMEOUT_SECONDS = 1.0
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
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "examples": {"booking": {"value": _EXAMPLE}},
            }
        },
    }
}


class WebhookReceived(BaseModel):
    """Stored (or already stored): Channex need not send it again."""

    received: bool = True


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes — counted, not taken from Content-Length."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> AppError:
    return AppError(413, "payload_too_large", "Payload too large", f"limit is {limit} bytes")


async def poke(queue: JobQueue, event_id: int) -> None:
    """Best effort: the inbox row is the work, the sweep re-drives it if this fails."""
    try:
        async with asyncio.timeout(POKE_TIMEOUT_SECONDS):
            await queue.enqueue(
                "process_webhook_event", event_id, job_id=f"webhook-event:{event_id}"
            )
    except Exception:
        log.warning("could not enqueue webhook event; the sweep will", extra={"event": event_id})


@router.post("/channex", response_model=WebhookReceived, openapi_extra=_BODY)
async def receive_channex_webhook(
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    background: BackgroundTasks,
    secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> WebhookReceived:
    """Receive a Channex webhook: stored once before the answer, processed by a job."""
    check_webhook_secret(resources.settings, secret)
    raw = await read_capped(request, resources.settings.webhook_max_body_bytes)
    event_id = await store_event(session, raw)
    await session.commit()
    if event_id is not None:
        if isinstance(resources.queue, InProcessQueue):
            await resources.queue.enqueue(
                "process_webhook_event", event_id, job_id=f"webhook-event:{event_id}"
            )
        else:
            background.add_task(poke, resources.queue, event_id)
    return WebhookReceived()
