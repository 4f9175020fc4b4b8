"""Rates: decimal strings or integers in minor units on write, decimal strings on read (§6.3)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from app.sandbox.validate import is_int

# Currencies whose integer rate is already the major amount (channex-api.md §6.3: JPY, VND).
ZERO_DECIMAL = frozenset({"JPY", "VND", "KRW", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF"})


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


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
