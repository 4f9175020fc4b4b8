"""Vetting of PMS callback URLs, so channel-sync cannot be turned against its own network.

Checked when configured and again before every delivery (DNS may change in between);
deliveries never follow redirects.
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


async def _addresses(host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CallbackUrlError(f"host {host!r} does not resolve") from exc
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


async def check_callback_url(url: str, settings: Settings) -> None:
    """Raise CallbackUrlError unless `url` may be called."""
    host = _check_form(url, settings)
    if settings.allow_private_callbacks:
        return
    for address in await _addresses(host):
        if forbidden_address(address):
            raise CallbackUrlError(f"{host!r} resolves to a non-public address")


async def vet_callback_url(url: str, settings: Settings) -> None:
    """As `check_callback_url`, as a 422 of our API."""
    try:
        await check_callback_url(url, settings)
    except CallbackUrlError as exc:
        raise invalid("callback URL refused", [FieldError("body.url", str(exc))]) from None
