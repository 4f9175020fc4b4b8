"""`channel-sync status`: the overview in the terminal, exiting 1 when something waits for an
operator."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app import cli
from app.db import create_engine, create_session_factory
from app.models import QuarantinedRevision
from app.resources import Resources
from app.services.status import read_status
from app.settings import get_settings
from tests.factories import onboard


async def _quarantine_one(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session:
        session.add(QuarantinedRevision(channex_revision_id="rev-1", reason="unmapped"))
        await session.commit()


async def test_status_counts_each_organization_and_what_waits(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await onboard(client)
    resources: Resources = app.state.resources
    async with resources.session_factory() as session:
        status = await read_status(session)
    [org] = status.organizations
    assert (org.organization_id, org.properties, org.synced, org.not_synced) == ("org-1", 1, 1, 0)
    assert not status.needs_operator
    await _quarantine_one(resources.session_factory)
    async with resources.session_factory() as session:
        status = await read_status(session)
    assert status.waiting["quarantined revisions"] == 1
    assert status.needs_operator


@pytest.fixture
def database(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    path = tmp_path / "status.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_the_command_exits_1_while_something_waits_for_an_operator(database: str) -> None:
    idle = CliRunner().invoke(cli.app, ["status"])
    assert idle.exit_code == 0, idle.output
    assert "nothing waits for an operator" in idle.output

    async def seed() -> None:
        engine = create_engine(database)
        await _quarantine_one(create_session_factory(engine))
        await engine.dispose()

    asyncio.run(seed())
    waiting = CliRunner().invoke(cli.app, ["status"])
    assert waiting.exit_code == 1, waiting.output
    assert "1  quarantined revisions" in waiting.output
