"""The Channex sandbox as a FastAPI app: Channex routes under `/api/v1`, tools under `/sandbox`.

`/api/v1/...` answers like Channex and needs the `user-api-key` header (`SandboxConfig.api_key`).
`/auth/...` plays Channex's channel iframe for a hotel's browser (app/sandbox/iframe.py).
`/sandbox/...` (ARI inspection, counters, webhook log, OTA simulator, faults, reset) needs no
key: a sandbox is a local, disposable tool. Paths are relative, so the app can be mounted under
a prefix; a parent app does not run a mounted app's lifespan, so it must call `start`/`stop`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from app.docs_pages import install_docs_pages
from app.sandbox import (
    ari,
    bookings,
    channels,
    groups,
    iframe,
    inspection,
    one_time_tokens,
    properties,
    rate_plans,
    room_types,
    simulator,
    webhooks,
)
from app.sandbox.config import SandboxConfig
from app.sandbox.deps import check_api_key
from app.sandbox.errors import install_error_handlers
from app.sandbox.faults import API_PREFIX, FaultMiddleware
from app.sandbox.state import SandboxState


async def start(app: FastAPI) -> None:
    """Nothing to start eagerly: background tasks are created on demand and owned by the state."""
    _state(app)


async def stop(app: FastAPI) -> None:
    """Cancel pending webhook deliveries and timers, close the HTTP client."""
    await _state(app).aclose()


def _state(app: FastAPI) -> SandboxState:
    state: SandboxState = app.state.sandbox
    return state


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    await start(app)
    try:
        yield
    finally:
        await stop(app)


def _api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(check_api_key)])
    for module in (
        groups, properties, room_types, rate_plans, ari, bookings, webhooks, channels,
        one_time_tokens,
    ):  # fmt: skip
        router.include_router(module.router)
    return router


def create_sandbox_app(config: SandboxConfig | None = None) -> FastAPI:
    """A fresh sandbox with its own in-memory state (`app.state.sandbox`)."""
    # /docs and /redoc without a CDN (app/docs_pages.py), as the service's own.
    app = FastAPI(title="Channex sandbox", lifespan=_lifespan, docs_url=None, redoc_url=None)
    install_docs_pages(app)
    app.state.sandbox = SandboxState(config or SandboxConfig())
    install_error_handlers(app)
    app.add_middleware(FaultMiddleware, state=app.state.sandbox)
    app.include_router(_api_router())
    app.include_router(inspection.router)
    app.include_router(simulator.router)
    app.include_router(iframe.router)  # the hotel's browser: pages, no API key
    return app
