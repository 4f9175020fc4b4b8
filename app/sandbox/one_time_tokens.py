"""One-time tokens for the channel iframe: `POST /auth/one_time_token` (channex-api.md §9.4).

Single use, 15 minutes (on the sandbox's clock, which a test may move), tied to the property
they were made for; `/auth/exchange` (app/sandbox/iframe.py) spends them."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter

from app.sandbox.deps import BodyDep, StateDep
from app.sandbox.errors import ChannexError, unauthorized
from app.sandbox.jsonapi import Json, unwrap
from app.sandbox.state import OneTimeToken, SandboxState
from app.sandbox.validate import INVALID, Checker, known

router = APIRouter()

TOKEN_LIFETIME = timedelta(minutes=15)


@router.post("/auth/one_time_token")
async def create_one_time_token(body: BodyDep, state: StateDep) -> Json:
    """A token for `property_id` (and `group_id`, which must hold it), naming `username`."""
    async with state.lock:
        attrs = unwrap(body, "one_time_token")
        checker = Checker(attrs)
        checker.text("property_id", required=True)
        checker.text("group_id")
        checker.text("username", required=True)
        property_id, group_id = attrs.get("property_id"), attrs.get("group_id")
        prop = state.store.properties.get(property_id) if isinstance(property_id, str) else None
        if "property_id" not in checker.errors and prop is None:
            checker.add("property_id", INVALID)
        if prop is not None and group_id is not None and not known(prop.group_ids, group_id):
            checker.add("group_id", INVALID)
        checker.raise_if_any()
        assert prop is not None
        token = secrets.token_urlsafe(32)
        expires = state.clock() + TOKEN_LIFETIME
        state.store.one_time_tokens[token] = OneTimeToken(prop.id, str(attrs["username"]), expires)
        return {"data": {"token": token}}


def spend_token(state: SandboxState, token: str | None, property_id: str | None) -> OneTimeToken:
    """The token, now used; 401 when unknown, used, expired or made for another property."""
    found = state.store.one_time_tokens.get(token or "")
    if found is None or found.used or property_id != found.property_id:
        raise unauthorized()
    if state.clock() >= found.expires_at:
        raise ChannexError(401, "unauthorized", "Token expired")
    found.used = True
    return found
