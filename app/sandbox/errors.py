"""Channex-shaped errors: `{"errors": {"code", "title", "details"}}`, an object (§1.4)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

Details = dict[str, list[str]] | list[str]


class ChannexError(Exception):
    """An error answered the way Channex answers it."""

    def __init__(self, status: int, code: str, title: str, details: Details | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.code = code
        self.title = title
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body; `details` only when there are some."""
        error: dict[str, Any] = {"code": self.code, "title": self.title}
        if self.details is not None:
            error["details"] = self.details
        return {"errors": error}


def unauthorized() -> ChannexError:
    return ChannexError(401, "unauthorized", "Unauthorized")


def not_found() -> ChannexError:
    return ChannexError(404, "resource_not_found", "Resource Not Found")


def bad_request(*messages: str) -> ChannexError:
    """400 with an array of strings as details, e.g. `["restrictions is required"]`."""
    return ChannexError(400, "bad_request", "Bad Request", list(messages))


def validation_error(details: dict[str, list[str]]) -> ChannexError:
    """422 with a field → messages map."""
    return ChannexError(422, "validation_error", "Validation Error", details)


def too_many_requests() -> ChannexError:
    return ChannexError(429, "http_too_many_requests", "Too Many Requests")


def server_error() -> ChannexError:
    return ChannexError(500, "internal_server_error", "Internal Server Error")


def error_response(error: ChannexError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


async def _handle_channex_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ChannexError)
    return error_response(exc)


async def _handle_request_validation(_: Request, exc: Exception) -> JSONResponse:
    """Sandbox-only bodies and query parameters: 422 with messages per field."""
    assert isinstance(exc, RequestValidationError)
    details: dict[str, list[str]] = {}
    for error in exc.errors():
        where = [str(part) for part in error["loc"] if part not in ("body", "query")]
        details.setdefault(".".join(where) or "body", []).append(str(error["msg"]))
    return error_response(validation_error(details))


async def _handle_http_exception(_: Request, exc: Exception) -> JSONResponse:
    """Unknown paths and methods, in Channex's envelope too."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(not_found())
    code = "method_not_allowed" if exc.status_code == 405 else "http_error"
    return error_response(ChannexError(exc.status_code, code, str(exc.detail)))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every sandbox error with Channex's error envelope."""
    app.add_exception_handler(ChannexError, _handle_channex_error)
    app.add_exception_handler(HTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_request_validation)
