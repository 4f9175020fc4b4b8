"""Key rotation for what is stored encrypted: guest data, quarantined revisions and PMS
signing secrets are re-encrypted under the first of PERSONAL_DATA_KEYS.

Rotation: put the new key first (the old one stays, so everything still decrypts), run
`channel-sync rotate-keys`, then drop the old key.
Clear signing secrets left from before keys were configured are sealed on the way.
"""

from __future__ import annotations

import logging
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models import BookingRevision, PmsEndpoint, QuarantinedRevision
from app.services.personal_data import SEALED, build_cipher, seal_secret
from app.settings import Settings

log = logging.getLogger(__name__)


async def rotate_stored_keys(session: AsyncSession, settings: Settings) -> int:
    """Re-encrypt every stored token under the newest key; the number of rows changed.
    Flushes; the caller commits. Running it twice re-encrypts again, harmlessly."""
    cipher = build_cipher(settings)
    if cipher is None:
        return 0
    changed = await _rotate_column(session, cipher, BookingRevision.personal_data)
    changed += await _rotate_column(session, cipher, QuarantinedRevision.payload)
    return changed + await _rotate_secrets(session, cipher)


async def _rotate_column(
    session: AsyncSession, cipher: MultiFernet, column: InstrumentedAttribute[Any]
) -> int:
    model = column.class_
    rows = (await session.execute(select(model.id, column).where(column.is_not(None)))).all()
    for row_id, token in rows:
        try:
            rotated = cipher.rotate(token.encode()).decode()
        except InvalidToken:
            # Written under a key no longer configured: unreadable either way, left as is.
            log.error("stored token readable by no key", extra={"table": model.__tablename__})
            continue
        await session.execute(update(model).where(model.id == row_id).values({column.key: rotated}))
    await session.flush()
    return len(rows)


async def _rotate_secrets(session: AsyncSession, cipher: MultiFernet) -> int:
    endpoints = (await session.execute(select(PmsEndpoint))).scalars().all()
    for endpoint in endpoints:
        if endpoint.secret.startswith(SEALED):
            token = endpoint.secret.removeprefix(SEALED).encode()
            endpoint.secret = SEALED + cipher.rotate(token).decode()
        else:
            endpoint.secret = seal_secret(cipher, endpoint.secret)
    await session.flush()
    return len(endpoints)
