"""Real HTTP servers for the sandbox tests: uvicorn on 127.0.0.1 with an ephemeral port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from app.serving import serving


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` in this event loop on an ephemeral port; yields its base URL."""
    async with serving(app) as url:
        yield url


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    query: dict[str, str]


@dataclass
class Receiver:
    """A webhook endpoint that records every POST and answers with scripted statuses."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        self.received.append(Received(body, dict(request.headers), dict(request.query_params)))
        status = self.statuses.pop(0) if self.statuses else 200
        async with self.arrived:
            self.arrived.notify_all()
        return JSONResponse({"ok": status < 400}, status_code=status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])

    def events(self) -> list[str]:
        return [r.body["event"] for r in self.received]

    async def wait_for(self, count: int, seconds: float = 5.0) -> list[Received]:
        """Wait until `count` deliveries arrived (fails the test after `seconds`)."""
        async with asyncio.timeout(seconds), self.arrived:
            await self.arrived.wait_for(lambda: len(self.received) >= count)
        return self.received
