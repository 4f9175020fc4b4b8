"""Pydantic models of our REST API: `XPut` bodies, `XRead` answers, and the page envelope."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.channex.schemas import PropertyType

T = TypeVar("T")

PmsId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
# Channex ids are UUIDs; anything else ("." or "..") could name another path of its API.
ChannexId = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ),
]
Currency = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Country = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


Timezone = Annotated[str, AfterValidator(_check_timezone)]


class RequestBody(BaseModel):
    """A body the PMS sends: no unknown field, and no text holding NUL, which PostgreSQL
    refuses in text (a 500 on one database, stored on the other)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: object) -> object:
        if has_nul(data):
            raise ValueError("NUL characters are not allowed")
        return data


def has_nul(value: object) -> bool:
    """Whether any string in a JSON value holds NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


class _Read(BaseModel):
    # Read off a row by attribute. `id` and the parents' ids are the PMS's, so they are
    # aliased to the `pms_*_id` attributes (app/api/views.py supplies the parents').
    model_config = ConfigDict(from_attributes=True)


class SyncState(_Read):
    sync_status: Literal["pending", "synced", "error", "missing"]
    last_error: str | None
    synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Page(BaseModel, Generic[T]):
    """One page of a list: `next_offset` is None on the last page."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next_offset: int | None


# --- organizations -------------------------------------------------------------------------


class OrganizationPut(RequestBody):
    title: Title
    channex_group_id: ChannexId | None = Field(
        default=None, description="Adopt this existing Channex group instead of creating one."
    )

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": "Seaside Hotels Ltd"}]}
    )


class OrganizationRead(SyncState):
    id: str = Field(validation_alias="pms_organization_id")
    title: str
    channex_group_id: str | None
    disconnected_at: datetime | None


# --- properties ----------------------------------------------------------------------------


class PropertyPut(RequestBody):
    organization_id: PmsId
    title: Title
    currency: Currency
    timezone: Timezone = "UTC"
    property_type: PropertyType = "hotel"
    country: Country | None = None
    state: Annotated[str, StringConstraints(max_length=255)] | None = None
    city: Annotated[str, StringConstraints(max_length=255)] | None = None
    address: Annotated[str, StringConstraints(max_length=255)] | None = None
    zip_code: Annotated[str, StringConstraints(max_length=32)] | None = None
    email: (
        Annotated[str, StringConstraints(max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    latitude: Annotated[str, StringConstraints(pattern=r"^-?\d{1,3}(\.\d{1,7})?$")] | None = None
    longitude: Annotated[str, StringConstraints(pattern=r"^-?\d{1,3}(\.\d{1,7})?$")] | None = None
    state_length: int = Field(default=500, ge=100, le=730, description="ARI horizon in days.")
    channex_property_id: ChannexId | None = Field(
        default=None, description="Adopt this existing Channex property instead of creating one."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organization_id": "org-1",
                    "title": "Seaside Hotel",
                    "currency": "EUR",
                    "timezone": "Europe/Lisbon",
                    "country": "PT",
                    "city": "Lisbon",
                    "address": "Rua do Mar 1",
                    "zip_code": "1100-001",
                    "email": "frontdesk@seaside.example",
                }
            ]
        },
    )

    def details(self) -> dict[str, Any]:
        """The descriptive fields stored as given and sent to Channex."""
        return self.model_dump(
            include={"property_type", "country", "state", "city", "address", "zip_code",
                     "email", "phone", "latitude", "longitude"},
            exclude_none=True,
        )  # fmt: skip


class PropertyRead(SyncState):
    id: str = Field(validation_alias="pms_property_id")
    organization_id: str = Field(validation_alias="pms_organization_id")
    title: str
    currency: str
    timezone: str
    state_length: int
    details: dict[str, Any]
    channex_property_id: str | None
    disconnected_at: datetime | None


# --- room types ----------------------------------------------------------------------------


class RoomTypePut(RequestBody):
    title: Title
    count_of_rooms: int = Field(ge=1, le=10_000)
    occ_adults: int = Field(ge=1, le=50)
    occ_children: int = Field(default=0, ge=0, le=50)
    occ_infants: int = Field(default=0, ge=0, le=50)
    default_occupancy: int | None = Field(
        default=None, ge=1, description="Defaults to occ_adults; at most occ_adults."
    )
    room_kind: Literal["room", "dorm"] = "room"
    channex_room_type_id: ChannexId | None = Field(
        default=None, description="Adopt this existing Channex room type instead of creating one."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Double Room", "count_of_rooms": 12, "occ_adults": 2}]
        },
    )

    @model_validator(mode="after")
    def _default_occupancy_fits(self) -> RoomTypePut:
        if self.default_occupancy is None:
            self.default_occupancy = self.occ_adults
        if self.default_occupancy > self.occ_adults:
            raise ValueError("default_occupancy must not exceed occ_adults")
        return self


class RoomTypeRead(SyncState):
    id: str = Field(validation_alias="pms_room_type_id")
    property_id: str = Field(validation_alias="pms_property_id")
    title: str
    count_of_rooms: int
    occ_adults: int
    occ_children: int
    occ_infants: int
    default_occupancy: int
    room_kind: str
    channex_room_type_id: str | None


# --- rate plans ----------------------------------------------------------------------------


class RatePlanOptionIn(RequestBody):
    occupancy: int = Field(ge=1, le=50)
    is_primary: bool = False
    rate: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=3)


class RatePlanPut(RequestBody):
    title: Title
    sell_mode: Literal["per_room", "per_person"] = "per_room"
    currency: Currency | None = None
    meal_type: Annotated[str, StringConstraints(max_length=40)] | None = None
    options: list[RatePlanOptionIn] | None = Field(
        default=None,
        description="Occupancy options; default: one primary option at the room's max adults.",
    )
    channex_rate_plan_id: ChannexId | None = Field(
        default=None, description="Adopt this existing Channex rate plan instead of creating one."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Best Available Rate",
                    "options": [{"occupancy": 2, "is_primary": True, "rate": "100.00"}],
                }
            ]
        },
    )


class RatePlanOptionRead(BaseModel):
    occupancy: int
    is_primary: bool
    rate: Decimal


class RatePlanRead(SyncState):
    id: str = Field(validation_alias="pms_rate_plan_id")
    property_id: str = Field(validation_alias="pms_property_id")
    room_type_id: str = Field(validation_alias="pms_room_type_id")
    title: str
    sell_mode: str
    currency: str | None
    meal_type: str | None
    options: list[RatePlanOptionRead]
    channex_rate_plan_id: str | None


# --- what Channex holds --------------------------------------------------------------------


class ChannexRoomTypeRead(BaseModel):
    channex_room_type_id: str
    title: str
    occ_adults: int | None
    count_of_rooms: int | None
    mapped_room_type_id: str | None = Field(description="Our (PMS) room type id mapped to it.")


class ChannexRatePlanRead(BaseModel):
    channex_rate_plan_id: str
    channex_room_type_id: str
    title: str
    sell_mode: str | None
    mapped_rate_plan_id: str | None = Field(description="Our (PMS) rate plan id mapped to it.")


class RefreshResult(BaseModel):
    room_types_missing: list[str] = Field(
        description="PMS room type ids whose Channex side is gone"
    )
    rate_plans_missing: list[str] = Field(
        description="PMS rate plan ids whose Channex side is gone"
    )
    restored: int = Field(description="Mappings found again after having been marked missing")


class ChannelRead(BaseModel):
    channex_channel_id: str
    channel: str
    title: str | None
    is_active: bool
    updated_at: datetime


# --- health --------------------------------------------------------------------------------


class CheckResult(BaseModel):
    ok: bool
    detail: str | None = None


ReadinessWarningCode = Literal["webhook_not_registered", "channex_user_id_missing"]


class ReadinessWarning(BaseModel):
    """Something an operator should fix that does not stop this replica serving: it never
    changes `ready` or the status code."""

    code: ReadinessWarningCode
    detail: str


class ReadinessBacklog(BaseModel):
    """Work waiting in the database, the same on every replica; facts, never a failure."""

    webhook_events_pending: int
    oldest_pending_webhook_event_at: datetime | None
    oldest_pending_webhook_event_age_seconds: float | None
    # Deliveries to the PMS still to be made, and those past their retries (replay by API).
    deliveries_pending: int
    deliveries_failed: int
    # When the oldest revision still waiting for a delivery was stored.
    oldest_undelivered_revision_at: datetime | None
    oldest_undelivered_revision_age_seconds: float | None


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, CheckResult]
    warnings: list[ReadinessWarning]
    # Null when the database could not be read (its check then says why).
    backlog: ReadinessBacklog | None
