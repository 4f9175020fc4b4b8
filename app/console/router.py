"""The console's routes: thin, each reads through app/console/queries.py or a service and
renders a template. Not in the OpenAPI document (HTML, not API); the console does its own
authentication (a signed session cookie), RequestGuard only guards /v1/."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.api.auth_failures import AuthFailures
from app.api.deps import ChannexDep, ResourcesDep, SessionDep
from app.channex.errors import ChannexError
from app.console import queries
from app.console.deliveries import endpoint_rows
from app.console.inbox import STATES, inbox_page
from app.console.session import (
    COOKIE,
    FLASH_COOKIE,
    FLASH_LIFETIME_SECONDS,
    LIFETIME_SECONDS,
    LOGIN_COOKIE,
    LOGIN_LIFETIME_SECONDS,
    ConsoleSession,
    Signer,
    csrf_ok,
    login_csrf_ok,
    new_login_token,
)
from app.errors import AppError
from app.jobs.requests import request_deliveries, request_endpoint_drain
from app.services import bookings as booking_service
from app.services.access import Principal, find_principal
from app.services.ari_runs import list_runs
from app.services.booking_problems import list_problems
from app.services.delivery_retry import EndpointDisabledError, retry_endpoint_now
from app.services.properties import get_property
from app.services.revision_sources import reapply_quarantined

PREFIX = "/console"
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix=PREFIX, include_in_schema=False)
OPERATOR = Principal(name="console")  # a global principal for the services
RUNS_SHOWN = 50
GRID_DAYS = 14
LOGIN_PATH = f"{PREFIX}/login"


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


def _set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int, path: str
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def _page(
    request: Request, name: str, session: ConsoleSession | None, **context: object
) -> HTMLResponse:
    """The page, with the flash an action left for it (shown once: its cookie is cleared)."""
    flash = _signer(request).unseal("flash", request.cookies.get(FLASH_COOKIE))
    response = templates.TemplateResponse(
        request, name, {"session": session, "flash": flash, **context}
    )
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=PREFIX)
    return response


def _back(request: Request, path: str, flash: str) -> RedirectResponse:
    """Back to a page after an action; its message rides in a signed cookie, not the URL."""
    response = RedirectResponse(f"{PREFIX}{path}", status_code=303)
    sealed = _signer(request).seal("flash", flash, FLASH_LIFETIME_SECONDS)
    _set_cookie(response, request, FLASH_COOKIE, sealed, FLASH_LIFETIME_SECONDS, PREFIX)
    return response


def _login_page(request: Request, error: str | None, status_code: int = 200) -> HTMLResponse:
    """The login form with its CSRF token in the hidden field and in a signed cookie; a still
    valid token is kept, so that two open login tabs both work."""
    signer = _signer(request)
    token = signer.unseal("login", request.cookies.get(LOGIN_COOKIE)) or new_login_token()
    response = _page(request, "login.html", None, error=error, login_csrf=token)
    response.status_code = status_code
    sealed = signer.seal("login", token, LOGIN_LIFETIME_SECONDS)
    _set_cookie(response, request, LOGIN_COOKIE, sealed, LOGIN_LIFETIME_SECONDS, LOGIN_PATH)
    return response


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request, None)


@router.post("/login")
async def login(
    request: Request,
    resources: ResourcesDep,
    key: Annotated[str, Form(max_length=512)],
    csrf: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    # Login CSRF: without it another site could log a browser in under the attacker's key.
    expected = _signer(request).unseal("login", request.cookies.get(LOGIN_COOKIE))
    if not login_csrf_ok(expected, csrf):
        return _login_page(request, "The login form expired; try again.", 403)
    failures: AuthFailures = request.app.state.console_failures
    address = request.client.host if request.client else "unknown"
    if failures.retry_after(address) is not None:
        return _login_page(request, "Too many failed attempts; wait.", 429)
    found = find_principal(resources.settings, key)
    operator = found is not None and any(
        k.operator and k.organization_id is None and k.name == found.name
        for k in resources.settings.api_keys
    )
    if found is None or not operator:
        failures.failed(address)
        return _login_page(request, "Not an operator key.", 401)
    failures.succeeded(address)
    cookie, _ = _signer(request).issue(found.name)
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    _set_cookie(response, request, COOKIE, cookie, LIFETIME_SECONDS, PREFIX)
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
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
    request: Request,
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
        return _back(request, "/bookings", f"Re-apply of {revision_id} failed: {exc}")
    await db.commit()
    pairs = await booking_service.pending_pairs(db, outcome.revision.booking_id)
    await request_deliveries(resources.queue, pairs)
    return _back(request, "/bookings", f"Revision {revision_id} re-applied.")


@router.post("/bookings/revisions/{revision_id}/replay")
async def replay(
    request: Request, revision_id: str, _: ActionDep, db: SessionDep, resources: ResourcesDep
) -> Response:
    try:
        deliveries = await booking_service.replay_revision(db, OPERATOR, revision_id)
    except AppError as exc:
        return _back(request, "/bookings", f"Replay of {revision_id} failed: {exc}")
    pairs = [(d.endpoint_id, d.booking_id) for d in deliveries]
    await db.commit()
    await request_deliveries(resources.queue, pairs)
    return _back(
        request, "/bookings", f"Revision {revision_id} replayed to {len(pairs)} endpoint(s)."
    )


@router.get("/deliveries")
async def deliveries(request: Request, session: ConsoleSessionDep, db: SessionDep) -> HTMLResponse:
    return _page(request, "deliveries.html", session, endpoints=await endpoint_rows(db))


@router.post("/deliveries/endpoints/{endpoint_id}/retry")
async def retry_now(
    request: Request, endpoint_id: int, _: ActionDep, db: SessionDep, resources: ResourcesDep
) -> Response:
    try:
        pairs = await retry_endpoint_now(db, endpoint_id)
    except (AppError, EndpointDisabledError) as exc:
        return _back(request, "/deliveries", f"Retry of endpoint {endpoint_id} refused: {exc}")
    await db.commit()
    # One drain job for the endpoint: a booking's own delivery job may sit deferred in the
    # queue until its next retry, and would refuse a second one with its id.
    await request_endpoint_drain(resources.queue, endpoint_id)
    flash = f"Endpoint {endpoint_id}: {len(pairs)} booking(s) with pending deliveries queued now."
    return _back(request, "/deliveries", flash)


@router.get("/inbox")
async def inbox(
    request: Request,
    session: ConsoleSessionDep,
    db: SessionDep,
    state: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    found = await inbox_page(db, state=state if state in STATES else "", page=page)
    return _page(request, "inbox.html", session, inbox=found, states=STATES)
