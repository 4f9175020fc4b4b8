"""Field checks that collect Channex-style messages per field, then answer one 422."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeGuard

from app.sandbox.errors import validation_error

BLANK = "can't be blank"
INVALID = "is invalid"
NON_NULL = "Should be a non null value or not existed field"


def is_int(value: Any) -> TypeGuard[int]:
    """An int that is not a bool (JSON `true` must not pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def known(ids: Collection[str], value: Any) -> bool:
    """An id present in `ids` (a list or an object sent as an id is simply unknown)."""
    return isinstance(value, str) and value in ids


class Checker:
    """Checks one write body; on update (`partial`) absent required fields are fine."""

    def __init__(self, attrs: dict[str, Any], *, partial: bool = False) -> None:
        self.attrs = attrs
        self.partial = partial
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def _missing(self, field: str, required: bool) -> bool:
        """True when there is nothing to check; records "can't be blank" when it was required."""
        value = self.attrs.get(field)
        if value is not None and value != "":
            return False
        if required and (field in self.attrs or not self.partial):
            self.add(field, BLANK)
        return True

    def text(self, field: str, *, required: bool = False, max_len: int = 255) -> None:
        if self._missing(field, required):
            return
        value = self.attrs[field]
        if not isinstance(value, str):
            self.add(field, INVALID)
        elif len(value) > max_len:
            self.add(field, f"is too long (maximum is {max_len} characters)")

    def integer(self, field: str, *, required: bool = False, minimum: int | None = None) -> None:
        if self._missing(field, required):
            return
        value = self.attrs[field]
        if not is_int(value):
            self.add(field, "is not a number")
        elif minimum is not None and value < minimum:
            self.add(field, f"must be greater than or equal to {minimum}")

    def boolean(self, field: str) -> None:
        if field in self.attrs and not isinstance(self.attrs[field], bool):
            self.add(field, INVALID)

    def choice(self, field: str, options: Collection[str], *, required: bool = False) -> None:
        if self._missing(field, required):
            return
        if self.attrs[field] not in options:
            self.add(field, "is not included in the list")

    def code(self, field: str, length: int, *, required: bool = False) -> None:
        """An ISO code of `length` letters (currency, country)."""
        if self._missing(field, required):
            return
        value = self.attrs[field]
        if not (isinstance(value, str) and len(value) == length and value.isalpha()):
            self.add(field, INVALID)

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_error(self.errors)
