"""One error format everywhere: RFC 9457 problem+json with a stable `code`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.channex.errors import (
    ChannexAuthError,
    ChannexError,
    ChannexNotFoundError,
    ChannexRateLimitedError,
    ChannexUnavailableError,
    ChannexValidationError,
    is_entity_limit,
)
from app.errors import AppError, FieldError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def problem(error: AppError, request: Request) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:channel-sync:problem:{error.code}",
        "title": error.title,
        "status": error.status,
        "code": error.code,
        "instance": request.url.path,
    }
    if error.detail:
        body["detail"] = error.detail
    if error.errors:
        body["errors"] = [
            {"loc": item.loc, "message": item.message, "code": item.code} for item in error.errors
        ]
    return JSONResponse(
        body, status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers
    )


def from_channex(exc: ChannexError) -> AppError:
    """Channex's failures as ours: its 422 keeps the fields it rejected, an outage is a 503,
    a size limit of the account is a 409 of its own (no retry helps until it is raised)."""
    if is_entity_limit(exc):
        return AppError(409, "channex_limit_reached", "Channex's size limit reached",
                        f"Channex refused: {exc.title}", _channex_fields(exc.details))  # fmt: skip
    if isinstance(exc, ChannexValidationError):
        return AppError(422, "channex_rejected", "Channex rejected the request", exc.title,
                        _channex_fields(exc.details))  # fmt: skip
    if isinstance(exc, ChannexRateLimitedError):
        retry = str(max(1, round(exc.retry_after)))
        return AppError(503, "channex_rate_limited", "Channex rate limit reached",
                        f"retry in {retry} s", headers={"Retry-After": retry})  # fmt: skip
    if isinstance(exc, ChannexUnavailableError):
        return AppError(503, "channex_unavailable", "Channex is unavailable", exc.title,
                        headers={"Retry-After": "30"})  # fmt: skip
    if isinstance(exc, ChannexAuthError):
        return AppError(502, "channex_auth_failed", "Channex refused our credentials", exc.title)
    if isinstance(exc, ChannexNotFoundError):
        return AppError(502, "channex_not_found", "Channex lost an entity we map", exc.title)
    return AppError(502, "channex_error", "Channex answered with an error", exc.title)


def _channex_fields(details: object) -> list[FieldError]:
    if isinstance(details, dict):
        return [
            FieldError(
                f"channex.{name}",
                "; ".join(map(str, messages if isinstance(messages, list) else [messages])),
                "channex_rejected",
            )
            for name, messages in details.items()
        ]
    if isinstance(details, list):
        return [FieldError("channex", str(message), "channex_rejected") for message in details]
    return []


def _validation(exc: RequestValidationError) -> AppError:
    errors = [
        FieldError(".".join(str(part) for part in item["loc"]), item["msg"], item["type"])
        for item in exc.errors()
    ]
    return AppError(
        422, "validation_error", "Invalid request", "the request did not validate", errors
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error, ours, Channex's, FastAPI's and unexpected ones, to problem+json."""

    async def on_app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return problem(exc, request)

    async def on_channex_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ChannexError)
        log.warning("channex call failed: %s", type(exc).__name__, extra={"path": request.url.path})
        return problem(from_channex(exc), request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem(_validation(exc), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        title = code.replace("_", " ").capitalize()
        headers = dict(exc.headers or {})
        error = AppError(exc.status_code, code, title, str(exc.detail), headers=headers)
        return problem(error, request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(AppError(), request)

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(ChannexError, on_channex_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
