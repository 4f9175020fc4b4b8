"""Typed Channex payloads (channex-api.md §2-§8).

Write models hold the attributes sent inside the entity wrapper (`{"room_type": {...}}`);
read models are built from a JSON:API item (`{"id", "type", "attributes", "relationships"}`).
Unknown fields are ignored on read so that Channex adding a field never breaks us.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        """Build from a JSON:API item (§1.3); a null attribute counts as absent."""
        return cls.model_validate(cls._fields(item))

    @classmethod
    def _fields(cls, item: Mapping[str, Any]) -> dict[str, Any]:
        """The model's input: the item's attributes plus its id; subclasses add relationships."""
        return {k: v for k, v in item_attributes(item).items() if v is not None}


ReadModel = _Read
"""Public name of the read-model base, for code that parses any Channex item."""


def item_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON:API item's attributes with its `id` (the item's id wins over the repeated one)."""
    attributes = item.get("attributes")
    result = dict(attributes) if isinstance(attributes, Mapping) else {}
    if item.get("id") is not None:
        result["id"] = item["id"]
    return result


def related_ids(item: Mapping[str, Any], name: str) -> list[str]:
    """Ids in `relationships.<name>.data`, which is one object or a list of them."""
    relationships = item.get("relationships")
    relation = relationships.get(name) if isinstance(relationships, Mapping) else None
    data = relation.get("data") if isinstance(relation, Mapping) else None
    entries = data if isinstance(data, list) else [data]
    return [str(e["id"]) for e in entries if isinstance(e, Mapping) and e.get("id") is not None]


def _first_related_id(item: Mapping[str, Any], name: str) -> str | None:
    ids = related_ids(item, name)
    return ids[0] if ids else None


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def payload(self) -> dict[str, Any]:
        """Attributes to send: `None` is never sent, Channex rejects nulls (channex-api.md §6.3)."""
        return self.model_dump(mode="json", exclude_none=True)


# --- groups (§2) ---------------------------------------------------------------------------


class Group(_Read):
    id: str
    title: str


# --- properties (§3) -----------------------------------------------------------------------


PropertyType = Literal[
    "apart_hotel", "apartment", "boat", "camping", "capsule_hotel", "chalet", "country_house",
    "farm_stay", "guest_house", "holiday_home", "holiday_park", "homestay", "hostel", "hotel",
    "inn", "lodge", "motel", "resort", "riad", "ryokan", "tent", "villa",
]  # fmt: skip


class PropertySettings(_Write):
    state_length: int | None = Field(default=None, ge=100, le=730)
    min_stay_type: Literal["both", "arrival", "through"] | None = None
    allow_availability_autoupdate_on_modification: bool | None = None
    allow_availability_autoupdate_on_cancellation: bool | None = None


class PropertyAttributes(_Write):
    title: str
    currency: str
    timezone: str | None = None
    email: str | None = None
    phone: str | None = None
    zip_code: str | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    address: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    property_type: PropertyType | None = None
    website: str | None = None
    # Only on creation: puts the property straight into the organization's group (§3).
    group_id: str | None = None
    settings: PropertySettings | None = None


class Property(_Read):
    id: str
    title: str
    currency: str
    timezone: str | None = None
    country: str | None = None
    is_active: bool | None = None
    group_ids: list[str] = Field(default_factory=list)
    state_length: int | None = None

    @classmethod
    def _fields(cls, item: Mapping[str, Any]) -> dict[str, Any]:
        """Groups come from relationships (or a lone `group_id`); the horizon from settings (§3)."""
        fields = super()._fields(item)
        group_ids = related_ids(item, "groups") or related_ids(item, "group")
        if not group_ids and isinstance(fields.get("group_id"), str):
            group_ids = [fields["group_id"]]
        fields["group_ids"] = group_ids
        settings = fields.get("settings")
        if isinstance(settings, Mapping) and settings.get("state_length") is not None:
            fields["state_length"] = settings["state_length"]
        return fields


# --- room types (§4) -----------------------------------------------------------------------


class RoomTypeAttributes(_Write):
    property_id: str
    title: str
    count_of_rooms: int = Field(ge=1)
    occ_adults: int = Field(ge=1)
    occ_children: int = Field(default=0, ge=0)
    occ_infants: int = Field(default=0, ge=0)
    default_occupancy: int = Field(ge=1)
    room_kind: Literal["room", "dorm"] | None = None
    capacity: int | None = None


class RoomType(_Read):
    id: str
    property_id: str
    title: str
    count_of_rooms: int | None = None
    occ_adults: int | None = None
    occ_children: int | None = None
    occ_infants: int | None = None
    default_occupancy: int | None = None

    @classmethod
    def _fields(cls, item: Mapping[str, Any]) -> dict[str, Any]:
        """`property_id` may only be in `relationships.property` (§4)."""
        fields = super()._fields(item)
        fields.setdefault("property_id", _first_related_id(item, "property"))
        return fields


# --- rate plans (§5) -----------------------------------------------------------------------


class RatePlanOption(_Write):
    occupancy: int = Field(ge=1)
    is_primary: bool = False
    # Integer minor units on write (§5); returned as a decimal string on read.
    rate: int = Field(default=0, ge=0)


class RatePlanAttributes(_Write):
    property_id: str
    room_type_id: str
    title: str
    options: list[RatePlanOption] = Field(min_length=1)
    currency: str | None = None
    sell_mode: Literal["per_room", "per_person"] = "per_room"
    rate_mode: Literal["manual", "derived", "cascade", "auto"] = "manual"
    meal_type: str | None = None


class RatePlanOptionRead(_Read):
    occupancy: int
    is_primary: bool = False
    rate: Decimal | None = None


class RatePlan(_Read):
    id: str
    property_id: str
    room_type_id: str
    title: str
    sell_mode: str | None = None
    rate_mode: str | None = None
    currency: str | None = None
    options: list[RatePlanOptionRead] = Field(default_factory=list)

    @classmethod
    def _fields(cls, item: Mapping[str, Any]) -> dict[str, Any]:
        """Owner ids may only be in `relationships.property` / `relationships.room_type` (§5)."""
        fields = super()._fields(item)
        fields.setdefault("property_id", _first_related_id(item, "property"))
        fields.setdefault("room_type_id", _first_related_id(item, "room_type"))
        return fields


# --- channels (§9) -------------------------------------------------------------------------


class Channel(_Read):
    id: str
    title: str | None = None
    channel: str  # adapter code: BookingCom, Expedia, AirBNB...
    is_active: bool = False
    property_ids: list[str] = Field(default_factory=list)
    hotel_id: str | None = None  # `settings.hotel_id` (Booking.com, Expedia: §9.3)

    @classmethod
    def _fields(cls, item: Mapping[str, Any]) -> dict[str, Any]:
        """Property ids from `attributes.properties` or `relationships.properties` (§9.2)."""
        fields = super()._fields(item)
        settings = fields.get("settings")
        hotel_id = settings.get("hotel_id") if isinstance(settings, Mapping) else None
        if hotel_id is not None:
            fields["hotel_id"] = str(hotel_id)[:64]
        listed = fields.get("properties")
        ids = [p.get("id") if isinstance(p, Mapping) else p for p in listed or []]
        clean = [str(i) for i in ids if i is not None]
        fields["property_ids"] = clean or related_ids(item, "properties")
        return fields


# --- ARI (§6) ------------------------------------------------------------------------------

Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]


class AvailabilityValue(_Write):
    property_id: str
    room_type_id: str
    date_from: date
    date_to: date
    availability: int = Field(ge=0)


class OccupancyRate(_Write):
    occupancy: int = Field(ge=1)
    rate: str  # decimal string, §6.3


class RestrictionValue(_Write):
    property_id: str
    rate_plan_id: str
    date_from: date
    date_to: date
    days: list[Weekday] | None = None
    rate: str | None = None
    rates: list[OccupancyRate] | None = None
    min_stay_arrival: int | None = None
    min_stay_through: int | None = None
    max_stay: int | None = None
    closed_to_arrival: bool | None = None
    closed_to_departure: bool | None = None
    stop_sell: bool | None = None


class AriResult(_Read):
    """A 200 from an ARI write: task ids, and the values Channex dropped as warnings (§6.6)."""

    task_ids: list[str] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AriResult:
        """Task ids from `data[].id` (§6.4) and dropped values from `meta.warnings` (§6.6)."""
        data = body.get("data")
        items = data if isinstance(data, list) else [data]
        task_ids = [str(i["id"]) for i in items if isinstance(i, Mapping) and i.get("id")]
        meta = body.get("meta")
        raw = meta.get("warnings") if isinstance(meta, Mapping) else None
        warnings = [dict(w) if isinstance(w, Mapping) else {"warning": w} for w in raw or []]
        return cls(task_ids=task_ids, warnings=warnings)


# --- webhooks (§8) -------------------------------------------------------------------------


class WebhookAttributes(_Write):
    callback_url: str
    event_mask: str
    property_id: str | None = None
    is_global: bool = False
    # Both default to false in Channex (§8.1): a webhook created without them never fires.
    is_active: bool = True
    send_data: bool = True
    headers: dict[str, str] = Field(default_factory=dict)
    request_params: dict[str, str] = Field(default_factory=dict)


class Webhook(_Read):
    id: str
    callback_url: str
    event_mask: str
    property_id: str | None = None
    is_global: bool = False
    is_active: bool = False
    send_data: bool = False
    headers: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def _fields(cls, item: Mapping[str, Any]) -> dict[str, Any]:
        """`property_id` may only be in `relationships.property` (§8.1)."""
        fields = super()._fields(item)
        property_id = fields.get("property_id") or _first_related_id(item, "property")
        if property_id is not None:
            fields["property_id"] = property_id
        return fields


# --- booking revisions (§7) ----------------------------------------------------------------


class BookingRevision(_Read):
    """A revision snapshot; the full attributes are kept in `raw` for processing."""

    id: str
    booking_id: str
    property_id: str
    status: Literal["new", "modified", "cancelled"]
    unique_id: str | None = None
    ota_name: str | None = None
    ota_reservation_code: str | None = None
    arrival_date: date | None = None
    departure_date: date | None = None
    inserted_at: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def _fields(cls, item: Mapping[str, Any]) -> dict[str, Any]:
        """The typed fields plus every attribute, untouched, in `raw`."""
        fields = super()._fields(item)
        fields["raw"] = item_attributes(item)
        return fields

    def inserted_instant(self) -> datetime:
        """`inserted_at` as an aware datetime for ordering; missing or unparseable sorts first."""
        try:
            parsed = datetime.fromisoformat(self.inserted_at) if self.inserted_at else None
        except ValueError:
            parsed = None
        if parsed is None:
            return datetime.min.replace(tzinfo=UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MalformedItem:
    """A feed entry that does not parse: its id, why (field paths and messages only, never
    the values: they may be guest data) and the item exactly as Channex sent it."""

    id: str
    reason: str
    item: dict[str, Any]


@dataclass(frozen=True)
class RevisionFeed:
    """Channex's feed of unacknowledged revisions: those that parse, oldest first, and the
    malformed ones, set apart so that one bad entry never hides the others (§7.3)."""

    revisions: list[BookingRevision]
    malformed: list[MalformedItem]
    # Read one page at a time: the page was full, so the feed may hold more after it.
    more: bool = False
