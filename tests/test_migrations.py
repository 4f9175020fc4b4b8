"""Migrations reach head on an empty database of each engine, and match the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import Base
from app.jobs.spec import ALL_QUEUES
from app.main import create_app
from app.migrate import SchemaNotMigratedError, alembic_config, head_revisions, upgrade
from app.settings import Settings
from app.worker_process import run_workers
from tests.workers import production_redis


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_to_head_creates_every_table_and_matches_models(migrated_url: str) -> None:
    engine = create_async_engine(migrated_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        diff = await conn.run_sync(_diff)
    await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert diff == []


async def test_upgrade_is_idempotent(migrated_url: str) -> None:
    await asyncio.to_thread(upgrade, migrated_url)  # already at head: nothing to do, no error
    assert head_revisions(migrated_url)


async def test_service_and_workers_refuse_an_unmigrated_postgres(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite is migrated in place by design (next test)")
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DELETE FROM alembic_version")
        await conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0000-older')")
    app = create_app(settings)
    try:
        with pytest.raises(SchemaNotMigratedError, match="channel-sync migrate"):
            async with app.router.lifespan_context(app):
                pass
        worker_settings = settings.model_copy(
            update={"redis_url": production_redis(settings.database_url)}
        )
        # A hang guard: workers that started anyway would run until stopped.
        with pytest.raises(SchemaNotMigratedError, match="channel-sync migrate"):
            async with asyncio.timeout(30):
                await run_workers(worker_settings, ALL_QUEUES)
    finally:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DELETE FROM alembic_version")
            for head in head_revisions(settings.database_url):
                await conn.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{head}')")
        await engine.dispose()


async def test_serve_migrates_a_new_sqlite_file_by_itself(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    app = create_app(Settings(_env_file=None, database_url=url))
    async with app.router.lifespan_context(app):
        pass
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert "organization" in tables


def test_alembic_is_configured_without_an_ini_file() -> None:
    # An installed wheel has no alembic.ini; the scripts come from the package (or checkout).
    config = alembic_config("sqlite+aiosqlite:///unused.db")
    assert config.config_file_name is None
    assert (Path(config.get_main_option("script_location") or "") / "env.py").is_file()
