"""Who is calling, and which organizations they may see."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from app.errors import not_found
from app.settings import Settings


@dataclass(frozen=True)
class Principal:
    """An authenticated API key: global, or scoped to one PMS organization."""

    name: str
    organization_id: str | None = None

    def can_see(self, pms_organization_id: str) -> bool:
        return self.organization_id is None or self.organization_id == pms_organization_id


def find_principal(settings: Settings, presented: str) -> Principal | None:
    """The key presented, if it is one of ours. Every key is compared in constant time, so
    timing tells nothing."""
    found: Principal | None = None
    for key in settings.api_keys:
        if hmac.compare_digest(key.key.get_secret_value().encode(), presented.encode()):
            found = Principal(name=key.name, organization_id=key.organization_id)
    return found


def check_organization(principal: Principal, pms_organization_id: str) -> None:
    """Raise 404 (never 403) so a scoped key cannot even learn that another org exists."""
    if not principal.can_see(pms_organization_id):
        raise not_found("organization", pms_organization_id)
