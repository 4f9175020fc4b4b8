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
from app.api.openapi_document import install_document
from app.api.openapi_examples import document_examples
from app.api.problem_docs import document_problems
from app.api.request_guard import RequestGuard
from app.api.revision_docs import declare_webhooks, document_revision
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
    declare_webhooks(app)  # the pushes to the PMS: webhooks, not paths
    install_document(
        app,
        [
            lambda document: document_problems(document, routes),
            lambda document: document_examples(document, routes),
            document_revision,
        ],
    )
    install_console(app, settings, failures)  # HTML at /console, outside the OpenAPI document
    if sandbox is not None:
        app.mount(SANDBOX_PREFIX, sandbox)
    return app
