"""Attach the console to the app: its routes, its static files, its cookie signer."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.api.auth_failures import AuthFailures
from app.console.router import PREFIX, STATIC_DIR, LoginRequired, router
from app.console.session import Signer
from app.settings import Settings


async def _to_login(request: Request, exc: Exception) -> Response:
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


def install_console(app: FastAPI, settings: Settings, failures: AuthFailures) -> None:
    """`failures`: the API's failed-authentication counter, which login attempts share."""
    app.state.console_signer = Signer(settings)
    app.state.console_failures = failures
    app.add_exception_handler(LoginRequired, _to_login)
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console-static")
