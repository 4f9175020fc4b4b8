"""Pydantic models of the ARI API: change batches, desired state, sync runs, drift."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.schemas import PmsId

Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
Rate = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)]
CellStatus = Literal["in_sync", "pending", "failed", "held"]

MAX_ITEMS = 1_000
_NOT_NULL = ("room_type_id", "rate_plan_id", "date_from", "date_to", "days", "availability",
             "rate", "rates", "min_stay_arrival", "min_stay_through", "max_stay",
             "closed_to_arrival", "closed_to_departure", "stop_sell")  # fmt: skip
MAX_RANGE_DAYS = 731  # Channex's longest horizon (state_length ≤ 730, channex-api.md §6.5)


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    room_type_id: PmsId
    date_from: date
    date_to: date
    days: list[Weekday] | None = Field(
        default=None, min_length=1, description="Only these weekdays inside the range."
    )

    @field_validator(*_NOT_NULL, mode="before", check_fields=False)
    @classmethod
    def _no_nulls(cls, value: object) -> object:
        # Channex rejects nulls (channex-api.md §6.3); an absent field means "leave it".
        if value is None:
            raise ValueError("must not be null; omit the field to leave it unchanged")
        return value

    @model_validator(mode="after")
    def _range(self) -> _Item:
        if self.date_to < self.date_from:
            raise ValueError("date_to must not be before date_from")
        if (self.date_to - self.date_from).days >= MAX_RANGE_DAYS:
            raise ValueError(f"a range spans at most {MAX_RANGE_DAYS} days")
        return self


class AvailabilityItem(_Item):
    """Rooms left to sell of a PMS room type on each date of the range."""

    type: Literal["availability"]
    availability: int = Field(ge=0, le=100_000)


class OccupancyRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    occupancy: int = Field(ge=1, le=50)
    rate: Rate


class RestrictionsItem(_Item):
    """Rate and restrictions of a PMS rate plan (of that room type); only given fields change."""

    type: Literal["restrictions"]
    rate_plan_id: PmsId
    rate: Rate | None = Field(default=None, description="Per-room plans: the price per night.")
    # At most one rate per occupancy (1 to 50): a bound also keeps the largest valid batch,
    # and so the body cap (API_MAX_BODY_BYTES), small.
    rates: list[OccupancyRateIn] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Per-person plans: one rate per occupancy option.",
    )
    min_stay_arrival: int | None = Field(default=None, ge=1, le=730)
    min_stay_through: int | None = Field(default=None, ge=1, le=730)
    max_stay: int | None = Field(default=None, ge=0, le=730, description="0 = no maximum.")
    closed_to_arrival: bool | None = None
    closed_to_departure: bool | None = None
    stop_sell: bool | None = None

    @model_validator(mode="after")
    def _some_field(self) -> RestrictionsItem:
        if not self.fields_set():
            raise ValueError("give at least one of rate, rates or a restriction")
        return self

    def fields_set(self) -> dict[str, Any]:
        """The restriction fields given (rates still as Decimals)."""
        names = ("rate", "rates", "min_stay_arrival", "min_stay_through", "max_stay",
                 "closed_to_arrival", "closed_to_departure", "stop_sell")  # fmt: skip
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


AriItem = Annotated[AvailabilityItem | RestrictionsItem, Field(discriminator="type")]


class AriBatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "type": "availability",
                            "room_type_id": "dbl",
                            "date_from": "2026-06-01",
                            "date_to": "2026-06-30",
                            "availability": 7,
                        },
                        {
                            "type": "restrictions",
                            "room_type_id": "dbl",
                            "rate_plan_id": "bar",
                            "date_from": "2026-06-01",
                            "date_to": "2026-09-30",
                            "days": ["fr", "sa"],
                            "rate": "149.00",
                            "min_stay_arrival": 2,
                        },
                    ]
                }
            ]
        },
    )

    items: list[AriItem] = Field(min_length=1, max_length=MAX_ITEMS)


class AriAccepted(BaseModel):
    change_id: str
    cells_changed: int = Field(description="Cells whose desired value actually changed.")


class AriCellRead(BaseModel):
    type: Literal["availability", "restrictions"]
    room_type_id: str
    rate_plan_id: str | None
    date: date
    desired: dict[str, Any]
    status: CellStatus = Field(description="in_sync: Channex has it; pending: not sent yet.")
    failure: str | None = Field(description="Channex's warning when it rejected the value.")


class AriStateRead(BaseModel):
    property_id: str
    date_from: date
    date_to: date
    cells: list[AriCellRead]


class SyncRunRead(BaseModel):
    id: int
    kind: Literal["incremental", "full", "repair"]
    endpoint: Literal["availability", "restrictions"]
    outcome: Literal["success", "partial", "failed", "rate_limited"]
    cells: int
    values_count: int
    requests_count: int
    bytes_count: int
    date_from: date | None
    date_to: date | None
    task_ids: list[str]
    warnings: list[dict[str, Any]]
    error: str | None
    started_at: datetime
    duration_ms: int
    full_sync_id: int | None = Field(description="The full sync this run belongs to, if any.")


class FullSyncRead(BaseModel):
    """A full sync of the property, as `POST /sync` started (or joined) it."""

    id: int
    property_id: str
    state: Literal["queued", "running", "done", "failed"] = Field(
        description="queued: owed, not started; running: being sent; done: every request "
        "went out (the runs say what Channex did with each); failed: Channex rejected a "
        "request whole or was unavailable (a new full sync is then owed)."
    )
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    runs: list[SyncRunRead] = Field(description="The sync runs it produced, oldest first.")


class AriChangeCells(BaseModel):
    """The cells a change changed, by what became of them."""

    in_sync: int = Field(description="Channex has this change's value.")
    pending: int = Field(description="Not sent yet (or being sent).")
    held: int = Field(description="Waits for the PMS's next availability after a booking.")
    failed: int = Field(description="Channex rejected this change's value.")
    superseded: int = Field(description="A later change set the cell again: that one counts.")


class AriChangeRead(BaseModel):
    """An accepted batch (`change_id`), followed to Channex."""

    change_id: str
    property_id: str
    created_at: datetime
    items: int
    cells_changed: int
    state: Literal["in_sync", "pending", "held", "failed", "superseded"] = Field(
        description="superseded: later changes set all its cells again; otherwise the worst "
        "of its own cells' states (failed, pending, held), or in_sync."
    )
    cells: AriChangeCells
    runs: list[SyncRunRead] = Field(
        description="The sync runs that sent its values, oldest first, with Channex's task ids."
    )


class DriftCellRead(BaseModel):
    type: Literal["availability", "restrictions"]
    room_type_id: str
    rate_plan_id: str | None
    date: date
    field: str
    pushed: Any = Field(description="What channel-sync last pushed and Channex accepted.")
    channex: Any = Field(description="What Channex holds now.")


class DriftRead(BaseModel):
    property_id: str
    date_from: date
    date_to: date
    checked_cells: int
    differences: list[DriftCellRead]
    repaired: bool = Field(description="True when the differing cells were marked for a push.")
