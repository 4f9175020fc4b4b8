"""A connection session: a one-time Channex token made into the URL of Channex's channel
iframe, where the hotel connects an OTA and maps its rooms itself (channex-api.md §9.4).

The token is a credential to the property's channels for 15 minutes: it lives only in the
answer to the PMS, never in the database nor in a log line (the Channex client logs method,
path and status; the access log the route template)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from app.channex.client import ChannexClient
from app.models import Property
from app.schemas_channel_session import ChannelSessionCreate
from app.services.room_types import require_synced_property

# Channex's one-time tokens live 15 minutes (§9.4).
TOKEN_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class ChannelSession:
    url: str
    expires_at: datetime


def exchange_url(
    app_base_url: str, token: str, channex_property_id: str, options: ChannelSessionCreate
) -> str:
    """`{server}/auth/exchange?oauth_session_key=…&app_mode=headless&redirect_to=/channels&
    property_id=…` with the options the PMS chose (§9.4)."""
    query: list[tuple[str, str]] = [
        ("oauth_session_key", token),
        ("app_mode", "headless"),
        ("redirect_to", "/channels"),
        ("property_id", channex_property_id),
    ]
    if options.channels:
        query.append(("channels", ",".join(dict.fromkeys(options.channels))))
    if options.language:
        query.append(("lng", options.language))
    if options.read_only_availability:
        query.append(("read_only_availability", "true"))
    return f"{app_base_url}/auth/exchange?{urlencode(query, safe='/,')}"


async def open_session(
    channex: ChannexClient,
    prop: Property,
    options: ChannelSessionCreate,
    app_base_url: str,
    *,
    now: datetime | None = None,
) -> ChannelSession:
    """Ask Channex for a token for the property (409 when it is not in Channex yet)."""
    channex_property_id = require_synced_property(prop)
    # Taken before the request: Channex's clock starts when it makes the token, later, so the
    # expiry said here is never after the real one.
    asked_at = now or datetime.now(UTC)
    token = await channex.one_time_token(channex_property_id, username=options.username)
    url = exchange_url(app_base_url, token, channex_property_id, options)
    return ChannelSession(url, asked_at + TOKEN_LIFETIME)
