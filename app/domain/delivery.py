"""Delivery to the PMS, pure: the retry schedule and the address policy for callback URLs."""

from __future__ import annotations

import ipaddress
import random

# Seconds before each retry: a second (a blip), minutes, then hours, ending about 4 days
# after the first failure (a PMS down over a long weekend still gets every revision).
RETRY_SCHEDULE = (
    1, 15, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 86400, 86400,
)  # fmt: skip
MAX_RETRY_AFTER = 86400.0
JITTER = 0.2


def retry_delay(
    attempts: int, retry_after: float | None = None, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait after the `attempts`-th failed attempt, or None once the schedule is
    exhausted. ±20 % jitter spreads retries of many deliveries; a `Retry-After` from the PMS
    is honoured when longer (capped at a day)."""
    if attempts < 1 or attempts > len(RETRY_SCHEDULE):
        return None
    base = RETRY_SCHEDULE[attempts - 1]
    jitter = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    delay = base * jitter
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, MAX_RETRY_AFTER)
    return delay


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (the HTTP-date form is rare for webhooks and ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # `is_global` alone lets multicast through, and on Python 3.11 also the reserved ::/8
    # (IPv4-compatible and NAT64 64:ff9b::/96 addresses, which lead to any IPv4 address).
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def _tunnelled(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a 6to4 (2002::/16) or Teredo (server, client) address leads to."""
    inner = [ip.sixtofour] if ip.sixtofour is not None else []
    return inner + list(ip.teredo or ())


def forbidden_address(address: str) -> bool:
    """True unless the address is globally reachable unicast: private, loopback, link-local,
    shared (100.64.0.0/10) and the like are refused, and IPv6 carrying an IPv4 address
    (mapped, 6to4, Teredo) is refused unless that IPv4 address is public too."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    inner = _tunnelled(ip) if isinstance(ip, ipaddress.IPv6Address) else []
    return not all(_public(each) for each in [ip, *inner])
