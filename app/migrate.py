"""Schema migrations at start-up: automatic for the embedded SQLite default, a release step
(`channel-sync migrate`) for PostgreSQL, where an unmigrated database stops the start."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings

PACKAGE = Path(__file__).resolve().parent


class SchemaNotMigratedError(RuntimeError):
    pass


def script_location() -> Path:
    """The migration scripts: inside the package when installed from the wheel (which carries
    them there), else at the top of the checkout (editable installs, the alembic CLI)."""
    packaged = PACKAGE / "migrations"
    if (packaged / "env.py").is_file():
        return packaged
    return PACKAGE.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic configured in code: an installed service has no alembic.ini to read."""
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Run Alembic's upgrade (its env.py runs its own event loop, hence sync)."""
    command.upgrade(alembic_config(database_url), revision)


def head_revisions(database_url: str) -> set[str]:
    """Every head of the migration tree (areas may add independent branches)."""
    return set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    def read(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def ensure_schema(engine: AsyncEngine, settings: Settings) -> None:
    """Migrate SQLite in place; refuse to serve a PostgreSQL database that is behind."""
    url = settings.database_url
    if settings.is_sqlite:
        await asyncio.to_thread(upgrade, url)
        return
    current, heads = await current_revisions(engine), head_revisions(url)
    if current != heads:
        raise SchemaNotMigratedError(
            f"database is at migration {sorted(current) or 'none'}, the code needs "
            f"{sorted(heads)}: run `channel-sync migrate` first"
        )
