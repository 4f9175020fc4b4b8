"""One access log line per request, and a request id in every log line of that request.

The id comes from the caller's `X-Request-ID` when it is a sane token (so a PMS can follow
its own ids through our logs), else it is generated; it is echoed in the answer's
`X-Request-ID`. While the request runs it sits in a context variable (`app.logs.request_id`)
that `RequestIdFilter`, installed by app.logs.configure_logging, copies into every record:
each line of the request, ours or a library's, carries `request_id`. uvicorn's own access
line is off (`serve` passes access_log=False): this one has the route, duration and id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import request_id

log = logging.getLogger("app.access")

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller's id may be: short, and nothing that could forge a log line or a header.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class AccessLog:
    """ASGI middleware: the request id, and one `app.access` line per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER)
        rid = given if given is not None and _SANE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, rid)
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %d",
                scope["method"],
                _route(scope),
                status,
                extra={
                    "method": scope["method"],
                    "route": _route(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id.reset(token)


def _route(scope: Scope) -> str:
    """The route's template (`/v1/properties/{property_id}`), so lines group by route and
    carry no ids; the raw path only when no route matched."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else str(scope.get("path", ""))
