"""The FastAPI application: routers, error handlers, and the lifespan owning the resources."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import (
    ari,
    bookings,
    channel_sessions,
    channex_catalog,
    health,
    metrics,
    organizations,
    properties,
    rate_plans,
    room_types,
    webhooks,
)
from app.api.access_log import AccessLog
from app.api.auth_failures import AuthFailures
from app.api.errors import install_error_handlers
from app.api.openapi_examples import install_examples
from app.api.problem_docs import install_problem_docs
from app.api.request_guard import RequestGuard
from app.api.revision_docs import install_revision_docs
from app.api.tags import TAGS
from app.console.mount import install_console
from app.docs_pages import install_docs_pages
from app.jobs.inbox_waker import InboxWaker
from app.migrate import ensure_schema
from app.resources import open_resources
from app.sandbox import app as sandbox_app
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

DESCRIPTION = """\
channel-sync connects a hotel PMS to the Channex.io channel manager.

Every `/v1` route needs an API key, as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
Errors are `application/problem+json` (RFC 9457) with a stable `code`.
"""


SANDBOX_PREFIX = "/channex-sandbox"


def create_app(settings: Settings | None = None, *, sandbox: FastAPI | None = None) -> FastAPI:
    """Build the app; nothing is opened until the lifespan starts.

    With `sandbox` (a Channex sandbox app), it is mounted at SANDBOX_PREFIX and started and
    stopped with this app, so one process shows the whole flow (`serve --sandbox`).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if sandbox is not None:
            await sandbox_app.start(sandbox)
        resources = await open_resources(settings)
        try:
            await ensure_schema(resources.engine, settings)
            await resources.start()
            app.state.resources = resources
            app.state.inbox_waker = waker = InboxWaker(resources.queue)
            yield
            await waker.aclose()
        finally:
            await resources.aclose()
            if sandbox is not None:
                await sandbox_app.stop(sandbox)

    app = FastAPI(
        title="channel-sync",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
        docs_url=None,  # /docs and /redoc without a CDN: app/docs_pages.py
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs_pages(app)
    failures = AuthFailures(settings.auth_failures_per_minute)  # API keys and console logins
    app.add_middleware(RequestGuard, settings=settings, failures=failures)
    if settings.access_log:
        app.add_middleware(AccessLog)  # outermost: it also logs what the guard refused
    routers = (
        health,
        metrics,
        organizations,
        properties,
        room_types,
        rate_plans,
        channex_catalog,
        channel_sessions,
        ari,
    )
    # The webhook intake first: routes are matched in order, and it is the busiest one.
    modules = (webhooks, *routers, bookings)
    for module in modules:
        app.include_router(module.router)
    routes = [route for module in modules for route in module.router.routes]
    install_problem_docs(app, routes)
    install_examples(app, routes)
    install_revision_docs(app)  # the push to the PMS (a webhook, not a path), examples
    install_console(app, settings, failures)  # HTML at /console, outside the OpenAPI document
    if sandbox is not None:
        app.mount(SANDBOX_PREFIX, sandbox)
    return app
