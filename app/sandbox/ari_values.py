"""Checks of the value objects of ARI writes (channex-api.md §6.2, §6.3, §6.5).

A bad value is not an error of the request: it is dropped and echoed as a warning of a 200 (§6.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.sandbox.money import format_rate, parse_rate
from app.sandbox.state import SandboxState
from app.sandbox.validate import INVALID, NON_NULL, is_int, known

WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
FLAGS = ("closed_to_arrival", "closed_to_departure", "stop_sell")
STAYS = {"min_stay_arrival": 1, "min_stay_through": 1, "min_stay": 1, "max_stay": 0}
READ_ONLY = ("availability_offset", "max_availability", "max_sell")
Problems = dict[str, list[str]]


class RejectedError(Exception):
    """A value dropped with a per-field warning."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.problems: Problems = {field: [message]}


@dataclass
class Value:
    """One accepted value: the cells it writes and the fields it sets there."""

    property_id: str
    target_id: str
    dates: list[date]
    fields: dict[str, Any]


def _date(raw: Any) -> date | None:
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _dates(state: SandboxState, value: dict[str, Any]) -> list[date]:
    """Dates of `date` or `date_from`..`date_to`, within the property's today..today+state_length
    (§6.5): "today" is the property's local date, rolling at 02:00 property time (§3)."""
    if "date" in value:
        first = last = _date(value["date"])
        key = "date"
    else:
        first, last, key = _date(value.get("date_from")), _date(value.get("date_to")), "date_from"
    if first is None or last is None or last < first:
        raise RejectedError(key, INVALID)
    today = state.today(str(value["property_id"]))
    if first < today:
        raise RejectedError(key, "can't be in the past")
    settings = state.store.properties[value["property_id"]].attrs["settings"]
    if last >= today + timedelta(days=int(settings["state_length"])):
        raise RejectedError("date_to" if "date_to" in value else key, "is out of state length")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _base(state: SandboxState, value: Any) -> dict[str, Any]:
    """The value as a dict of a known property, with no nulls: Channex rejects `null` (§6.3)."""
    if not isinstance(value, dict):
        raise RejectedError("value", INVALID)
    for key, item in value.items():
        if item is None:
            raise RejectedError(key, NON_NULL)
    if not known(state.store.properties, value.get("property_id")):
        raise RejectedError("property_id", INVALID)
    return value


def _check_availability(state: SandboxState, raw: Any) -> Value:
    value = _base(state, raw)
    room = state.store.room_types.get(str(value.get("room_type_id")))
    if room is None or room.property_id != value["property_id"]:
        raise RejectedError("room_type_id", INVALID)
    availability = value.get("availability")
    if not is_int(availability) or availability < 0:
        raise RejectedError("availability", "must be greater than or equal to 0")
    dates = _dates(state, value)
    return Value(room.property_id, room.id, dates, {"availability": availability})


def _rate(raw: Any, currency: str, field: str) -> str:
    rate = parse_rate(raw, currency)
    if rate is None or rate <= 0:
        raise RejectedError(field, "must be greater than 0")
    return format_rate(rate)


def _rates(value: dict[str, Any], currency: str, occupancies: set[int]) -> dict[str, Any]:
    """`rate`, or `rates` per occupancy option of a per-person plan (§6.3)."""
    fields: dict[str, Any] = {}
    if "rate" in value:
        fields["rate"] = _rate(value["rate"], currency, "rate")
    if "rates" in value:
        entries = value["rates"] if isinstance(value["rates"], list) else [None]
        parsed = []
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("occupancy") not in occupancies:
                raise RejectedError("rates", INVALID)
            rate = _rate(entry.get("rate"), currency, "rates")
            parsed.append({"occupancy": entry["occupancy"], "rate": rate})
        fields["rates"] = parsed
    return fields


def _restriction_fields(value: dict[str, Any], min_stay_type: str) -> dict[str, Any]:
    for field in READ_ONLY:
        if field in value:
            raise RejectedError(field, "is read only")
    fields: dict[str, Any] = {}
    for flag in (f for f in FLAGS if f in value):
        if value[flag] not in (True, False, 0, 1):
            raise RejectedError(flag, INVALID)
        fields[flag] = bool(value[flag])
    for stay, minimum in STAYS.items():
        if stay in value:
            if not is_int(value[stay]) or value[stay] < minimum:
                raise RejectedError(stay, f"must be greater than or equal to {minimum}")
            fields[stay] = value[stay]
    if "min_stay" in fields:
        # `min_stay` is virtual: mapped by the property's min_stay_type (§6.3, §3).
        if min_stay_type == "both":
            raise RejectedError("min_stay", INVALID)
        fields[f"min_stay_{min_stay_type}"] = fields.pop("min_stay")
    return fields


def _weekdays(value: dict[str, Any], dates: list[date]) -> list[date]:
    """Only the weekdays named in `days`, when given (§6.3)."""
    days = value.get("days")
    if days is None:
        return dates
    if not isinstance(days, list) or not days or not set(days) <= set(WEEKDAYS):
        raise RejectedError("days", INVALID)
    return [d for d in dates if WEEKDAYS[d.weekday()] in days]


def _check_restriction(state: SandboxState, raw: Any) -> Value:
    value = _base(state, raw)
    plan = state.store.rate_plans.get(str(value.get("rate_plan_id")))
    if plan is None or plan.property_id != value["property_id"]:
        raise RejectedError("rate_plan_id", INVALID)
    settings = state.store.properties[plan.property_id].attrs["settings"]
    occupancies = {int(option["occupancy"]) for option in plan.attrs["options"]}
    fields = _rates(value, str(plan.attrs.get("currency", "USD")), occupancies)
    fields |= _restriction_fields(value, str(settings.get("min_stay_type", "both")))
    if not fields:
        raise RejectedError("restrictions", "at least one restriction is required")
    dates = _weekdays(value, _dates(state, value))
    return Value(plan.property_id, plan.id, dates, fields)


def check_availability(state: SandboxState, value: Any) -> Value | Problems:
    """One `POST /availability` value, or the warning it earns."""
    try:
        return _check_availability(state, value)
    except RejectedError as rejected:
        return rejected.problems


def check_restriction(state: SandboxState, value: Any) -> Value | Problems:
    """One `POST /restrictions` value (partial: only the fields sent), or its warning."""
    try:
        return _check_restriction(state, value)
    except RejectedError as rejected:
        return rejected.problems
