"""ARI: push availability, rates and restrictions; follow the sync runs that carried them;
check and repair drift; the property's OTA channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

from channel_sync_client import models as m
from channel_sync_client.onboarding import PROPERTY
from channel_sync_client.pagination import iter_offset_pages
from channel_sync_client.transport import Transport


class AriOperations(Transport):
    async def post_ari(self, property_id: str, body: m.AriBatch) -> m.AriAccepted:
        """Store a batch of ARI changes (all or nothing); Channex gets them in the background."""
        path = {"property_id": property_id}
        return await self._call(m.AriAccepted, "POST", PROPERTY + "/ari", path, body=body)

    async def get_ari(self, property_id: str, *, from_: date, to: date) -> m.AriStateRead:
        """Desired ARI per cell on those dates, and whether Channex has it yet."""
        path, params = {"property_id": property_id}, {"from": from_, "to": to}
        return await self._call(m.AriStateRead, "GET", PROPERTY + "/ari", path, params=params)

    async def get_ari_change(self, property_id: str, change_id: str) -> m.AriChangeRead:
        """What became of an accepted batch's cells, and the sync runs that carried them."""
        path = {"property_id": property_id, "change_id": change_id}
        template = PROPERTY + "/ari/changes/{change_id}"
        return await self._call(m.AriChangeRead, "GET", template, path)

    async def full_sync(self, property_id: str) -> m.FullSyncRead:
        """Send the whole horizon again; the full sync started, or the queued one joined."""
        path = {"property_id": property_id}
        return await self._call(m.FullSyncRead, "POST", PROPERTY + "/sync", path)

    async def get_full_sync(self, property_id: str, full_sync_id: int) -> m.FullSyncRead:
        """A full sync: queued, running, done or failed, and the sync runs it produced."""
        path: dict[str, str | int] = {"property_id": property_id, "full_sync_id": full_sync_id}
        template = PROPERTY + "/full-syncs/{full_sync_id}"
        return await self._call(m.FullSyncRead, "GET", template, path)

    async def list_sync_runs(
        self, property_id: str, *, limit: int = 100, offset: int = 0
    ) -> m.PageSyncRunRead:
        """What each ARI request sent and what Channex answered, newest first (one page)."""
        path, params = {"property_id": property_id}, {"limit": limit, "offset": offset}
        answer = m.PageSyncRunRead
        return await self._call(answer, "GET", PROPERTY + "/sync-runs", path, params=params)

    def iter_sync_runs(self, property_id: str, *, limit: int = 100) -> AsyncIterator[m.SyncRunRead]:
        """Every sync run of the property, newest first, page by page."""
        return iter_offset_pages(
            lambda offset: self.list_sync_runs(property_id, limit=limit, offset=offset)
        )

    async def get_sync_run(self, property_id: str, run_id: int) -> m.SyncRunRead:
        """One sync run."""
        path: dict[str, str | int] = {"property_id": property_id, "run_id": run_id}
        return await self._call(m.SyncRunRead, "GET", PROPERTY + "/sync-runs/{run_id}", path)

    async def get_drift(self, property_id: str, *, from_: date, to: date) -> m.DriftRead:
        """Read Channex's ARI back; the cells that differ from what was last pushed."""
        path, params = {"property_id": property_id}, {"from": from_, "to": to}
        return await self._call(m.DriftRead, "GET", PROPERTY + "/drift", path, params=params)

    async def repair_drift(self, property_id: str, *, from_: date, to: date) -> m.DriftRead:
        """Check drift and queue a push of exactly the differing cells (never a full sync)."""
        path, params = {"property_id": property_id}, {"from": from_, "to": to}
        template = PROPERTY + "/drift/repair"
        return await self._call(m.DriftRead, "POST", template, path, params=params)

    async def list_channels(self, property_id: str) -> list[m.ChannelRead]:
        """The property's OTA channels and their state, as Channex reports them now."""
        path = {"property_id": property_id}
        return await self._call(list[m.ChannelRead], "GET", PROPERTY + "/channels", path)
