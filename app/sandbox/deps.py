"""Dependencies shared by the sandbox routes: the state, the API key check, request counting."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

from app.sandbox.errors import bad_request, unauthorized
from app.sandbox.state import SandboxState


async def get_state(request: Request) -> SandboxState:
    # async: FastAPI runs a plain `def` dependency in its thread pool, and a thread hop on
    # every sandbox request was a fifth of the sandbox's CPU in benchmarks/bookings_speed.py.
    state: SandboxState = request.app.state.sandbox
    return state


StateDep = Annotated[SandboxState, Depends(get_state)]


def endpoint_name(request: Request) -> str:
    """`METHOD /path/template`, the key of the per-endpoint counters."""
    route: Any = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


async def check_api_key(request: Request, state: StateDep) -> None:
    """Count the request, then require Channex's `user-api-key` header (channex-api.md §1.1)."""
    state.counter(endpoint_name(request)).requests += 1
    if request.headers.get("user-api-key") != state.config.api_key:
        raise unauthorized()


async def read_json(request: Request) -> Any:
    """The request body as JSON; an empty body reads as `{}`."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("request body is not valid JSON") from None


BodyDep = Annotated[Any, Depends(read_json)]
