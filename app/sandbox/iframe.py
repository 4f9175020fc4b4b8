"""The channel iframe, played by the sandbox (channex-api.md §9.4): `/auth/exchange` spends a
one-time token and shows a plain form where the simulated hotel picks an OTA among those the
PMS offered, enters its hotel id at the OTA and maps the property's rate plans; submitting
creates the channel inactive (`new_channel`), as Channex does until the OTA side approves.
An "approve" button then plays the hotel accepting Channex in the OTA's extranet: the channel
is activated (`activate_channel`). Plain HTML, no script, no CDN: it works offline.

A used, expired or unknown token gets a 401: an error page, or Channex's JSON error to a
client that asks for JSON. Form posts carry the iframe session's id (made at the exchange,
never the token), so the token is spent once and never travels again."""

from __future__ import annotations

import secrets
from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.sandbox.channels import create_channel, set_active
from app.sandbox.deps import StateDep
from app.sandbox.errors import ChannexError, error_response
from app.sandbox.one_time_tokens import spend_token
from app.sandbox.ota import OTAS
from app.sandbox.state import Channel, IframeSession, SandboxState

router = APIRouter(prefix="/auth")

# Short code (the iframe's `channels` filter, §9.3) → adapter code, for the OTAs simulated.
SHORT_CODES = {short: code for code, (short, _, _) in OTAS.items()}

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem; color: #1d2433; max-width: 52rem; }
h1 { font-size: 1.4rem; } fieldset { border: 1px solid #c8cdd6; margin: 1rem 0; }
table { border-collapse: collapse; } th, td { text-align: left; padding: .3rem .6rem; }
.error { color: #a1212a; } .state { font-weight: bold; } button { font-size: 1rem; }
"""


def _page(title: str, body: str, *, language: str = "en", status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    # The page (and its URL, which held the token) must not be cached or sent as a Referer.
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(html, status_code=status, headers=headers)


def _refused(request: Request, error: ChannexError) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return error_response(error)
    text = "This link has expired or was used already. Ask for a new connection session."
    return _page("Channel connection", f'<p class="error">{escape(text)}</p>', status=401)


def _offered(channels: str | None) -> list[str]:
    """Adapter codes to offer: those of the `channels` filter the sandbox simulates, else all."""
    if not channels:
        return list(OTAS)
    return [SHORT_CODES[c] for c in dict.fromkeys(channels.split(",")) if c in SHORT_CODES]


@router.get("/exchange", response_model=None)
async def exchange(
    request: Request,
    state: StateDep,
    oauth_session_key: str | None = None,
    property_id: str | None = None,
    channels: str | None = None,
    lng: Annotated[str, Query(max_length=8)] = "en",
    read_only_availability: bool = False,
) -> Response:
    """Spend the token; show the connection form for its property."""
    async with state.lock:
        try:
            token = spend_token(state, oauth_session_key, property_id)
        except ChannexError as error:
            return _refused(request, error)
        session_id = secrets.token_urlsafe(24)
        session = IframeSession(token.property_id, _offered(channels), lng, read_only_availability)
        state.store.iframe_sessions[session_id] = session
        return _form(state, session_id, session, errors=[])


def _form(
    state: SandboxState,
    session_id: str,
    session: IframeSession,
    errors: list[str],
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    values = values or {}
    prop = state.store.properties[session.property_id]
    chosen = values.get("channel", session.offered[0] if session.offered else "")
    options = "".join(
        f'<label><input type="radio" name="channel" value="{code}"'
        f"{' checked' if code == chosen else ''}> {escape(OTAS[code][1])}</label> "
        for code in session.offered
    )
    rows = "".join(_mapping_row(state, plan_id, values) for plan_id in _plan_ids(state, session))
    problems = "".join(f'<p class="error" role="alert">{escape(e)}</p>' for e in errors)
    availability = (
        "<p>Availability is managed by your PMS: read only here.</p>"
        if session.read_only_availability
        else ""
    )
    body = f"""
<p>Property: <strong>{escape(str(prop.attrs["title"]))}</strong></p>{availability}{problems}
<form method="post" action="channels">
<input type="hidden" name="session" value="{escape(session_id)}">
<fieldset><legend>OTA</legend>{options or "No OTA is offered."}</fieldset>
<fieldset><legend>Connection</legend>
<label>Hotel id at the OTA <input name="hotel_id" value="{escape(values.get("hotel_id", ""))}">
</label></fieldset>
<fieldset><legend>Mapping</legend><table>
<tr><th>Map</th><th>Room type / rate plan</th><th>OTA room code</th><th>OTA rate code</th></tr>
{rows}</table></fieldset>
<button type="submit">Connect</button>
</form>"""
    status = 422 if errors else 200
    return _page("Connect a channel", body, language=session.language, status=status)


def _plan_ids(state: SandboxState, session: IframeSession) -> list[str]:
    plans = [p for p in state.store.rate_plans.values() if p.property_id == session.property_id]
    return [p.id for p in sorted(plans, key=lambda p: (p.room_type_id, str(p.attrs["title"])))]


def _mapping_row(state: SandboxState, plan_id: str, values: dict[str, str]) -> str:
    plan = state.store.rate_plans[plan_id]
    room = state.store.room_types[plan.room_type_id]
    label = f"{room.attrs['title']} / {plan.attrs['title']}"
    checked = " checked" if values.get(f"map:{plan_id}") else ""
    room_code = escape(values.get(f"room_code:{plan_id}", ""))
    rate_code = escape(values.get(f"rate_code:{plan_id}", ""))
    ident = escape(plan_id)
    return (
        f'<tr><td><input type="checkbox" name="map:{ident}" value="on"'
        f' aria-label="map {escape(label)}"{checked}></td><td>{escape(label)}</td>'
        f'<td><input name="room_code:{ident}" value="{room_code}"'
        f' aria-label="OTA room code of {escape(label)}"></td>'
        f'<td><input name="rate_code:{ident}" value="{rate_code}"'
        f' aria-label="OTA rate code of {escape(label)}"></td></tr>'
    )


async def _form_values(request: Request) -> dict[str, str]:
    """An urlencoded form body (the only kind these pages send), last value of each name."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def _session(state: SandboxState, values: dict[str, str]) -> tuple[str, IframeSession] | None:
    session_id = values.get("session", "")
    session = state.store.iframe_sessions.get(session_id)
    if session is None or session.property_id not in state.store.properties:
        return None
    return session_id, session


@router.post("/channels", response_model=None)
async def connect(request: Request, state: StateDep) -> Response:
    """Create the channel, inactive, with its mappings: `new_channel`; then ask to approve."""
    values = await _form_values(request)
    async with state.lock:
        found = _session(state, values)
        if found is None:
            return _refused(request, ChannexError(401, "unauthorized", "Unauthorized"))
        session_id, session = found
        errors, mappings = _check(state, session, values)
        if errors:
            return _form(state, session_id, session, errors, values)
        channel = _create_channel(state, session, values["channel"], values["hotel_id"], mappings)
        return _pending(session_id, session, channel)


def _check(
    state: SandboxState, session: IframeSession, values: dict[str, str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """What the hotel got wrong, and the rate plan mappings it made."""
    errors: list[str] = []
    if values.get("channel") not in session.offered:
        errors.append("Pick one of the OTAs offered.")
    if not values.get("hotel_id", "").strip():
        errors.append("Enter the hotel id at the OTA.")
    mappings: list[dict[str, Any]] = []
    for plan_id in _plan_ids(state, session):
        if not values.get(f"map:{plan_id}"):
            continue
        room_code = values.get(f"room_code:{plan_id}", "").strip()
        rate_code = values.get(f"rate_code:{plan_id}", "").strip()
        if not (room_code and rate_code):
            errors.append("Each mapped rate plan needs its OTA room code and rate code.")
            continue
        settings = {"room_type_code": room_code, "rate_plan_code": rate_code}
        mappings.append({"rate_plan_id": plan_id, "settings": settings})
    if not mappings and not errors:
        errors.append("Map at least one rate plan.")
    return errors, mappings


def _create_channel(
    state: SandboxState,
    session: IframeSession,
    code: str,
    hotel_id: str,
    mappings: list[dict[str, Any]],
) -> Channel:
    prop = state.store.properties[session.property_id]
    title = f"{OTAS[code][1]} {prop.attrs['title']}"
    return create_channel(state, prop, code, title, {"hotel_id": hotel_id.strip()}, mappings)


def _pending(session_id: str, session: IframeSession, channel: Channel) -> HTMLResponse:
    title = escape(str(channel.attrs["title"]))
    body = f"""
<p>{title}: <span class="state" id="channel-state">pending</span></p>
<p>Channex is waiting for the OTA: accept Channex as your channel manager in the OTA's
extranet, then approve here.</p>
<form method="post" action="channels/approve">
<input type="hidden" name="session" value="{escape(session_id)}">
<input type="hidden" name="channel_id" value="{escape(channel.id)}">
<button type="submit">Approve</button>
</form>"""
    return _page("Channel pending", body, language=session.language, status=201)


@router.post("/channels/approve", response_model=None)
async def approve(request: Request, state: StateDep) -> Response:
    """The OTA side accepted: activate the channel (`activate_channel`)."""
    values = await _form_values(request)
    async with state.lock:
        found = _session(state, values)
        channel = state.store.channels.get(values.get("channel_id", ""))
        if found is None or channel is None or found[1].property_id not in channel.property_ids:
            return _refused(request, ChannexError(401, "unauthorized", "Unauthorized"))
        if not channel.attrs["is_active"]:
            set_active(state, channel, True)
        title = escape(str(channel.attrs["title"]))
        body = f'<p>{title}: <span class="state" id="channel-state">live</span></p>'
        return _page("Channel live", body, language=found[1].language)
