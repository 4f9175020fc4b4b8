"""The service's problem+json answers (RFC 9457) as exceptions, one class per status family.

Every error answer of channel-sync carries a stable `code` (`not_found`, `validation_error`,
`channex_unavailable`, ...): branch on it, or on the class, never on `title` or `detail`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import BaseModel, ValidationError

PROBLEM_JSON = "application/problem+json"


class FieldProblem(BaseModel):
    """One rejected input field: where (`loc`, a dotted path), why, and a stable code."""

    loc: str
    message: str
    code: str


class Problem(BaseModel):
    """An error answer of the service."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    instance: str | None = None
    detail: str | None = None
    errors: list[FieldProblem] = []


class ChannelSyncError(Exception):
    """An error answer of channel-sync. `retry_after` is the Retry-After header in seconds,
    when the answer had one (429 and the 503s do)."""

    def __init__(self, problem: Problem, response: httpx.Response) -> None:
        super().__init__(f"{problem.status} {problem.code}: {problem.detail or problem.title}")
        self.problem = problem
        self.response = response
        self.retry_after = retry_after_seconds(response.headers.get("retry-after"))

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def code(self) -> str:
        return self.problem.code

    @property
    def detail(self) -> str | None:
        return self.problem.detail

    @property
    def errors(self) -> list[FieldProblem]:
        return self.problem.errors


class ClientError(ChannelSyncError):
    """4xx: the request must change before it can succeed (except 429: wait, then retry)."""


class UnauthorizedError(ClientError):
    """401: no API key, or one the service does not know."""


class ForbiddenError(ClientError):
    """403: the key may not do this (for example an organization key on a global route)."""


class NotFoundError(ClientError):
    """404: no such organization, property, mapping, booking or revision for this key."""


class ConflictError(ClientError):
    """409: the entity is not in a state that allows it (for example its parent is not in
    Channex yet); `code` says which."""


class PayloadTooLargeError(ClientError):
    """413: the body is over the service's limit."""


class ValidationFailedError(ClientError):
    """422: the input did not validate; `errors` lists every rejected field."""


class ChannexRejectedError(ValidationFailedError):
    """422 `channex_rejected`: Channex refused the values; `errors` carries its fields."""


class RateLimitedError(ClientError):
    """429: too many failed authentications from this address; wait `retry_after`."""


class ServerError(ChannelSyncError):
    """5xx: the service or Channex behind it failed; the same request may succeed later."""


class ChannexError(ServerError):
    """502: Channex answered with an error the service could not map (`channex_*` codes)."""


class ServiceUnavailableError(ServerError):
    """503: retry after `retry_after` seconds."""


class ChannexUnavailableError(ServiceUnavailableError):
    """503 `channex_unavailable`: Channex did not answer; nothing was changed."""


class ChannexRateLimitedError(ServiceUnavailableError):
    """503 `channex_rate_limited`: Channex's rate limit is reached; nothing was changed."""


_BY_CODE: dict[str, type[ChannelSyncError]] = {
    "channex_rejected": ChannexRejectedError,
    "channex_unavailable": ChannexUnavailableError,
    "channex_rate_limited": ChannexRateLimitedError,
}
_BY_STATUS: dict[int, type[ChannelSyncError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationFailedError,
    429: RateLimitedError,
    502: ChannexError,
    503: ServiceUnavailableError,
}


def error_for(response: httpx.Response) -> ChannelSyncError:
    """The exception for an error answer: by its `code`, else its status, else its family."""
    problem = _problem(response)
    cls = _BY_CODE.get(problem.code) or _BY_STATUS.get(problem.status)
    if cls is None:
        cls = ServerError if problem.status >= 500 else ClientError
    return cls(problem, response)


def _problem(response: httpx.Response) -> Problem:
    # A proxy in front of the service may answer with anything: keep the status then.
    try:
        problem = Problem.model_validate_json(response.content)
    except ValidationError:
        reason = response.reason_phrase or "HTTP error"
        return Problem(
            title=reason,
            status=response.status_code,
            code="unexpected_response",
            detail=f"not a problem+json answer ({response.headers.get('content-type')})",
        )
    # The status line wins over the body's claim: it is what the HTTP layer acted on.
    return problem.model_copy(update={"status": response.status_code})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
