"""Rates: decimal strings or integers in minor units on write, decimal strings on read (§6.3)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.money import minor_unit_exponent as exponent
from app.sandbox.validate import is_int

# Integer rates are in the currency's minor unit (channex-api.md §6.3): one ISO 4217 table for
# the client and the emulator, so that they cannot disagree on what 1205 KWD means.


def parse_rate(value: Any, currency: str) -> Decimal | None:
    """A rate as a Decimal in major units, or None when it is not a usable rate value."""
    if is_int(value):
        return Decimal(value).scaleb(-exponent(currency))
    if isinstance(value, str):
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            return None
        return parsed if parsed.is_finite() else None
    return None


def format_rate(amount: Decimal) -> str:
    """Decimal string as Channex returns money ("200.00")."""
    return f"{amount:.2f}"


def format_minor(amount: int, currency: str) -> str:
    return format_rate(Decimal(amount).scaleb(-exponent(currency)))
