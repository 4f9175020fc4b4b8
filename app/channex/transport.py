"""Sending one logical Channex request: headers, the shared limiter before every attempt,
short retries on transient failures only, and a real 429 turned into a property cooldown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from app.channex.errors import ChannexRateLimitedError, ChannexUnavailableError, error_from_response
from app.channex.ratelimit import RateLimiter
from app.http_pool import cheap_check_transport
from app.metrics import LIMITER_WAIT, ChannexTimer

logger = logging.getLogger(__name__)

Json = dict[str, Any]
Params = dict[str, str | int]
Sleep = Callable[[float], Awaitable[None]]

COOLDOWN_SECONDS = 60.0  # Channex asks for a one-minute pause after a 429 (§6.5)
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# Failures where the request certainly never reached Channex: the only ones a create may retry.
UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class AriScope:
    """The limiter key of an ARI call: Channex counts per property and endpoint (§6.5)."""

    property_id: str
    endpoint: str
    # Whose request it is (our organization id): one tenant may use only its share of the
    # account-wide budget, so that another's single change is never queued behind its syncs.
    tenant: str | None = None


@dataclass
class Prepaid:
    """Limiter slots reserved together for a batch of account-wide calls (the booking
    revisions of a batch, their acks): one round trip to the limiter for all of them, not
    one each. A call takes one; once none is left, calls reserve their own as before. A slot
    left unused was counted and never sent: the budget errs on the safe side."""

    left: int = 0

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


class _TransientError(Exception):
    """A failure worth another attempt; becomes ChannexUnavailableError when retries run out."""

    def __init__(self, title: str, status: int | None = None) -> None:
        super().__init__(title)
        self.title = title
        self.status = status


class ChannexTransport:
    """The HTTP side of the client: one connection pool, the limiter and the retries."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        limiter: RateLimiter,
        timeout: float,
        max_attempts: int,
        transport: httpx.AsyncBaseTransport | None,
        max_limiter_wait: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        # §1.1: the key goes in `user-api-key`, not a Bearer token.
        headers = {
            "user-api-key": api_key,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport or cheap_check_transport(),
        )
        self._limiter = limiter
        self._max_attempts = max_attempts
        self._max_limiter_wait = max_limiter_wait
        self._sleep = sleep

    async def aclose(self) -> None:
        await self._http.aclose()

    async def prepay(self, count: int) -> Prepaid:
        """`count` account-wide slots at once, or none when the budget has no room for all
        of them now (each call then waits for its own, as it would have)."""
        if count <= 0 or not await self._limiter.acquire_many(count):
            return Prepaid()
        return Prepaid(count)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Json | None = None,
        content: bytes | None = None,
        scope: AriScope | None = None,
        create: bool = False,
        prepaid: Prepaid | None = None,
    ) -> Json:
        """One logical call: limiter before every attempt (a slot of `prepaid`, when it has
        one, for a call of no ARI scope), retries on transient failures only.

        A `create` (POST of a new entity) is retried only when it never reached Channex: after
        a timeout or a 5xx it may exist already, and a second POST would make a twin (Channex
        blocks accounts over their entity limits). The caller's next try looks for it first."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_random_exponential(multiplier=0.5, max=8),
            retry=retry_if_exception_type(_TransientError),
            sleep=self._sleep,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if scope is not None or prepaid is None or not prepaid.take():
                        await self._reserve(scope)
                    return await self._send(method, path, params, json, content, scope, create)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            if not isinstance(last, _TransientError):  # only transient errors are retried
                raise ChannexUnavailableError("Channex unavailable") from exc
            # Chain the httpx error itself when there is one, not our internal wrapper.
            raise ChannexUnavailableError(last.title, status=last.status) from (
                last.__cause__ or last
            )
        raise AssertionError("unreachable: tenacity either returns, raises or gives RetryError")

    async def _reserve(self, scope: AriScope | None) -> None:
        """Take a limiter slot; ARI never waits here, the job re-queues itself instead."""
        waited = 0.0
        while True:
            if scope is None:
                wait = await self._limiter.acquire()
            else:
                wait = await self._limiter.acquire(
                    property_id=scope.property_id, endpoint=scope.endpoint, tenant=scope.tenant
                )
            if wait <= 0:
                return
            LIMITER_WAIT.labels("ari" if scope is not None else "other").inc(wait)
            if scope is not None or waited + wait > self._max_limiter_wait:
                property_id = scope.property_id if scope else None
                raise ChannexRateLimitedError(retry_after=wait, property_id=property_id)
            await self._sleep(wait)
            waited += wait

    async def _send(
        self,
        method: str,
        path: str,
        params: Params | None,
        json: Json | None,
        content: bytes | None,
        scope: AriScope | None,
        create: bool,
    ) -> Json:
        timer = ChannexTimer(method, path)
        try:
            response = await self._http.request(
                method, path, params=params, json=json, content=content
            )
        except httpx.TransportError as exc:
            timer.done("transport_error")
            logger.warning("channex transport error", extra={"method": method, "path": path})
            title = f"{type(exc).__name__} calling Channex"
            if create and not isinstance(exc, UNSENT_ERRORS):
                raise ChannexUnavailableError(title) from exc
            raise _TransientError(title) from exc
        timer.done(response.status_code)
        log_extra = {"method": method, "path": path, "status": response.status_code}
        logger.info("channex request", extra=log_extra)
        if response.is_success:
            return _json_object(response) or {}
        if response.status_code == 429:
            await self._handle_429(response, scope)
        if response.status_code in RETRYABLE_STATUSES:
            if create:
                title = f"Channex answered HTTP {response.status_code}"
                raise ChannexUnavailableError(title, status=response.status_code)
            raise _TransientError(
                f"Channex answered HTTP {response.status_code}", response.status_code
            )
        raise error_from_response(response.status_code, _json_object(response))

    async def _handle_429(self, response: httpx.Response, scope: AriScope | None) -> None:
        """Honour a real 429 with a property cooldown; never retried here (§6.5)."""
        retry_after = max(COOLDOWN_SECONDS, _retry_after(response) or 0.0)
        property_id = scope.property_id if scope else None
        if property_id is not None:
            await self._limiter.cooldown(property_id, retry_after)
        error = error_from_response(429, _json_object(response))
        raise ChannexRateLimitedError(
            error.title,
            retry_after=retry_after,
            property_id=property_id,
            status=429,
            code=error.code,
            details=error.details,
        )


def _json_object(response: httpx.Response) -> Json | None:
    """The body as a JSON object, or None when it is empty or not an object."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, given as a number or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()
