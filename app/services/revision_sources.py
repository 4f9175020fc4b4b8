"""Where revisions come from (a webhook's id, the feed) and where poison ones go (quarantine)."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channex.client import ChannexClient
from app.channex.errors import ChannexError
from app.channex.schemas import BookingRevision as ChannexRevision
from app.channex.schemas import MalformedItem
from app.db import utcnow
from app.errors import AppError, not_found
from app.models import BookingRevision, QuarantinedRevision
from app.services.personal_data import build_cipher, decrypt, encrypt
from app.services.revisions import Outcome, apply_revision
from app.services.rows import insert_ignore
from app.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


Fetched = list[ChannexRevision] | ChannexError


async def fetch_for_webhooks(
    channex: ChannexClient, revision_ids: Sequence[str], *, concurrency: int
) -> list[Fetched]:
    """For each webhook's revision id, the revision last, after the older unacknowledged
    revisions of its booking in Channex's feed, stored or not (`drop_stored` tells); or the
    Channex error that stopped it. `concurrency` requests at a time, and the feed is read
    once per property for all of the batch's revisions that are not `new` (it holds every
    unacked one), rather than once each. Never GET /bookings (§7.3)."""
    gate = asyncio.Semaphore(concurrency)

    async def limited(call: Awaitable[T]) -> T | ChannexError:
        async with gate:
            try:
                return await call
            except ChannexError as exc:
                return exc

    # The limiter's slots for all of them in one round trip, not one each.
    prepaid = await channex.prepay(len(revision_ids))
    got = await asyncio.gather(
        *(limited(channex.get_booking_revision(r, prepaid=prepaid)) for r in revision_ids)
    )
    props = sorted(
        {g.property_id for g in got if isinstance(g, ChannexRevision) and _needs_feed(g)}
    )
    feeds = await asyncio.gather(
        *(limited(channex.list_booking_revision_feed(property_id=p)) for p in props)
    )
    by_property = dict(zip(props, feeds, strict=True))
    fetched: list[Fetched] = []
    for rev in got:
        if isinstance(rev, ChannexError) or not _needs_feed(rev):
            fetched.append(rev if isinstance(rev, ChannexError) else [rev])
            continue
        feed = by_property[rev.property_id]
        fetched.append(feed if isinstance(feed, ChannexError) else [*older_in_feed(feed, rev), rev])
    return fetched


def _needs_feed(rev: ChannexRevision | ChannexError) -> bool:
    return isinstance(rev, ChannexRevision) and rev.status != "new"


def older_in_feed(feed: Sequence[ChannexRevision], rev: ChannexRevision) -> list[ChannexRevision]:
    """The feed's revisions of the same booking older than `rev`: webhooks arrive out of
    order (§8.4), the PMS must not."""
    return [
        r
        for r in feed
        if r.booking_id == rev.booking_id
        and r.id != rev.id
        and r.inserted_instant() < rev.inserted_instant()
    ]


async def drop_stored(
    session: AsyncSession, revisions: Sequence[ChannexRevision]
) -> list[ChannexRevision]:
    """Those of `revisions` not stored yet, in one query."""
    known = await stored_ids(session, [r.id for r in revisions])
    return [r for r in revisions if r.id not in known]


async def stored_ids(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    """Those of these Channex revision ids we have stored."""
    if not ids:
        return set()
    stmt = select(BookingRevision.channex_revision_id).where(
        BookingRevision.channex_revision_id.in_(ids)
    )
    return set((await session.execute(stmt)).scalars())


def failure_reason(exc: BaseException) -> str:
    """Why a revision could not be applied, for the quarantine row and the log: the error's
    type and where it was raised, never its message (it may quote guest data from the
    revision, as pydantic's errors quote their input)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}"
    return type(exc).__name__ + (where if frames else "")


async def quarantine(
    session: AsyncSession,
    settings: Settings,
    revision_id: str,
    reason: str,
    rev: ChannexRevision | None,
) -> None:
    """Keep a revision that cannot be applied, with why; it is then acked (never retried
    forever) and can be re-applied by API once the cause is fixed."""
    payload = None
    if rev is not None:
        payload = encrypt(build_cipher(settings), {"id": rev.id, "attributes": rev.raw})
    await insert_ignore(
        session,
        QuarantinedRevision,
        {
            "channex_revision_id": revision_id,
            "channex_booking_id": rev.booking_id if rev else None,
            "channex_property_id": rev.property_id if rev else None,
            "reason": reason[:2000],
            "payload": payload,
            "quarantined_at": utcnow(),
        },
    )
    log.error("booking revision quarantined", extra={"revision": revision_id})


async def quarantine_malformed(
    session: AsyncSession, settings: Settings, malformed: MalformedItem
) -> None:
    """Keep a feed entry that does not parse, as Channex sent it (encrypted: it holds guest
    data), with why; re-applying it later reads it from Channex again. One already stored
    (applied before, its ack lost) needs nothing but the ack."""
    if await stored_ids(session, [malformed.id]):
        return
    attributes = malformed.item.get("attributes")
    attrs = attributes if isinstance(attributes, dict) else {}
    booking_id, property_id = attrs.get("booking_id"), attrs.get("property_id")
    await insert_ignore(
        session,
        QuarantinedRevision,
        {
            "channex_revision_id": malformed.id,
            "channex_booking_id": booking_id if isinstance(booking_id, str) else None,
            "channex_property_id": property_id if isinstance(property_id, str) else None,
            "reason": malformed.reason[:2000],
            "payload": encrypt(build_cipher(settings), malformed.item),
            "quarantined_at": utcnow(),
        },
    )
    log.error("malformed booking revision quarantined", extra={"revision": malformed.id})


async def reapply_quarantined(
    session: AsyncSession, channex: ChannexClient | None, settings: Settings, revision_id: str
) -> Outcome:
    """Apply a quarantined revision again (from its stored copy, else from Channex)."""
    stmt = select(QuarantinedRevision).where(QuarantinedRevision.channex_revision_id == revision_id)
    held = (await session.execute(stmt)).scalar_one_or_none()
    if held is None:
        raise not_found("quarantined revision", revision_id)
    rev = _stored_copy(decrypt(build_cipher(settings), held.payload))
    if rev is None:  # none kept, or Channex's malformed copy: read it from Channex again
        if channex is None:
            raise AppError(503, "channex_unavailable", "Channex is not configured")
        rev = await channex.get_booking_revision(revision_id)
    try:
        outcome = await apply_revision(session, settings, rev)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise AppError(
            422, "revision_still_failing", "The revision still cannot be applied", repr(exc)
        ) from None
    held.resolved_at = utcnow()
    held.payload = None  # guest data now lives (encrypted) on the revision itself
    await session.flush()
    return outcome


def _stored_copy(stored: dict[str, Any] | None) -> ChannexRevision | None:
    if stored is None:
        return None
    try:
        return ChannexRevision.from_item(stored)
    except pydantic.ValidationError:
        return None


def revision_from_json(raw: str) -> ChannexRevision:
    """A revision from its JSON:API item (tests and tools)."""
    return ChannexRevision.from_item(json.loads(raw))
