"""Before any route: nothing of a `/v1` request's body is read before its caller is known,
no body is read past its cap, and an address that keeps failing to authenticate waits.

FastAPI reads and parses a JSON body before it runs a route's dependencies, so the API key
dependency alone would let anyone without a key make the process buffer and parse any
amount of data (a 200 MB PUT grew it by 656 MiB). This ASGI middleware runs first: a `/v1`
request without a valid key is answered 401 unread, and every body is counted while it
streams and refused with 413 at the cap, never buffered whole. A NUL character in the URL is
refused (422) here too, before any route could hand it to PostgreSQL, which refuses it in
text. The webhook intake is left to its own secret and cap (app/api/webhooks.py), but its
401s count as failed authentications too: past AUTH_FAILURES_PER_MINUTE from one address, that
address is answered 429 on every `/v1` route until the minute has passed (app/api/auth_failures.py).
"""

from __future__ import annotations

from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.auth_failures import AuthFailures
from app.api.errors import problem
from app.errors import AppError, FieldError, invalid
from app.services.access import find_principal
from app.settings import Settings

GUARDED_PREFIX = "/v1/"
WEBHOOK_PREFIX = "/v1/webhooks/"


class RequestGuard:
    """Authenticate `/v1` calls before their body, cap every body as it streams, and slow
    down addresses that keep failing to authenticate."""

    def __init__(
        self, app: ASGIApp, settings: Settings, failures: AuthFailures | None = None
    ) -> None:
        self._app = app
        self._settings = settings
        self._limit = settings.api_max_body_bytes
        # Shared with the console's login (app/console), so both count against one limit.
        self.failures = failures or AuthFailures(settings.auth_failures_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(GUARDED_PREFIX):
            await self._app(scope, receive, send)
            return
        address = _address(scope)
        refusal = self._throttled(address)
        if refusal is None and not path.startswith(WEBHOOK_PREFIX):
            refusal = self._refusal(scope, Headers(scope=scope))
        if refusal is not None:
            if refusal.status == 401:
                self.failures.failed(address)
            await problem(refusal, Request(scope))(scope, receive, send)
            return
        if path.startswith(WEBHOOK_PREFIX):  # its own secret and cap; its 401s count
            await self._app(scope, receive, self._counting(address, send))
            return
        self.failures.succeeded(address)
        await self._app(scope, _capped(receive, self._limit), send)

    def _throttled(self, address: str) -> AppError | None:
        wait = self.failures.retry_after(address)
        if wait is None:
            return None
        seconds = str(max(1, round(wait)))
        detail = f"too many failed authentications from this address; retry in {seconds} s"
        return AppError(
            429, "too_many_failures", "Too many failed authentications", detail,
            headers={"Retry-After": seconds},
        )  # fmt: skip

    def _counting(self, address: str, send: Send) -> Send:
        """`send`, noting a 401 from the route as a failed authentication."""

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.failures.failed(address)
            await send(message)

        return counting_send

    def _refusal(self, scope: Scope, headers: Headers) -> AppError | None:
        presented = _presented_key(headers)
        if presented is None:
            return _unauthorized("missing API key")
        if find_principal(self._settings, presented) is None:
            return _unauthorized("invalid API key")
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._limit:
            return too_large(self._limit)
        return _nul_in_url(scope)


def _address(scope: Scope) -> str:
    """The client's address (behind a proxy, uvicorn's --forwarded-allow-ips sets it)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _presented_key(headers: Headers) -> str | None:
    """The key as the API's security schemes read it (app/api/deps.py): a bearer token, else
    X-API-Key."""
    scheme, credentials = get_authorization_scheme_param(headers.get("authorization"))
    if scheme.lower() == "bearer" and credentials:
        return credentials
    return headers.get("x-api-key") or None


def _nul_in_url(scope: Scope) -> AppError | None:
    """NUL in a path or query value: a 422 here, not a statement PostgreSQL refuses (500)."""
    where = []
    if "\x00" in scope.get("path", ""):
        where.append(FieldError("path", "NUL characters are not allowed"))
    if b"%00" in scope.get("query_string", b""):
        where.append(FieldError("query", "NUL characters are not allowed"))
    return invalid("NUL character in the URL", where) if where else None


def _capped(receive: Receive, limit: int) -> Receive:
    """`receive`, refusing the body once more than `limit` bytes have come (a chunked body
    declares no length, so the count is what holds)."""
    size = 0

    async def capped_receive() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                # An HTTPException passes FastAPI's body reading unchanged (any other error
                # becomes a 400 there) and reaches the problem+json handler as a 413.
                raise HTTPException(413, f"limit is {limit} bytes")
        return message

    return capped_receive


def _unauthorized(detail: str) -> AppError:
    headers = {"WWW-Authenticate": "Bearer"}
    return AppError(401, "unauthorized", "Unauthorized", detail, headers=headers)


def too_large(limit: int) -> AppError:
    return AppError(413, "payload_too_large", "Payload too large", f"limit is {limit} bytes")
