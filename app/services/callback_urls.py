"""Vetting of PMS callback URLs, so channel-sync cannot be turned against its own network.

Checked when configured and again before every delivery (DNS may change in between); a
delivery then goes to an address this check vetted, never to a second DNS answer, and never
follows redirects.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from app.domain.delivery import forbidden_address
from app.errors import FieldError, invalid
from app.settings import Settings


class CallbackUrlError(ValueError):
    """The URL may not be called; the message says why."""


def _check_form(url: str, settings: Settings) -> str:
    parts = urlsplit(url)
    allowed = {"https"} if settings.environment == "production" else {"https", "http"}
    if parts.scheme not in allowed:
        raise CallbackUrlError(f"scheme must be {' or '.join(sorted(allowed))}")
    if not parts.hostname:
        raise CallbackUrlError("URL has no host")
    if parts.username or parts.password:
        raise CallbackUrlError("credentials in the URL are not allowed")
    return parts.hostname


async def _resolve(host: str) -> list[str]:
    """The host name's addresses, in the resolver's order of preference."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CallbackUrlError(f"host {host!r} does not resolve") from exc
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        raise CallbackUrlError(f"host {host!r} does not resolve")
    return addresses


async def _addresses(host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return await _resolve(host)


async def check_callback_url(url: str, settings: Settings) -> tuple[str, ...]:
    """The addresses `url` may be sent to, best first; raise CallbackUrlError unless it may be
    called. Empty when ALLOW_PRIVATE_CALLBACKS skips the address check: nothing to pin to."""
    host = _check_form(url, settings)
    if settings.allow_private_callbacks:
        return ()
    addresses = await _addresses(host)
    # Every address must pass, though only the first is used: a name that leads into our
    # network at all is refused, whichever answer comes first next time.
    if any(forbidden_address(address) for address in addresses):
        raise CallbackUrlError(f"{host!r} resolves to a non-public address")
    return tuple(addresses)


async def vet_callback_url(url: str, settings: Settings) -> None:
    """As `check_callback_url`, as a 422 of our API."""
    try:
        await check_callback_url(url, settings)
    except CallbackUrlError as exc:
        raise invalid("callback URL refused", [FieldError("body.url", str(exc))]) from None
