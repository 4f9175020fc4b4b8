"""Errors of our own API: each carries its HTTP status and a stable machine-readable code.

Services raise these; one handler in `app/api/errors.py` renders them as problem+json
(RFC 9457). No FastAPI import here, so services and jobs can raise them freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One rejected input field: where (`loc` as a dotted path), why, and a stable code."""

    loc: str
    message: str
    code: str = "invalid"


@dataclass
class AppError(Exception):
    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"
    detail: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail or self.title}"


def not_found(what: str, ident: str) -> AppError:
    return AppError(404, "not_found", "Not found", f"{what} {ident!r} does not exist")


def conflict(code: str, detail: str) -> AppError:
    return AppError(409, code, "Conflict", detail)


def invalid(detail: str, errors: list[FieldError] | None = None) -> AppError:
    return AppError(422, "validation_error", "Invalid request", detail, errors or [])
