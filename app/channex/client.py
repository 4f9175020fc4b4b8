"""Async Channex API client: every endpoint channel-sync uses, with its URL, envelope and
pagination; ARI bodies are built by ari_wire.py, and sending (headers, limiter, retries, 429s)
is transport.py's job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from app.channex.ari_wire import AriMessage
from app.channex.errors import ChannexError, ChannexNotFoundError
from app.channex.ratelimit import RateLimiter
from app.channex.schemas import (
    AriResult,
    BookingRevision,
    Channel,
    Group,
    MalformedItem,
    Property,
    PropertyAttributes,
    RatePlan,
    RatePlanAttributes,
    ReadModel,
    RevisionFeed,
    RoomType,
    RoomTypeAttributes,
    Webhook,
    WebhookAttributes,
)
from app.channex.transport import AriScope, ChannexTransport, Json, Params, Prepaid, Sleep

logger = logging.getLogger(__name__)

ReadT = TypeVar("ReadT", bound=ReadModel)

PAGE_LIMIT = 100  # Channex's maximum page size; its default is 10 (§1.5)
MAX_PAGES = 1_000  # a server that ignores pagination[page] must not loop us forever


# The feed oldest first (§7.3): revisions of one booking must be applied in order.
FEED_ORDER: Params = {"order[inserted_at]": "asc"}


class ChannexClient:
    """One Channex account's API, built from explicit arguments only."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        limiter: RateLimiter,
        timeout: float = 30.0,
        max_attempts: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        max_limiter_wait: float = 2.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._transport = ChannexTransport(
            base_url=base_url,
            api_key=api_key,
            limiter=limiter,
            timeout=timeout,
            max_attempts=max_attempts,
            transport=transport,
            max_limiter_wait=max_limiter_wait,
            sleep=sleep,
        )
        self._request = self._transport.request

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- groups (§2) ---------------------------------------------------------------------

    async def list_groups(self) -> list[Group]:
        """Every group of the account."""
        return _parse_all(Group, await self._list("groups"))

    async def get_group(self, group_id: str) -> Group:
        """One group; ChannexNotFoundError when absent."""
        return _parse(Group, await self._get_item(f"groups/{_seg(group_id)}"))

    async def create_group(self, title: str) -> Group:
        """Create a group."""
        body = {"group": {"title": title}}
        return _parse(Group, await self._write("POST", "groups", body))

    async def update_group(self, group_id: str, title: str) -> Group:
        """Rename a group."""
        body = {"group": {"title": title}}
        return _parse(Group, await self._write("PUT", f"groups/{_seg(group_id)}", body))

    # --- properties (§3) -----------------------------------------------------------------

    async def list_properties(self, *, title: str | None = None) -> list[Property]:
        """Every property visible to the key, optionally filtered by exact title."""
        params: Params = {"filter[title]": title} if title is not None else {}
        return _parse_all(Property, await self._list("properties", params))

    async def get_property(self, property_id: str) -> Property:
        """One property; ChannexNotFoundError when absent."""
        return _parse(Property, await self._get_item(f"properties/{_seg(property_id)}"))

    async def create_property(self, attrs: PropertyAttributes) -> Property:
        """Create a property; `attrs.group_id` puts it straight into that group (§3)."""
        body = {"property": attrs.payload()}
        return _parse(Property, await self._write("POST", "properties", body))

    async def update_property(self, property_id: str, attrs: PropertyAttributes) -> Property:
        """Update a property; group membership is never changed here."""
        payload = attrs.payload()
        payload.pop("group_id", None)  # groups change through /groups/:id/properties (§2)
        path = f"properties/{_seg(property_id)}"
        return _parse(Property, await self._write("PUT", path, {"property": payload}))

    # --- room types (§4) -----------------------------------------------------------------

    async def list_room_types(self, property_id: str) -> list[RoomType]:
        """Room types of a property (a top-level filter: there is no nested path, §4)."""
        params: Params = {"filter[property_id]": property_id}
        return _parse_all(RoomType, await self._list("room_types", params))

    async def get_room_type(self, room_type_id: str) -> RoomType:
        """One room type; ChannexNotFoundError when absent."""
        return _parse(RoomType, await self._get_item(f"room_types/{_seg(room_type_id)}"))

    async def create_room_type(self, attrs: RoomTypeAttributes) -> RoomType:
        """Create a room type; it starts with availability 0 (§4)."""
        body = {"room_type": attrs.payload()}
        return _parse(RoomType, await self._write("POST", "room_types", body))

    async def update_room_type(self, room_type_id: str, attrs: RoomTypeAttributes) -> RoomType:
        """Update a room type."""
        path = f"room_types/{_seg(room_type_id)}"
        return _parse(RoomType, await self._write("PUT", path, {"room_type": attrs.payload()}))

    # --- rate plans (§5) -----------------------------------------------------------------

    async def list_rate_plans(
        self, property_id: str, *, room_type_id: str | None = None
    ) -> list[RatePlan]:
        """Rate plans of a property, optionally of one room type."""
        params: Params = {"filter[property_id]": property_id}
        if room_type_id is not None:
            params["filter[room_type_id]"] = room_type_id
        return _parse_all(RatePlan, await self._list("rate_plans", params))

    async def get_rate_plan(self, rate_plan_id: str) -> RatePlan:
        """One rate plan; ChannexNotFoundError when absent."""
        return _parse(RatePlan, await self._get_item(f"rate_plans/{_seg(rate_plan_id)}"))

    async def create_rate_plan(self, attrs: RatePlanAttributes) -> RatePlan:
        """Create a rate plan; it starts with rate 0 (§5)."""
        body = {"rate_plan": attrs.payload()}
        return _parse(RatePlan, await self._write("POST", "rate_plans", body))

    async def update_rate_plan(self, rate_plan_id: str, attrs: RatePlanAttributes) -> RatePlan:
        """Update a rate plan; its room type is fixed at creation (§5), so it is not sent."""
        payload = attrs.payload()
        payload.pop("room_type_id", None)
        path = f"rate_plans/{_seg(rate_plan_id)}"
        return _parse(RatePlan, await self._write("PUT", path, {"rate_plan": payload}))

    # --- channels (§9) -------------------------------------------------------------------

    async def list_channels(self, property_id: str) -> list[Channel]:
        """OTA connections of a property; "connected" means `is_active` (§9.2)."""
        params: Params = {"filter[property_id]": property_id}
        return _parse_all(Channel, await self._list("channels", params))

    async def one_time_token(
        self, property_id: str, *, username: str, group_id: str | None = None
    ) -> str:
        """A token that opens Channex's channel iframe for one property: single use, valid
        15 minutes (§9.4). A credential: never log it, nor the URL that carries it."""
        attrs: dict[str, str] = {"property_id": property_id, "username": username}
        if group_id is not None:
            attrs["group_id"] = group_id
        body = await self._request("POST", "auth/one_time_token", json={"one_time_token": attrs})
        data = body.get("data")
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ChannexError("Channex answered without a token", code="invalid_response")
        return token

    async def create_channel(self, attrs: Mapping[str, Any]) -> Channel:
        """Create a channel through the Channel API of a white-label account (§9.2): `attrs`
        are Channex's (`channel`, `group_id`, `properties`, `settings`, `rate_plans`...). It
        is created inactive: `activate_channel` follows."""
        return _parse(Channel, await self._write("POST", "channels", {"channel": dict(attrs)}))

    async def activate_channel(self, channel_id: str) -> None:
        """Activate a channel; Channex needs a property and a mapped rate plan on it (§9.2)."""
        await self._request("POST", f"channels/{_seg(channel_id)}/activate")

    async def execute_channel_action(self, channel_id: str, action: str) -> None:
        """Run an OTA action such as `load_future_reservations` (POST runs it, §9.2)."""
        await self._request("POST", f"channels/{_seg(channel_id)}/execute/{_seg(action)}")

    # --- ARI (§6) ------------------------------------------------------------------------

    async def push_ari(self, message: AriMessage) -> AriResult:
        """Send one ARI message: availability per room type (§6.2), rates and restrictions per
        rate plan (§6.3); the limiter counts it against its property and endpoint (§6.5)."""
        scope = AriScope(message.property_id, message.endpoint, message.tenant)
        body = await self._request("POST", message.endpoint, content=message.body, scope=scope)
        return AriResult.from_body(body)

    async def get_availability(
        self, property_id: str, date_from: date, date_to: date
    ) -> dict[str, dict[date, int]]:
        """Availability per room type and date, as Channex holds it (§6.1)."""
        params = _ari_read_params(property_id, date_from, date_to)
        data = await self._read_ari("availability", property_id, params)
        return {rt: {date.fromisoformat(d): int(v) for d, v in days.items()} for rt, days in data}

    async def get_restrictions(
        self, property_id: str, date_from: date, date_to: date, restrictions: Sequence[str]
    ) -> dict[str, dict[date, dict[str, Any]]]:
        """Restrictions per rate plan and date; Channex requires the names asked for (§6.1)."""
        if not restrictions:
            raise ValueError("restrictions must name at least one restriction (§6.1)")
        params = _ari_read_params(property_id, date_from, date_to)
        params["filter[restrictions]"] = ",".join(restrictions)
        data = await self._read_ari("restrictions", property_id, params)
        return {rp: {date.fromisoformat(d): dict(v) for d, v in days.items()} for rp, days in data}

    # --- webhooks (§8) -------------------------------------------------------------------

    async def list_webhooks(self) -> list[Webhook]:
        """Every webhook of the account."""
        return _parse_all(Webhook, await self._list("webhooks"))

    async def create_webhook(self, attrs: WebhookAttributes) -> Webhook:
        """Create a webhook (active and sending data unless `attrs` says otherwise, §8.1)."""
        body = {"webhook": attrs.payload()}
        return _parse(Webhook, await self._write("POST", "webhooks", body))

    async def update_webhook(self, webhook_id: str, attrs: WebhookAttributes) -> Webhook:
        """Update a webhook."""
        path = f"webhooks/{_seg(webhook_id)}"
        return _parse(Webhook, await self._write("PUT", path, {"webhook": attrs.payload()}))

    async def delete_webhook(self, webhook_id: str) -> None:
        """Delete a webhook."""
        await self._request("DELETE", f"webhooks/{_seg(webhook_id)}")

    # --- booking revisions (§7) ----------------------------------------------------------

    async def prepay(self, count: int) -> Prepaid:
        """Limiter slots for `count` calls of a batch (`prepaid=` of the booking revision
        calls) in one reservation; none when the budget has no room for all of them now."""
        return await self._transport.prepay(count)

    async def get_booking_revision(
        self, revision_id: str, *, prepaid: Prepaid | None = None
    ) -> BookingRevision:
        """One booking revision, the authoritative copy behind a webhook (§7.3)."""
        path = f"booking_revisions/{_seg(revision_id)}"
        item = _data_item(await self._request("GET", path, prepaid=prepaid))
        return _parse(BookingRevision, item)

    async def list_booking_revision_feed(
        self, *, property_id: str | None = None
    ) -> list[BookingRevision]:
        """Every unacknowledged revision that parses, oldest first (malformed ones are logged
        and left out: `read_booking_revision_feed` returns them too)."""
        return (await self.read_booking_revision_feed(property_id=property_id)).revisions

    async def read_booking_revision_feed(self, *, property_id: str | None = None) -> RevisionFeed:
        """Every unacknowledged revision, oldest first, all pages drained (§7.2, §7.3), and
        apart from them the entries that do not parse, as Channex sent them."""
        params: Params = {**FEED_ORDER}
        if property_id is not None:
            params["filter[property_id]"] = property_id
        return _revision_feed(await self._list("booking_revisions/feed", params))

    async def read_booking_revision_feed_page(self, page: int) -> RevisionFeed:
        """One page of the feed (PAGE_LIMIT entries from the oldest), so that a caller can
        drain it in short steps; `more` says the page was full."""
        items, _ = await self._page("booking_revisions/feed", FEED_ORDER, page)
        return _revision_feed(items, more=len(items) >= PAGE_LIMIT)

    async def ack_booking_revision(
        self, revision_id: str, *, prepaid: Prepaid | None = None
    ) -> None:
        """Acknowledge a stored revision: the REVISION id, not the booking id (§7.2)."""
        path = f"booking_revisions/{_seg(revision_id)}/ack"
        await self._request("POST", path, prepaid=prepaid)

    # --- plumbing ------------------------------------------------------------------------

    async def _get_item(self, path: str) -> Json:
        return _data_item(await self._request("GET", path))

    async def _write(self, method: str, path: str, body: Json) -> Json:
        """A create (POST) or an update (PUT) of one entity."""
        return _data_item(await self._request(method, path, json=body, create=method == "POST"))

    async def _list(self, path: str, params: Params | None = None) -> list[Json]:
        """Walk `pagination[page]` until meta.total is reached or a page comes back short (§1.5)."""
        items: list[Json] = []
        for page in range(1, MAX_PAGES + 1):
            batch, total = await self._page(path, params, page)
            items.extend(batch)
            if len(batch) < PAGE_LIMIT or (total is not None and len(items) >= total):
                return items
        logger.warning("channex pagination cut off", extra={"path": path, "pages": MAX_PAGES})
        return items

    async def _page(
        self, path: str, params: Params | None, page: int
    ) -> tuple[list[Json], int | None]:
        """One page of a list, PAGE_LIMIT long: its items, and meta.total when Channex says."""
        query: Params = {**(params or {}), "pagination[page]": page}
        query["pagination[limit]"] = PAGE_LIMIT
        body = await self._request("GET", path, params=query)
        batch = [i for i in body.get("data") or [] if isinstance(i, dict)]
        meta = body.get("meta")
        total = meta.get("total") if isinstance(meta, dict) else None
        return batch, total if isinstance(total, int) else None

    async def _read_ari(
        self, endpoint: str, property_id: str, params: Params
    ) -> list[tuple[str, Mapping[str, Any]]]:
        body = await self._request(
            "GET", endpoint, params=params, scope=AriScope(property_id, endpoint)
        )
        data = body.get("data")
        if not isinstance(data, Mapping):
            return []
        return [(k, v) for k, v in data.items() if isinstance(v, Mapping)]


def _seg(value: str) -> str:
    """A path segment, quoted so an id can never reach another path. `.` and `..` survive
    quoting and URL normalization resolves them (`properties/..` is the API's root), so they,
    like an empty id, name no Channex entity: refused before any request."""
    if value in ("", ".", ".."):
        raise ChannexNotFoundError(f"not a Channex id: {value!r}", code="invalid_id")
    return quote(value, safe="")


def _data_item(body: Json) -> Json:
    data = body.get("data")
    if not isinstance(data, dict):
        raise ChannexError("Channex answered without a data object", code="invalid_response")
    return data


def _parse(model: type[ReadT], item: Mapping[str, Any]) -> ReadT:
    """A read model from a JSON:API item; a malformed item is a ChannexError, not a crash."""
    try:
        return model.from_item(item)
    except pydantic.ValidationError as exc:
        title = f"Channex sent a malformed {model.__name__} ({exc.error_count()} errors)"
        raise ChannexError(title, code="invalid_response") from exc


def _parse_all(model: type[ReadT], items: list[Json]) -> list[ReadT]:
    return [_parse(model, item) for item in items]


def _revision_feed(items: list[Json], *, more: bool = False) -> RevisionFeed:
    revisions, malformed = _parse_each(BookingRevision, items)
    return RevisionFeed(sorted(revisions, key=BookingRevision.inserted_instant), malformed, more)


def _parse_each(model: type[ReadT], items: list[Json]) -> tuple[list[ReadT], list[MalformedItem]]:
    """The items that parse, and each one that does not (logged by id) set apart.

    One malformed entry must not hide the good ones (reconciliation would stall); the caller
    decides what to do with it (reconciliation quarantines it). An item without an id cannot
    be kept or acked: it is only logged.
    """
    parsed: list[ReadT] = []
    malformed: list[MalformedItem] = []
    for item in items:
        try:
            parsed.append(model.from_item(item))
        except pydantic.ValidationError as exc:
            item_id = item.get("id")
            ident = item_id if isinstance(item_id, str) and item_id else None
            logger.error(
                "skipped a malformed %s from Channex",
                model.__name__,
                extra={"channex_id": ident},
            )
            if ident is not None:
                malformed.append(MalformedItem(ident, _reason(model, exc), item))
    return parsed, malformed


def _reason(model: type[ReadT], exc: pydantic.ValidationError) -> str:
    """Which fields failed and why, without their values (they may be guest data)."""
    errors = exc.errors(include_input=False, include_url=False)
    fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '-'}: {e['msg']}" for e in errors)
    return f"Channex sent a malformed {model.__name__}: {fields}"


def _ari_read_params(property_id: str, date_from: date, date_to: date) -> Params:
    # GET reads take exactly one property id (§6.1).
    return {
        "filter[property_id]": property_id,
        "filter[date][gte]": date_from.isoformat(),
        "filter[date][lte]": date_to.isoformat(),
    }
