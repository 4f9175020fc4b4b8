"""The deployment at a glance, for `channel-sync status`: each organization's properties and
ARI cells, and the things that wait for an operator (they do not fix themselves)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Organization, Property
from app.models.ari import AriCell
from app.models.onboarding import SyncStatus
from app.services.access import Principal
from app.services.booking_problems import list_problems

OPERATOR = Principal(name="status")


@dataclass
class OrganizationStatus:
    organization_id: str
    title: str
    properties: int = 0
    synced: int = 0  # in Channex as last sent
    not_synced: int = 0  # pending, failed (the sweep retries) or gone from Channex
    disconnected: int = 0
    cells_pending: int = 0  # ARI not sent yet
    cells_failed: int = 0  # ARI Channex refused: waits for the PMS's next value


@dataclass
class Status:
    organizations: list[OrganizationStatus]
    # What waits for an operator, by kind: how many.
    waiting: dict[str, int] = field(default_factory=dict)

    @property
    def needs_operator(self) -> bool:
        return any(self.waiting.values())


async def read_status(session: AsyncSession) -> Status:
    """Every organization's figures in three grouped queries, plus the booking problems."""
    rows = {
        org_id: OrganizationStatus(pms_id, title)
        for org_id, pms_id, title in await session.execute(
            select(Organization.id, Organization.pms_organization_id, Organization.title)
            .order_by(Organization.pms_organization_id)
        )
    }  # fmt: skip
    properties = await session.execute(
        select(
            Property.organization_id,
            Property.sync_status,
            Property.disconnected_at.is_not(None),
            func.count(),
        ).group_by(
            Property.organization_id, Property.sync_status, Property.disconnected_at.is_not(None)
        )
    )
    for org_id, sync_status, disconnected, count in properties:
        row = rows[org_id]
        row.properties += count
        if disconnected:
            row.disconnected += count
        elif sync_status == SyncStatus.SYNCED:
            row.synced += count
        else:
            row.not_synced += count
    cells = await session.execute(
        select(Property.organization_id, AriCell.failure.is_(None), func.count())
        .join(Property, Property.id == AriCell.property_id)
        .where(AriCell.dirty.is_(True) | AriCell.failure.is_not(None))
        .group_by(Property.organization_id, AriCell.failure.is_(None))
    )
    for org_id, waiting_to_send, count in cells:
        if waiting_to_send:
            rows[org_id].cells_pending += count
        else:
            rows[org_id].cells_failed += count
    organizations = list(rows.values())
    return Status(organizations, await _waiting(session, organizations))


async def _waiting(
    session: AsyncSession, organizations: list[OrganizationStatus]
) -> dict[str, int]:
    problems = await list_problems(session, OPERATOR)
    return {
        "flagged revisions": len(problems.flagged_revisions),
        "quarantined revisions": len(problems.quarantined_revisions),
        "webhook alarms and failures": len(problems.events),
        "deliveries that gave up": len(problems.failed_deliveries),
        "failing PMS endpoints": len(problems.failing_endpoints),
        "properties not in sync with Channex": sum(o.not_synced for o in organizations),
        "ARI cells Channex refused": sum(o.cells_failed for o in organizations),
    }


def render_status(status: Status) -> str:
    """A plain-text table, then what waits for an operator."""
    header = ("organization", "properties", "synced", "not synced", "disconnected",
              "ARI pending", "ARI failed")  # fmt: skip
    body = [
        (o.organization_id, o.properties, o.synced, o.not_synced, o.disconnected,
         o.cells_pending, o.cells_failed)
        for o in status.organizations
    ]  # fmt: skip
    lines = _table(header, body) if body else ["no organizations yet"]
    waiting = [f"  {count:>6}  {what}" for what, count in status.waiting.items() if count]
    lines.append("")
    lines += ["waits for an operator:", *waiting] if waiting else ["nothing waits for an operator"]
    return "\n".join(lines)


def _table(header: tuple[str, ...], body: Sequence[tuple[object, ...]]) -> list[str]:
    cells = [header, *[tuple(str(value) for value in row) for row in body]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        first = row[0].ljust(widths[0])
        rest = (value.rjust(width) for value, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    return [line(cells[0]), line(tuple("-" * w for w in widths)), *map(line, cells[1:])]
