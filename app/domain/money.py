"""Currency amounts as Channex wants them (channex-api.md §5, §6.3)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor-unit exponents that are not 2; Channex's integer rates are in minor units,
# and for zero-decimal currencies (JPY, VND...) the integer is the major amount (§6.3).
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """120.5 EUR -> 12050; 1500 JPY -> 1500."""
    scale = Decimal(10) ** minor_unit_exponent(currency)
    return int((amount * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_decimal_string(amount: Decimal, currency: str) -> str:
    """The decimal string Channex reads without float rounding: 120.5 EUR -> "120.50"."""
    exponent = minor_unit_exponent(currency)
    quantum = Decimal(1).scaleb(-exponent)
    return str(amount.quantize(quantum, rounding=ROUND_HALF_UP))
