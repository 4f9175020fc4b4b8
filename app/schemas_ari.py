"""Pydantic models of the ARI API: change batches, desired state, sync runs, drift."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app import schema_examples as ex
from app.schemas import PmsId

Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
Rate = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)]
CellStatus = Literal["in_sync", "pending", "failed", "held"]
# Aliased: a field named `date` cannot also carry `= Field(...)` (the name would shadow the type).
StayDate = Annotated[date, Field(description="The stay date, in the property's time zone.")]

MAX_ITEMS = 1_000
_NOT_NULL = ("room_type_id", "rate_plan_id", "date_from", "date_to", "days", "availability",
             "rate", "rates", "min_stay_arrival", "min_stay_through", "max_stay",
             "closed_to_arrival", "closed_to_departure", "stop_sell")  # fmt: skip
MAX_RANGE_DAYS = 731  # Channex's longest horizon (state_length ≤ 730, channex-api.md §6.5)


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    room_type_id: PmsId = Field(description="The PMS id of the room type.")
    date_from: date = Field(description="First date (inclusive), in the property's time zone.")
    date_to: date = Field(description="Last date (inclusive); a range spans at most 731 days.")
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

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.AVAILABILITY_ITEM))

    type: Literal["availability"] = Field(description="Selects this kind of item.")
    availability: int = Field(ge=0, le=100_000, description="Rooms left to sell on each date.")


class OccupancyRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.OCCUPANCY_RATE))

    occupancy: int = Field(ge=1, le=50, description="One of the rate plan's occupancy options.")
    rate: Rate = Field(description="Price per night for that occupancy, in the plan's currency.")


class RestrictionsItem(_Item):
    """Rate and restrictions of a PMS rate plan (of that room type); only given fields change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.RESTRICTIONS_ITEM))

    type: Literal["restrictions"] = Field(description="Selects this kind of item.")
    rate_plan_id: PmsId = Field(description="The PMS id of the rate plan (of that room type).")
    rate: Rate | None = Field(
        default=None,
        description="Per-room plans: the price per night in the plan's currency, as a decimal "
        "string or number.",
    )
    # At most one rate per occupancy (1 to 50): a bound also keeps the largest valid batch,
    # and so the body cap (API_MAX_BODY_BYTES), small.
    rates: list[OccupancyRateIn] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Per-person plans: one rate per occupancy option.",
    )
    min_stay_arrival: int | None = Field(
        default=None, ge=1, le=730, description="Fewest nights of a stay arriving on the date."
    )
    min_stay_through: int | None = Field(
        default=None, ge=1, le=730, description="Fewest nights of a stay that covers the date."
    )
    max_stay: int | None = Field(
        default=None, ge=0, le=730, description="Most nights of a stay; 0 = no maximum."
    )
    closed_to_arrival: bool | None = Field(default=None, description="No arrival on the date.")
    closed_to_departure: bool | None = Field(default=None, description="No departure on the date.")
    stop_sell: bool | None = Field(default=None, description="Not sold at all on the date.")

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
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.ARI_BATCH))

    items: list[AriItem] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="The changes, applied in order (a later item wins on the same cell); all "
        "are stored or none.",
    )


class AriAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ARI_ACCEPTED))

    change_id: str = Field(description="This batch's id (32 hex digits), for the logs.")
    cells_changed: int = Field(description="Cells whose desired value actually changed.")


class AriCellRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ARI_CELL_RESTRICTIONS))

    type: Literal["availability", "restrictions"] = Field(description="The kind of cell.")
    room_type_id: str = Field(description="The PMS id of the room type.")
    rate_plan_id: str | None = Field(
        description="The PMS id of the rate plan; null on availability cells."
    )
    date: StayDate
    desired: dict[str, Any] = Field(
        description="The values the PMS asked for, by field (rates as decimal strings)."
    )
    status: CellStatus = Field(
        description="in_sync: Channex has it; pending: not sent yet; failed: Channex rejected "
        "it (see `failure`); held: waits for the PMS's next availability after a booking."
    )
    failure: str | None = Field(description="Channex's warning when it rejected the value.")


class AriStateRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ARI_STATE))

    property_id: str = Field(description="The PMS id of the property.")
    date_from: date = Field(description="First date asked for (inclusive).")
    date_to: date = Field(description="Last date asked for (inclusive).")
    cells: list[AriCellRead] = Field(
        description="Every cell the PMS has set on those dates; unset ones are left out."
    )


class SyncRunRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SYNC_RUN))

    id: int = Field(description="The run's id.")
    kind: Literal["incremental", "full", "repair"] = Field(
        description="incremental: changed cells; full: the whole horizon; repair: drift."
    )
    endpoint: Literal["availability", "restrictions"] = Field(
        description="Which Channex ARI endpoint was called."
    )
    outcome: Literal["success", "partial", "failed", "rate_limited"] = Field(
        description="partial: Channex dropped some values (see `warnings`)."
    )
    cells: int = Field(description="Cells the run covered.")
    values_count: int = Field(
        description="Values sent: a run of equal values on consecutive dates counts once."
    )
    requests_count: int = Field(description="HTTP requests made to Channex.")
    bytes_count: int = Field(description="Request bytes sent to Channex.")
    date_from: date | None = Field(description="First date sent; null if none was.")
    date_to: date | None = Field(description="Last date sent; null if none was.")
    task_ids: list[str] = Field(description="Channex's task ids of the requests.")
    warnings: list[dict[str, Any]] = Field(
        description="Channex's `meta.warnings`: the values it dropped, and why."
    )
    error: str | None = Field(description="Why the run failed; null unless it did.")
    started_at: datetime = Field(description="When the run started (UTC, RFC 3339).")
    duration_ms: int = Field(description="How long it took, in milliseconds.")
    full_sync_id: int | None = Field(description="The full sync this run belongs to, if any.")


class FullSyncRead(BaseModel):
    """A full sync of the property, as `POST /sync` started (or joined) it."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.FULL_SYNC))

    id: int = Field(description="The full sync's id (its Location ends with it).")
    property_id: str = Field(description="The PMS id of the property.")
    state: Literal["queued", "running", "done", "failed"] = Field(
        description="queued: owed, not started; running: being sent; done: every request "
        "went out (the runs say what Channex did with each); failed: Channex rejected a "
        "request whole or was unavailable (a new full sync is then owed)."
    )
    requested_at: datetime = Field(description="When it was asked for (UTC, RFC 3339).")
    started_at: datetime | None = Field(description="When sending began; null while queued.")
    finished_at: datetime | None = Field(
        description="When it ended (done or failed); null until then."
    )
    runs: list[SyncRunRead] = Field(description="The sync runs it produced, oldest first.")


class AriChangeCells(BaseModel):
    """The cells a change changed, by what became of them."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ARI_CHANGE_CELLS))

    in_sync: int = Field(description="Channex has this change's value.")
    pending: int = Field(description="Not sent yet (or being sent).")
    held: int = Field(description="Waits for the PMS's next availability after a booking.")
    failed: int = Field(description="Channex rejected this change's value.")
    superseded: int = Field(description="A later change set the cell again: that one counts.")


class AriChangeRead(BaseModel):
    """An accepted batch (`change_id`), followed to Channex."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ARI_CHANGE))

    change_id: str = Field(description="The id `POST /ari` answered.")
    property_id: str = Field(description="The PMS id of the property.")
    created_at: datetime = Field(description="When the batch was accepted (UTC, RFC 3339).")
    items: int = Field(description="Items in the batch.")
    cells_changed: int = Field(description="Cells whose desired value the batch changed.")
    state: Literal["in_sync", "pending", "held", "failed", "superseded"] = Field(
        description="superseded: later changes set all its cells again; otherwise the worst "
        "of its own cells' states (failed, pending, held), or in_sync."
    )
    cells: AriChangeCells = Field(description="Its changed cells, by what became of them.")
    runs: list[SyncRunRead] = Field(
        description="The sync runs that sent its values, oldest first, with Channex's task ids."
    )


class DriftCellRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DRIFT_CELL))

    type: Literal["availability", "restrictions"] = Field(description="The kind of cell.")
    room_type_id: str = Field(description="The PMS id of the room type.")
    rate_plan_id: str | None = Field(
        description="The PMS id of the rate plan; null on availability cells."
    )
    date: StayDate
    field: str = Field(description="The field that differs, e.g. availability or rate.")
    pushed: Any = Field(description="What channel-sync last pushed and Channex accepted.")
    channex: Any = Field(description="What Channex holds now.")


class DriftRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DRIFT))

    property_id: str = Field(description="The PMS id of the property.")
    date_from: date = Field(description="First date checked (inclusive).")
    date_to: date = Field(description="Last date checked (inclusive).")
    checked_cells: int = Field(description="Cells compared with Channex.")
    differences: list[DriftCellRead] = Field(description="One entry per differing field.")
    repaired: bool = Field(description="True when the differing cells were marked for a push.")
