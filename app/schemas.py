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

from app import schema_examples as ex
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
    sync_status: Literal["pending", "synced", "error", "missing"] = Field(
        description="Where the Channex side stands: pending (not sent yet), synced, error (see "
        "`last_error`; retried), missing (a refresh found it gone from Channex)."
    )
    last_error: str | None = Field(description="Why the last sync failed; null once synced.")
    synced_at: datetime | None = Field(
        description="When Channex last accepted it (UTC, RFC 3339); null until then."
    )
    created_at: datetime = Field(description="When channel-sync first stored it (UTC, RFC 3339).")
    updated_at: datetime = Field(description="When it last changed here (UTC, RFC 3339).")


def _page_examples(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """A page of `Page[Item]` holding Item's example: each list gets a whole page of its own."""
    args = cls.__pydantic_generic_metadata__["args"]
    extra = args[0].model_config.get("json_schema_extra") if args else None
    if isinstance(extra, dict) and isinstance(extra.get("examples"), list):
        schema["examples"] = [ex.page(item) for item in extra["examples"][:1]]


class Page(BaseModel, Generic[T]):
    """One page of a list: `next_offset` is None on the last page."""

    model_config = ConfigDict(json_schema_extra=_page_examples)

    items: list[T] = Field(description="This page's items, in the list's order.")
    total: int = Field(description="Items in the whole list, all pages together.")
    limit: int = Field(description="The page size asked for (`?limit=`).")
    offset: int = Field(description="Items skipped before this page (`?offset=`).")
    next_offset: int | None = Field(
        description="The `?offset=` of the next page; null on the last page."
    )


# --- organizations -------------------------------------------------------------------------


class OrganizationPut(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.ORGANIZATION_PUT))

    title: Title = Field(description="The organization's name, also its Channex group's title.")
    channex_group_id: ChannexId | None = Field(
        default=None,
        description="Adopt this existing Channex group (UUID) instead of creating one.",
    )


class OrganizationRead(SyncState):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ORGANIZATION_READ))

    id: str = Field(validation_alias="pms_organization_id", description="The PMS's id of it.")
    title: str = Field(description="The organization's name.")
    channex_group_id: str | None = Field(
        description="Its Channex group (UUID); null until first synced."
    )
    disconnected_at: datetime | None = Field(
        description="When it was disconnected (UTC); null while connected."
    )


# --- properties ----------------------------------------------------------------------------


class PropertyPut(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.PROPERTY_PUT))

    organization_id: PmsId = Field(description="The PMS id of the organization it belongs to.")
    title: Title = Field(description="The property's name, as guests see it.")
    currency: Currency = Field(description="ISO 4217 code of its rates, e.g. EUR.")
    timezone: Timezone = Field(
        default="UTC", description="IANA time zone, e.g. Europe/Berlin: where its dates roll."
    )
    property_type: PropertyType = Field(default="hotel", description="Channex's property type.")
    country: Country | None = Field(default=None, description="ISO 3166-1 alpha-2 code, e.g. DE.")
    state: Annotated[str, StringConstraints(max_length=255)] | None = Field(
        default=None, description="State or region."
    )
    city: Annotated[str, StringConstraints(max_length=255)] | None = Field(
        default=None, description="City."
    )
    address: Annotated[str, StringConstraints(max_length=255)] | None = Field(
        default=None, description="Street and number."
    )
    zip_code: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="Postal code."
    )
    email: (
        Annotated[str, StringConstraints(max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = Field(default=None, description="The property's contact e-mail address.")
    phone: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="The property's phone number, international format."
    )
    latitude: Annotated[str, StringConstraints(pattern=r"^-?\d{1,3}(\.\d{1,7})?$")] | None = Field(
        default=None, description='Decimal degrees as a string, e.g. "48.1374".'
    )
    longitude: Annotated[str, StringConstraints(pattern=r"^-?\d{1,3}(\.\d{1,7})?$")] | None = Field(
        default=None, description='Decimal degrees as a string, e.g. "11.5755".'
    )
    state_length: int = Field(
        default=500, ge=100, le=730, description="ARI horizon in days from today."
    )
    channex_property_id: ChannexId | None = Field(
        default=None,
        description="Adopt this existing Channex property (UUID) instead of creating one.",
    )

    def details(self) -> dict[str, Any]:
        """The descriptive fields stored as given and sent to Channex."""
        return self.model_dump(
            include={"property_type", "country", "state", "city", "address", "zip_code",
                     "email", "phone", "latitude", "longitude"},
            exclude_none=True,
        )  # fmt: skip


class PropertyRead(SyncState):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PROPERTY_READ))

    id: str = Field(validation_alias="pms_property_id", description="The PMS's id of it.")
    organization_id: str = Field(
        validation_alias="pms_organization_id", description="The PMS id of its organization."
    )
    title: str = Field(description="The property's name.")
    currency: str = Field(description="ISO 4217 code of its rates.")
    timezone: str = Field(description="IANA time zone.")
    state_length: int = Field(description="ARI horizon in days from today.")
    details: dict[str, Any] = Field(
        description="The descriptive fields given in the PUT (type, address, contact, "
        "coordinates), absent ones left out."
    )
    channex_property_id: str | None = Field(
        description="Its Channex property (UUID); null until first synced."
    )
    disconnected_at: datetime | None = Field(
        description="When it was disconnected (UTC); null while connected."
    )


# --- room types ----------------------------------------------------------------------------


class RoomTypePut(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.ROOM_TYPE_PUT))

    title: Title = Field(description="The room type's name, as guests see it.")
    count_of_rooms: int = Field(ge=1, le=10_000, description="Physical rooms (or beds) of it.")
    occ_adults: int = Field(ge=1, le=50, description="Most adults in one room.")
    occ_children: int = Field(default=0, ge=0, le=50, description="Most children in one room.")
    occ_infants: int = Field(default=0, ge=0, le=50, description="Most infants in one room.")
    default_occupancy: int | None = Field(
        default=None, ge=1, description="Defaults to occ_adults; at most occ_adults."
    )
    room_kind: Literal["room", "dorm"] = Field(
        default="room", description="room: sold whole; dorm: sold by the bed."
    )
    channex_room_type_id: ChannexId | None = Field(
        default=None,
        description="Adopt this existing Channex room type (UUID) instead of creating one.",
    )

    @model_validator(mode="after")
    def _default_occupancy_fits(self) -> RoomTypePut:
        if self.default_occupancy is None:
            self.default_occupancy = self.occ_adults
        if self.default_occupancy > self.occ_adults:
            raise ValueError("default_occupancy must not exceed occ_adults")
        return self


class RoomTypeRead(SyncState):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ROOM_TYPE_READ))

    id: str = Field(validation_alias="pms_room_type_id", description="The PMS's id of it.")
    property_id: str = Field(
        validation_alias="pms_property_id", description="The PMS id of its property."
    )
    title: str = Field(description="The room type's name.")
    count_of_rooms: int = Field(description="Physical rooms (or beds) of it.")
    occ_adults: int = Field(description="Most adults in one room.")
    occ_children: int = Field(description="Most children in one room.")
    occ_infants: int = Field(description="Most infants in one room.")
    default_occupancy: int = Field(description="The occupancy Channex shows by default.")
    room_kind: str = Field(description="room or dorm.")
    channex_room_type_id: str | None = Field(
        description="Its Channex room type (UUID); null until first synced."
    )


# --- rate plans ----------------------------------------------------------------------------


class RatePlanOptionIn(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.RATE_PLAN_OPTION))

    occupancy: int = Field(ge=1, le=50, description="Guests this option prices.")
    is_primary: bool = Field(
        default=False,
        description="The option Channex derives the others from; at most one (default: the first).",
    )
    rate: Decimal = Field(
        default=Decimal(0),
        ge=0,
        max_digits=12,
        decimal_places=3,
        description="Price per night of this option in the plan's currency, as a decimal "
        "string or number.",
    )


class RatePlanPut(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.RATE_PLAN_PUT))

    title: Title = Field(description="The rate plan's name, as guests see it.")
    sell_mode: Literal["per_room", "per_person"] = Field(
        default="per_room",
        description="per_room: one price per night; per_person: one per occupancy option.",
    )
    currency: Currency | None = Field(
        default=None, description="ISO 4217 code; defaults to the property's currency."
    )
    meal_type: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, description="Channex's meal type, e.g. none, breakfast, half_board."
    )
    options: list[RatePlanOptionIn] | None = Field(
        default=None,
        description="Occupancy options; default: one primary option at the room's max adults.",
    )
    channex_rate_plan_id: ChannexId | None = Field(
        default=None,
        description="Adopt this existing Channex rate plan (UUID) instead of creating one.",
    )


class RatePlanOptionRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RATE_PLAN_OPTION))

    occupancy: int = Field(description="Guests this option prices.")
    is_primary: bool = Field(description="The option Channex derives the others from.")
    rate: Decimal = Field(description="Initial price per night in the plan's currency.")


class RatePlanRead(SyncState):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RATE_PLAN_READ))

    id: str = Field(validation_alias="pms_rate_plan_id", description="The PMS's id of it.")
    property_id: str = Field(
        validation_alias="pms_property_id", description="The PMS id of its property."
    )
    room_type_id: str = Field(
        validation_alias="pms_room_type_id", description="The PMS id of its room type."
    )
    title: str = Field(description="The rate plan's name.")
    sell_mode: str = Field(description="per_room or per_person.")
    currency: str | None = Field(description="ISO 4217 code; null: the property's currency.")
    meal_type: str | None = Field(description="Channex's meal type; null if none was given.")
    options: list[RatePlanOptionRead] = Field(description="Its occupancy options.")
    channex_rate_plan_id: str | None = Field(
        description="Its Channex rate plan (UUID); null until first synced."
    )


# --- what Channex holds --------------------------------------------------------------------


class ChannexRoomTypeRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CHANNEX_ROOM_TYPE))

    channex_room_type_id: str = Field(description="Channex's id (UUID).")
    title: str = Field(description="Its title in Channex.")
    occ_adults: int | None = Field(description="Most adults, as Channex holds it.")
    count_of_rooms: int | None = Field(description="Rooms, as Channex holds it.")
    mapped_room_type_id: str | None = Field(
        description="Our (PMS) room type id mapped to it; null if unmapped."
    )


class ChannexRatePlanRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CHANNEX_RATE_PLAN))

    channex_rate_plan_id: str = Field(description="Channex's id (UUID).")
    channex_room_type_id: str = Field(description="Channex's id of its room type (UUID).")
    title: str = Field(description="Its title in Channex.")
    sell_mode: str | None = Field(description="per_room or per_person, as Channex holds it.")
    mapped_rate_plan_id: str | None = Field(
        description="Our (PMS) rate plan id mapped to it; null if unmapped."
    )


class RefreshResult(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.REFRESH_RESULT))

    room_types_missing: list[str] = Field(
        description="PMS room type ids whose Channex side is gone"
    )
    rate_plans_missing: list[str] = Field(
        description="PMS rate plan ids whose Channex side is gone"
    )
    restored: int = Field(description="Mappings found again after having been marked missing")


ChannelStateName = Literal["pending", "live", "disconnected", "error", "removal_warning"]


class GoLiveFullSync(BaseModel):
    state: Literal["owed", "done", "failed"] | None = Field(
        description="The go-live's full ARI sync: owed (queued or being sent), done, failed; "
        "null before the channel was ever live."
    )
    requested_at: datetime | None = Field(description="When it was owed (UTC).")
    finished_at: datetime | None = Field(description="When it was sent or failed (UTC).")


class GoLiveImport(BaseModel):
    state: Literal["requested", "sent", "failed"] | None = Field(
        description="Channex's `load_future_reservations` for the OTA: requested (queued, "
        "retried while Channex is unavailable), sent (Channex accepted it), failed (Channex "
        "refused it; see `error`). Channex reports no count: the bookings arrive as ordinary "
        "revisions, pushed like any other."
    )
    requested_at: datetime | None = Field(description="When the import was requested (UTC).")
    sent_at: datetime | None = Field(description="When Channex accepted it (UTC).")
    error: str | None = Field(description="Why Channex refused it, when it failed.")
    bookings_received: int = Field(
        description="Bookings of this channel received since the import was requested: the "
        "imported ones and any new ones alike; there is no total to compare it with."
    )


class GoLive(BaseModel):
    went_live_at: datetime | None = Field(description="When the channel last became live (UTC).")
    full_sync: GoLiveFullSync = Field(description="The full ARI sync owed at the go-live.")
    import_: GoLiveImport = Field(
        alias="import",
        serialization_alias="import",
        description="The import of the OTA's bookings made before the go-live.",
    )

    model_config = ConfigDict(populate_by_name=True)


class ChannelRead(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CHANNEL))

    channex_channel_id: str = Field(description="Channex's id of the channel (UUID).")
    channel: str = Field(description="Channex's code of the OTA, e.g. BookingCom.")
    title: str | None = Field(description="The channel's title in Channex.")
    is_active: bool = Field(description="Whether the channel is connected and selling.")
    state: ChannelStateName = Field(
        description="The connection state to show: pending (created, never active), live, "
        "disconnected (was live), error (the OTA reported a sync error since the channel "
        "last changed), removal_warning (inactive, and Channex will delete it)."
    )
    state_changed_at: datetime | None = Field(description="When `state` last changed (UTC).")
    last_event: str | None = Field(description="The last Channex channel event seen.")
    error: str | None = Field(description="The OTA's sync error, in state `error`.")
    next_steps: list[str] = Field(
        description="What the hotel has to do next, in English, for this OTA; empty when live."
    )
    go_live: GoLive = Field(description="The last go-live: its full ARI sync and its import.")
    updated_at: datetime = Field(
        description="When channel-sync last updated its record of the channel, a periodic read "
        "from Channex included (UTC, RFC 3339); `state_changed_at` says when the state changed."
    )


class ChannelStateDelivery(BaseModel):
    """The body of a `channel.state_changed` push (signed like `booking.revision`)."""

    type: Literal["channel.state_changed"] = Field(description="The event type.")
    delivery_id: str = Field(description="The delivery's id, equal to the `webhook-id` header.")
    sequence: int = Field(description="1, 2, … per channel: deliveries arrive in this order.")
    property_id: str = Field(description="The PMS's id of the property.")
    data: ChannelRead = Field(description="The channel as it was right after the change.")


# --- health --------------------------------------------------------------------------------


class CheckResult(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CHECK_RESULT))

    ok: bool = Field(description="Whether this dependency is usable.")
    detail: str | None = Field(
        default=None, description="What was found (an error's type when not ok), or null."
    )


ReadinessWarningCode = Literal["webhook_not_registered", "channex_user_id_missing"]


class ReadinessWarning(BaseModel):
    """Something an operator should fix that does not stop this replica serving: it never
    changes `ready` or the status code."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.READINESS_WARNING))

    code: ReadinessWarningCode = Field(
        description="webhook_not_registered: Channex cannot send bookings to this service "
        "(PUBLIC_BASE_URL or CHANNEX_WEBHOOK_SECRET unset, or the last registration failed); "
        "channex_user_id_missing: in production, our own ARI pushes echoed by Channex cannot "
        "be told from changes made by others."
    )
    detail: str = Field(description="What was found and what to set or look at.")


class ReadinessBacklog(BaseModel):
    """Work waiting in the database, the same on every replica; facts, never a failure."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.READINESS_BACKLOG))

    webhook_events_pending: int = Field(description="Stored Channex webhooks not processed yet.")
    oldest_pending_webhook_event_at: datetime | None = Field(
        description="When the oldest of them was received; null when none waits."
    )
    oldest_pending_webhook_event_age_seconds: float | None = Field(
        description="Its age in seconds; null when none waits."
    )
    deliveries_pending: int = Field(description="Deliveries to the PMS still to be made.")
    deliveries_failed: int = Field(
        description="Deliveries past their retries (replay them through the API)."
    )
    oldest_undelivered_revision_at: datetime | None = Field(
        description="When the oldest revision still waiting for a delivery was stored."
    )
    oldest_undelivered_revision_age_seconds: float | None = Field(
        description="Its age in seconds; null when nothing waits."
    )


class Readiness(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.READINESS))

    ready: bool = Field(description="Whether every check is ok (then 200, else 503).")
    checks: dict[str, CheckResult] = Field(
        description="Each check by name: database, channex_config, and redis when configured."
    )
    warnings: list[ReadinessWarning] = Field(
        description="What an operator should fix; warnings never make the service unready."
    )
    backlog: ReadinessBacklog | None = Field(
        description="Work waiting in the database; null when it could not be read (the "
        "database check then says why)."
    )
