"""The PMS of the fault benchmark: an HTTP endpoint that records every delivery of a booking
revision (Standard Webhooks, app/services/delivery.py), can be made to answer 503 or to refuse
connections, and the tally of what it accepted."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Literal

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.serving import serving

PATH = "/hook"
Mode = Literal["up", "503", "refused"]


@dataclass(frozen=True)
class Received:
    """One delivery attempt that reached the PMS, and what it answered."""

    at: float
    status: int
    webhook_id: str
    revision_id: str | None = None
    booking_id: str | None = None
    sequence: int | None = None


@dataclass
class PmsReceiver:
    """Answers 200 to a correctly signed delivery, 400 to a bad signature, 503 when told to."""

    port: int
    secret: str | None = None
    mode: Mode = "up"
    received: list[Received] = field(default_factory=list)
    _server: AsyncExitStack | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    async def handle(self, request: Request) -> JSONResponse:
        raw = await request.body()
        webhook_id = request.headers.get("webhook-id", "")
        if self.mode != "up":
            self.received.append(Received(time.monotonic(), 503, webhook_id))
            return JSONResponse({"ok": False}, status_code=503)
        try:
            body = Webhook(self.secret or "").verify(raw, dict(request.headers))
        except (WebhookVerificationError, ValueError):
            self.received.append(Received(time.monotonic(), 400, webhook_id))
            return JSONResponse({"ok": False}, status_code=400)
        data = body.get("data") or {}
        self.received.append(
            Received(
                time.monotonic(),
                200,
                webhook_id,
                data.get("id"),
                data.get("booking_id"),
                body.get("sequence"),
            )
        )
        return JSONResponse({"ok": True})

    async def start(self) -> None:
        """Listen on the port (again, after `stop`)."""
        if self._server is not None:
            return
        app = Starlette(routes=[Route(PATH, self.handle, methods=["POST"])])
        stack = AsyncExitStack()
        await stack.enter_async_context(serving(app, self.port))
        self._server = stack
        self.mode = "up"

    async def stop(self) -> None:
        """Close the listening socket: connections are refused until `start`."""
        if self._server is not None:
            server, self._server = self._server, None
            self.mode = "refused"
            await server.aclose()


@dataclass(frozen=True)
class Tally:
    """What the PMS accepted, against the revisions the OTA simulator created."""

    created: int
    accepted: int
    lost: list[str]
    duplicated: int
    duplicated_same_webhook_id: int
    out_of_order: int
    unknown: int
    rejected: Counter[int]


def tally(received: Iterable[Received], created: Iterable[str]) -> Tally:
    """Lost: created, never accepted. Duplicated: accepted (2xx) again for the same revision
    (a redelivery after a lost 2xx repeats the webhook-id, which a PMS can deduplicate on;
    counted apart). Out of order: per booking, an accepted sequence lower than one accepted
    before it."""
    made = list(created)
    accepted = [r for r in received if 200 <= r.status < 300]
    ids_per_revision: dict[str | None, list[str]] = defaultdict(list)
    highest: dict[str | None, int] = {}
    out_of_order = 0
    for r in accepted:
        ids_per_revision[r.revision_id].append(r.webhook_id)
        seq = r.sequence if r.sequence is not None else -1
        if seq < highest.get(r.booking_id, -1):
            out_of_order += 1
        highest[r.booking_id] = max(seq, highest.get(r.booking_id, -1))
    duplicated = sum(len(ids) - 1 for ids in ids_per_revision.values())
    same_id = sum(len(ids) - len(set(ids)) for ids in ids_per_revision.values())
    return Tally(
        created=len(made),
        accepted=len(accepted),
        lost=[r for r in made if r not in ids_per_revision],
        duplicated=duplicated,
        duplicated_same_webhook_id=same_id,
        out_of_order=out_of_order,
        unknown=len(set(ids_per_revision) - set(made)),
        rejected=Counter(r.status for r in received if not 200 <= r.status < 300),
    )
