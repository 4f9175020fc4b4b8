"""Fault injection, set per sandbox at run time and deterministic for a given seed."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sandbox.errors import ChannexError, server_error, too_many_requests

if TYPE_CHECKING:
    from app.sandbox.state import SandboxState

API_PREFIX = "/api/v1"


class Faults(BaseModel):
    """The faults in force; `PUT /sandbox/faults` replaces them all (missing fields = off)."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0, le=1)
    latency_ms: int = Field(default=0, ge=0)
    # Network jitter: each API request waits a further uniform draw in [0, 2 x jitter_seconds]
    # before the sandbox sees it (its recorded arrival, the rate check). A delay cannot be
    # negative, so "±J" is J ± J: arrivals move up to J either way around a base of J, and two
    # requests sent t apart can arrive t - 2J to t + 2J apart, as over a jittery network.
    jitter_seconds: float = Field(default=0.0, ge=0, le=10)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    # Number of next API requests answered 429 regardless of the real limiter.
    force_429: int = Field(default=0, ge=0)
    webhook_drop_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_delay_ms: int = Field(default=0, ge=0)
    webhook_reorder: bool = False
    seed: int | None = None


Outcome = Literal["pass", "error", "429", "timeout"]


@dataclass(frozen=True)
class WebhookPlan:
    """What happens to one webhook delivery."""

    drop: bool
    copies: int
    delay_seconds: float


class FaultState:
    """Faults plus their random sources: one for API requests, one for webhooks."""

    def __init__(self, seed: int | None, faults: Faults | None = None) -> None:
        self.faults = faults or Faults(seed=seed)
        self.forced_429_left = self.faults.force_429
        self._api = random.Random(self.faults.seed)
        self._webhooks = random.Random(self.faults.seed)
        # A source of its own, so that turning jitter on leaves the other draws as they were.
        self._jitter = random.Random(self.faults.seed)

    def next_request(self) -> Outcome:
        """Decide the fate of one API request (draws in request order)."""
        error_draw, timeout_draw = self._api.random(), self._api.random()
        if self.forced_429_left > 0:
            self.forced_429_left -= 1
            return "429"
        if error_draw < self.faults.error_rate:
            return "error"
        if timeout_draw < self.faults.timeout_rate:
            return "timeout"
        return "pass"

    def next_delay(self) -> float:
        """Seconds one API request waits before it is processed: latency plus jitter."""
        delay = self.faults.latency_ms / 1000
        if self.faults.jitter_seconds:
            delay += self._jitter.uniform(0.0, 2 * self.faults.jitter_seconds)
        return delay

    def next_webhook(self) -> WebhookPlan:
        """Decide the fate of one webhook delivery."""
        drop_draw, duplicate_draw = self._webhooks.random(), self._webhooks.random()
        return WebhookPlan(
            drop=drop_draw < self.faults.webhook_drop_rate,
            copies=2 if duplicate_draw < self.faults.webhook_duplicate_rate else 1,
            delay_seconds=self.faults.webhook_delay_ms / 1000,
        )


def route_path(scope: Scope) -> str:
    """The path inside the sandbox app, whether it is mounted under a prefix or not."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :]
    return path


class FaultMiddleware:
    """Applies the request faults to Channex API routes only (never to `/sandbox/...`)."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not route_path(scope).startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        faults = self.state.faults
        outcome = faults.next_request()
        delay = faults.next_delay()
        if delay:
            await asyncio.sleep(delay)
        if outcome == "429":
            await _send_error(send, too_many_requests())
        elif outcome == "error":
            await _send_error(send, server_error())
        elif outcome == "timeout":
            await self._hang_after_processing(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _hang_after_processing(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The nasty timeout: the write is applied, but the answer comes too late to be seen.
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        await asyncio.sleep(self.state.config.timeout_hang_seconds)
        for message in messages:
            await send(message)


async def _send_error(send: Send, error: ChannexError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
