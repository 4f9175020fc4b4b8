"""Onboarding and mapping: organizations, properties, room types, rate plans, and what
Channex holds for a property. Every id is the PMS's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

from channel_sync_client import models as m
from channel_sync_client.pagination import iter_offset_pages
from channel_sync_client.transport import Transport

ORG = "/v1/organizations/{org_id}"
PROPERTY = "/v1/properties/{property_id}"
ROOM_TYPE = PROPERTY + "/room-types/{room_type_id}"
RATE_PLAN = ROOM_TYPE + "/rate-plans/{rate_plan_id}"


class OnboardingOperations(Transport):
    async def list_organizations(
        self, *, limit: int = 100, offset: int = 0
    ) -> m.PageOrganizationRead:
        """Organizations the caller may see, oldest first (one page)."""
        params = {"limit": limit, "offset": offset}
        return await self._call(m.PageOrganizationRead, "GET", "/v1/organizations", params=params)

    def iter_organizations(self, *, limit: int = 100) -> AsyncIterator[m.OrganizationRead]:
        """Every organization the caller may see, page after page."""
        return iter_offset_pages(lambda offset: self.list_organizations(limit=limit, offset=offset))

    async def get_organization(self, org_id: str) -> m.OrganizationRead:
        """One organization with its Channex group id and sync state."""
        return await self._call(m.OrganizationRead, "GET", ORG, {"org_id": org_id})

    async def put_organization(self, org_id: str, body: m.OrganizationPut) -> m.OrganizationRead:
        """Create the organization's Channex group, or update its title; never a second one."""
        return await self._call(m.OrganizationRead, "PUT", ORG, {"org_id": org_id}, body=body)

    async def disconnect_organization(self, org_id: str) -> m.OrganizationRead:
        """Disconnect the organization: syncing stops, its history stays; a PUT reconnects."""
        return await self._call(m.OrganizationRead, "DELETE", ORG, {"org_id": org_id})

    async def list_properties(
        self, *, organization_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> m.PagePropertyRead:
        """Properties the caller may see, oldest first (one page)."""
        params = {"organization_id": organization_id, "limit": limit, "offset": offset}
        return await self._call(m.PagePropertyRead, "GET", "/v1/properties", params=params)

    def iter_properties(
        self, *, organization_id: str | None = None, limit: int = 100
    ) -> AsyncIterator[m.PropertyRead]:
        """Every property the caller may see (of one organization if given), page by page."""
        return iter_offset_pages(
            lambda offset: self.list_properties(
                organization_id=organization_id, limit=limit, offset=offset
            )
        )

    async def get_property(self, property_id: str) -> m.PropertyRead:
        """One property with its Channex id and sync state."""
        return await self._call(m.PropertyRead, "GET", PROPERTY, {"property_id": property_id})

    async def put_property(self, property_id: str, body: m.PropertyPut) -> m.PropertyRead:
        """Create the Channex property in the organization's group, or update it."""
        path = {"property_id": property_id}
        return await self._call(m.PropertyRead, "PUT", PROPERTY, path, body=body)

    async def disconnect_property(self, property_id: str) -> m.PropertyRead:
        """Disconnect the property: syncing stops, its history stays; a PUT reconnects it."""
        return await self._call(m.PropertyRead, "DELETE", PROPERTY, {"property_id": property_id})

    async def list_room_types(self, property_id: str) -> list[m.RoomTypeRead]:
        """Every room type mapping of the property."""
        path = {"property_id": property_id}
        return await self._call(list[m.RoomTypeRead], "GET", PROPERTY + "/room-types", path)

    async def get_room_type(self, property_id: str, room_type_id: str) -> m.RoomTypeRead:
        """One room type mapping with its Channex id and sync state."""
        path = {"property_id": property_id, "room_type_id": room_type_id}
        return await self._call(m.RoomTypeRead, "GET", ROOM_TYPE, path)

    async def put_room_type(
        self, property_id: str, room_type_id: str, body: m.RoomTypePut
    ) -> m.RoomTypeRead:
        """Create or update the room type in Channex (or adopt one) and store the mapping."""
        path = {"property_id": property_id, "room_type_id": room_type_id}
        return await self._call(m.RoomTypeRead, "PUT", ROOM_TYPE, path, body=body)

    async def unmap_room_type(self, property_id: str, room_type_id: str) -> None:
        """Forget the mapping and its rate plans' mappings; Channex keeps the room type."""
        path = {"property_id": property_id, "room_type_id": room_type_id}
        await self._call(type(None), "DELETE", ROOM_TYPE, path)

    async def list_rate_plans(self, property_id: str) -> list[m.RatePlanRead]:
        """Every rate plan mapping of the property."""
        path = {"property_id": property_id}
        return await self._call(list[m.RatePlanRead], "GET", PROPERTY + "/rate-plans", path)

    async def list_room_type_rate_plans(
        self, property_id: str, room_type_id: str
    ) -> list[m.RatePlanRead]:
        """Rate plan mappings of one room type."""
        path = {"property_id": property_id, "room_type_id": room_type_id}
        return await self._call(list[m.RatePlanRead], "GET", ROOM_TYPE + "/rate-plans", path)

    async def get_rate_plan(
        self, property_id: str, room_type_id: str, rate_plan_id: str
    ) -> m.RatePlanRead:
        """One rate plan mapping with its Channex id and sync state."""
        path = {
            "property_id": property_id,
            "room_type_id": room_type_id,
            "rate_plan_id": rate_plan_id,
        }
        return await self._call(m.RatePlanRead, "GET", RATE_PLAN, path)

    async def put_rate_plan(
        self, property_id: str, room_type_id: str, rate_plan_id: str, body: m.RatePlanPut
    ) -> m.RatePlanRead:
        """Create or update the rate plan in Channex (or adopt one) and store the mapping."""
        path = {
            "property_id": property_id,
            "room_type_id": room_type_id,
            "rate_plan_id": rate_plan_id,
        }
        return await self._call(m.RatePlanRead, "PUT", RATE_PLAN, path, body=body)

    async def unmap_rate_plan(self, property_id: str, room_type_id: str, rate_plan_id: str) -> None:
        """Forget the mapping; Channex keeps the rate plan."""
        path = {
            "property_id": property_id,
            "room_type_id": room_type_id,
            "rate_plan_id": rate_plan_id,
        }
        await self._call(type(None), "DELETE", RATE_PLAN, path)

    async def list_channex_room_types(self, property_id: str) -> list[m.ChannexRoomTypeRead]:
        """Room types Channex holds for the property, with the PMS room type mapped to each."""
        path = {"property_id": property_id}
        answer = list[m.ChannexRoomTypeRead]
        return await self._call(answer, "GET", PROPERTY + "/channex/room-types", path)

    async def list_channex_rate_plans(self, property_id: str) -> list[m.ChannexRatePlanRead]:
        """Rate plans Channex holds for the property, with the PMS rate plan mapped to each."""
        path = {"property_id": property_id}
        answer = list[m.ChannexRatePlanRead]
        return await self._call(answer, "GET", PROPERTY + "/channex/rate-plans", path)

    async def refresh_mappings(self, property_id: str) -> m.RefreshResult:
        """Compare the mappings with Channex; mark those whose Channex side is gone."""
        path = {"property_id": property_id}
        return await self._call(m.RefreshResult, "POST", PROPERTY + "/channex/refresh", path)

    async def create_channel_session(
        self, property_id: str, body: m.ChannelSessionCreate
    ) -> m.ChannelSessionRead:
        """A one-time URL of Channex's channel iframe, where the hotel connects an OTA and
        maps its rooms: hand it to the hotel's browser at once (single use, 15 minutes)."""
        path = {"property_id": property_id}
        answer = m.ChannelSessionRead
        return await self._call(answer, "POST", PROPERTY + "/channels/session", path, body=body)

    async def create_channel(self, property_id: str, body: m.ChannelCreate) -> m.ChannelRead:
        """Connect an OTA without the iframe, on a white-label Channex account: the channel
        created with the hotel id and a mapping of our rate plans, and activated (403
        `white_label_disabled` unless the service has `CHANNEX_WHITE_LABEL`)."""
        path = {"property_id": property_id}
        return await self._call(m.ChannelRead, "POST", PROPERTY + "/channels", path, body=body)
