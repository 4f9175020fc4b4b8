"""The console's routes: thin, each reads through app/console/queries.py or a service and
renders a template. Not in the OpenAPI document (HTML, not API); the console does its own
authentication (a signed session cookie), RequestGuard only guards /v1/."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.api.auth_failures import AuthFailures
from app.api.deps import ChannexDep, ResourcesDep, SessionDep
from app.channex.errors import ChannexError
from app.console import queries
from app.console.session import COOKIE, LIFETIME_SECONDS, ConsoleSession, Signer, csrf_ok
from app.errors import AppError
from app.jobs.requests import request_deliveries
from app.services import bookings as booking_service
from app.services.access import Principal, find_principal
from app.services.ari_runs import list_runs
from app.services.booking_problems import list_problems
from app.services.properties import get_property
from app.services.revision_sources import reapply_quarantined

PREFIX = "/console"
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix=PREFIX, include_in_schema=False)
OPERATOR = Principal(name="console")
RUNS_SHOWN = 50
GRID_DAYS = 14  # a global principal for the services


class LoginRequired(Exception):
    """No valid session: the console answers with a redirect to the login page."""


def _signer(request: Request) -> Signer:
    signer: Signer = request.app.state.console_signer
    return signer


def current_session(request: Request) -> ConsoleSession:
    session = _signer(request).read(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired
    return session


ConsoleSessionDep = Annotated[ConsoleSession, Depends(current_session)]


async def checked_post(
    request: Request, session: ConsoleSessionDep, csrf: Annotated[str | None, Form()] = None
) -> ConsoleSession:
    """A console action: a valid session and its CSRF token in the form, else 403."""
    if not csrf_ok(session, csrf):
        raise AppError(403, "csrf_failed", "Forbidden", "missing or wrong CSRF token")
    return session


ActionDep = Annotated[ConsoleSession, Depends(checked_post)]


def _page(
    request: Request, name: str, session: ConsoleSession | None, **context: object
) -> HTMLResponse:
    flash = request.query_params.get("flash")
    return templates.TemplateResponse(
        request, name, {"session": session, "flash": flash, **context}
    )


def _back(path: str, flash: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}{path}?flash={quote(flash)}", status_code=303)


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html", None, error=None)


@router.post("/login")
async def login(
    request: Request, resources: ResourcesDep, key: Annotated[str, Form(max_length=512)]
) -> Response:
    failures: AuthFailures = request.app.state.console_failures
    address = request.client.host if request.client else "unknown"
    if failures.retry_after(address) is not None:
        throttled = _page(request, "login.html", None, error="Too many failed attempts; wait.")
        throttled.status_code = 429
        return throttled
    found = find_principal(resources.settings, key)
    operator = found is not None and any(
        k.operator and k.organization_id is None and k.name == found.name
        for k in resources.settings.api_keys
    )
    if found is None or not operator:
        failures.failed(address)
        refused = _page(request, "login.html", None, error="Not an operator key.")
        refused.status_code = 401
        return refused
    failures.succeeded(address)
    cookie, _ = _signer(request).issue(found.name)
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    response.set_cookie(
        COOKIE, cookie, max_age=LIFETIME_SECONDS, path=PREFIX, httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.post("/logout")
async def logout(_: ActionDep) -> Response:
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/")
async def overview(
    request: Request,
    session: ConsoleSessionDep,
    db: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    found = await queries.overview(db, q=q.strip(), page=page)
    return _page(request, "overview.html", session, overview=found, q=q)


@router.get("/properties/{property_id}")
async def property_page(
    request: Request,
    property_id: str,
    session: ConsoleSessionDep,
    db: SessionDep,
    start: Annotated[date | None, Query(alias="from")] = None,
) -> HTMLResponse:
    prop, _ = await get_property(db, OPERATOR, property_id)
    runs, total = await list_runs(db, OPERATOR, property_id, limit=RUNS_SHOWN, offset=0)
    date_from = start or datetime.now(ZoneInfo(prop.timezone)).date()
    dates, grid = await queries.ari_grid(db, prop.id, date_from, GRID_DAYS)
    return _page(
        request, "property.html", session,
        prop=prop, runs=runs, total_runs=total, dates=dates, grid=grid,
        earlier=date_from - timedelta(days=GRID_DAYS), later=date_from + timedelta(days=GRID_DAYS),
    )  # fmt: skip


@router.get("/bookings")
async def bookings(request: Request, session: ConsoleSessionDep, db: SessionDep) -> HTMLResponse:
    problems = await list_problems(db, OPERATOR)
    return _page(request, "bookings.html", session, problems=problems)


@router.post("/bookings/quarantine/{revision_id}/reapply")
async def reapply(
    revision_id: str,
    _: ActionDep,
    db: SessionDep,
    resources: ResourcesDep,
    channex: ChannexDep,
) -> Response:
    try:
        outcome = await reapply_quarantined(db, channex, resources.settings, revision_id)
    except (AppError, ChannexError) as exc:  # e.g. Channex still serves it malformed
        await db.rollback()
        return _back("/bookings", f"Re-apply of {revision_id} failed: {exc}")
    await db.commit()
    pairs = await booking_service.pending_pairs(db, outcome.revision.booking_id)
    await request_deliveries(resources.queue, pairs)
    return _back("/bookings", f"Revision {revision_id} re-applied.")


@router.post("/bookings/revisions/{revision_id}/replay")
async def replay(
    revision_id: str, _: ActionDep, db: SessionDep, resources: ResourcesDep
) -> Response:
    try:
        deliveries = await booking_service.replay_revision(db, OPERATOR, revision_id)
    except AppError as exc:
        return _back("/bookings", f"Replay of {revision_id} failed: {exc}")
    pairs = [(d.endpoint_id, d.booking_id) for d in deliveries]
    await db.commit()
    await request_deliveries(resources.queue, pairs)
    return _back("/bookings", f"Revision {revision_id} replayed to {len(pairs)} endpoint(s).")
