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


def forbidden_address(address: str) -> bool:
    """True for addresses a callback must not reach: loopback, private, link-local, etc."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
