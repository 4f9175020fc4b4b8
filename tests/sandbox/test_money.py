"""The emulator reads integer rates in the currency's minor unit, as the client writes them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.money import to_minor_units
from app.sandbox.money import parse_rate


@pytest.mark.parametrize(
    ("currency", "amount"),
    [("EUR", "120.50"), ("JPY", "1500"), ("KWD", "120.505"), ("XPF", "9000"), ("BHD", "1.5")],
)
def test_an_integer_rate_the_client_sends_reads_back_as_the_same_amount(
    currency: str, amount: str
) -> None:
    minor = to_minor_units(Decimal(amount), currency)

    assert parse_rate(minor, currency) == Decimal(amount)
