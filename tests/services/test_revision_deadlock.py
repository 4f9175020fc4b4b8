"""A deadlock while applying a revision is the database's doing, not the data's: the job fails
and runs again, and the revision is never quarantined (and so never acked unstored)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy.exc import DBAPIError

from app.db import lock_given_up
from app.services import revision_intake


class _Session:
    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def rollback(self) -> None:
        return None


class _Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_deadlocked_revision_is_raised_not_quarantined(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quarantined: list[str] = []

    async def deadlocked(*args: Any, **kwargs: Any) -> None:
        raise DBAPIError("UPDATE ari_state ...", None, _Deadlock())

    async def quarantine(_sessions: Any, _settings: Any, revision_id: str, *rest: Any) -> None:
        quarantined.append(revision_id)

    monkeypatch.setattr(revision_intake, "apply_revision", deadlocked)
    monkeypatch.setattr(revision_intake, "_quarantine", quarantine)
    with pytest.raises(DBAPIError):
        await revision_intake.apply_and_ack(
            cast(Any, _Session),
            cast(Any, None),
            cast(Any, None),
            [cast(Any, SimpleNamespace(id="r"))],
        )
    assert quarantined == []
    assert lock_given_up(DBAPIError("x", None, _Deadlock()))
    assert not lock_given_up(DBAPIError("x", None, Exception()))
