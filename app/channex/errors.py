"""Errors raised by the Channex client; each carries Channex's status, code, title and details."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Details = dict[str, list[str]] | list[str] | None


class ChannexError(Exception):
    """A failed Channex call; `code` and `details` are Channex's own when it sent them (§1.4)."""

    default_code = "channex_error"

    def __init__(
        self,
        title: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Details = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.code = code or self.default_code
        self.title = title
        self.details = details

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status!r}, code={self.code!r}, title={self.title!r})"


class ChannexBadRequestError(ChannexError):
    """400: Channex rejected the request's form (e.g. a required filter is missing)."""

    default_code = "bad_request"


class ChannexAuthError(ChannexError):
    """401/403: the API key is invalid or has no access to the resource."""

    default_code = "unauthorized"


class ChannexNotFoundError(ChannexError):
    """404: the resource does not exist in Channex."""

    default_code = "resource_not_found"


class ChannexValidationError(ChannexError):
    """422: `details` maps each rejected field to Channex's messages."""

    default_code = "validation_error"


class ChannexRateLimitedError(ChannexError):
    """429 from Channex, or our own limiter said wait: retry after `retry_after` seconds."""

    default_code = "http_too_many_requests"

    def __init__(
        self,
        title: str = "Rate limited",
        *,
        retry_after: float,
        property_id: str | None = None,
        status: int | None = None,
        code: str | None = None,
        details: Details = None,
    ) -> None:
        super().__init__(title, status=status, code=code, details=details)
        self.retry_after = retry_after
        self.property_id = property_id


class ChannexUnavailableError(ChannexError):
    """5xx, timeout or transport failure that outlasted the client's retries."""

    default_code = "unavailable"


# Channex briefly out of reach: worth another try later (a rate limit, an outage), as opposed
# to an answer that trying again cannot change.
TRANSIENT_ERRORS = (ChannexUnavailableError, ChannexRateLimitedError)

# Channex's size limits (a hotel: 20 room types, 200 rate plans; enforced from 14 Dec 2026,
# raised case by case) are refused in a form it has not documented: recognised by a code,
# title or message that speaks of a limit or quota, on an answer that says "no" (not a 429,
# which is the request rate, ChannexRateLimitedError).
_ENTITY_LIMIT = re.compile(r"\b(limit|limits|quota|maximum number)\b|\blimit_", re.IGNORECASE)
_ENTITY_LIMIT_STATUSES = frozenset({400, 402, 403, 409, 422})


def is_entity_limit(exc: ChannexError) -> bool:
    """Whether Channex refused because the account or property reached a size limit."""
    if exc.status not in _ENTITY_LIMIT_STATUSES:
        return False
    details = exc.details if isinstance(exc.details, list) else []
    if isinstance(exc.details, dict):
        details = [f"{field} {message}" for field, messages in exc.details.items()
                   for message in messages]  # fmt: skip
    return any(_ENTITY_LIMIT.search(text) for text in (exc.code, exc.title, *details))


_BY_STATUS: dict[int, type[ChannexError]] = {
    400: ChannexBadRequestError,
    401: ChannexAuthError,
    403: ChannexAuthError,
    404: ChannexNotFoundError,
    422: ChannexValidationError,
}


def error_from_response(status: int, body: object) -> ChannexError:
    """Typed error for a non-2xx answer; a missing or malformed body still gives one."""
    error = _error_object(body)
    title = error.get("title")
    code = error.get("code")
    cls = _BY_STATUS.get(status) or (ChannexUnavailableError if status >= 500 else ChannexError)
    return cls(
        title if isinstance(title, str) and title else f"Channex answered HTTP {status}",
        status=status,
        code=code if isinstance(code, str) and code else None,
        details=parse_details(error.get("details")),
    )


def _error_object(body: object) -> Mapping[str, Any]:
    """The `errors` object (§1.4); tolerates the old `error` key and a list of errors."""
    if not isinstance(body, Mapping):
        return {}
    error = body.get("errors", body.get("error"))
    if isinstance(error, list):
        error = error[0] if error else None
    return error if isinstance(error, Mapping) else {}


def parse_details(raw: object) -> Details:
    """Details as a field→messages map (422) or a list of messages (some 400s), §1.4."""
    if isinstance(raw, Mapping):
        flat: dict[str, list[str]] = {}
        _flatten(raw, "", flat)
        return flat
    if isinstance(raw, list):
        return [str(item) for item in raw]
    if isinstance(raw, str):
        return [raw]
    return None


def _flatten(raw: Mapping[Any, Any], prefix: str, out: dict[str, list[str]]) -> None:
    """Nested objects (e.g. `settings.state_length`) become dotted field names."""
    for key, value in raw.items():
        field = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{field}.", out)
        elif isinstance(value, list):
            out[field] = [str(item) for item in value]
        else:
            out[field] = [str(value)]
