"""The one way an onboarded row reaches its Channex twin: update it if we know its id,
else adopt an unmapped twin with our title, else create it. Never a second entity."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.channex.errors import ChannexNotFoundError
from app.errors import FieldError, invalid
from app.services.rows import Titled, find_twin, mapped_channex_ids

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Remote:
    """How to reach one kind of Channex entity."""

    kind: str  # "group", "property"...: for messages
    column: InstrumentedAttribute[str | None]  # where our rows keep its Channex id
    update: Callable[[str], Awaitable[object]]
    create: Callable[[], Awaitable[str]]
    candidates: Callable[[], Awaitable[Iterable[Titled]]]  # its scope, to look for a twin


async def reach_remote(
    session: AsyncSession, remote: Remote, channex_id: str | None, title: str, *, adopting: bool
) -> str:
    """The Channex id that now holds what the row says."""
    if channex_id is not None:
        try:
            await remote.update(channex_id)
            return channex_id
        except ChannexNotFoundError:
            if adopting:
                field = f"body.channex_{remote.kind}_id"
                raise invalid(
                    f"Channex has no such {remote.kind}",
                    [FieldError(field, f"no Channex {remote.kind} with this id")],
                ) from None
            log.warning("channex %s gone, recreating", remote.kind, extra={"id": channex_id})
    taken = await mapped_channex_ids(session, remote.column)
    return find_twin(await remote.candidates(), title, taken) or await remote.create()
