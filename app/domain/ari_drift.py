"""Drift: where Channex no longer holds what we last pushed, field by field (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

# Fields Channex reads back (channex-api.md §6.1). Per-occupancy `rates` are not among them, so
# drift on a per-person plan's rates cannot be seen; `rate` is compared where we pushed it.
READABLE_RESTRICTIONS = (
    "rate", "min_stay_arrival", "min_stay_through", "max_stay",
    "closed_to_arrival", "closed_to_departure", "stop_sell",
)  # fmt: skip
_BOOLEANS = frozenset({"closed_to_arrival", "closed_to_departure", "stop_sell"})


def _same(name: str, pushed: Any, held: Any) -> bool:
    """Channex answers money as decimal strings ("120.00") and may answer flags as 0/1."""
    if name == "rate":
        try:
            return Decimal(str(pushed)) == Decimal(str(held))
        except InvalidOperation:
            return False
    if name in _BOOLEANS:
        return bool(pushed) == bool(held)
    return bool(pushed == held)


def field_drift(pushed: Mapping[str, Any], held: Mapping[str, Any]) -> dict[str, Any]:
    """{field: Channex's value} for each readable field we pushed that Channex now holds
    differently (a field Channex did not return counts as drifted, with value None)."""
    readable = {"availability", *READABLE_RESTRICTIONS}
    return {
        name: held.get(name)
        for name, value in pushed.items()
        if name in readable and (name not in held or not _same(name, value, held[name]))
    }
