"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable), the app and
an authenticated client. Area fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db import Base
from app.main import create_app
from app.migrate import upgrade
from app.settings import ApiKey, Settings
from tests import summary
from tests.fake_channex import API_KEY as CHANNEX_KEY
from tests.fake_channex import BASE_URL as CHANNEX_URL
from tests.fake_channex import FakeChannex, fake_channex
from tests.servers import (
    REDIS_URL,
    delete_namespace,
    reachable,
    require_server,
    scratch_database,
    scratch_namespace,
)

# The real Chromium of the browser tests (its fixtures are only started when a test asks).
pytest_plugins = ["tests.browser"]

GLOBAL_KEY = "global-test-key"
ORG1_KEY = "org-1-test-key"
# Our clocks, scaled down for tests: the limiter spaces a property's ARI requests 50 ms apart
# (6 s at Channex's 10 a minute) and a PMS batch is pushed 0.3 s after it arrived (2 s).
FAST_RATE_LIMIT_PER_MINUTE = 1200
FAST_DEBOUNCE_SECONDS = 0.3

# Every Settings of this run (and every worker it starts) keeps its Redis keys in a namespace
# of this run alone, so two runs on one host never run each other's jobs.
RUN_NAMESPACE = os.environ["REDIS_NAMESPACE"] = scratch_namespace("channel-sync-test")
# And its files (the development personal-data key) in a directory of its own, never in the
# checkout; a test that needs a fresh one sets `data_dir`.
RUN_DATA_DIR = os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="channel-sync-test-data-")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Four worker processes: most tests wait on sockets and timers, so twice the cores of
    a 2-core machine still pays. None for the slow tests: they start processes of their own
    and hold Channex's limit in real time, one test at a time."""
    selects_slow = "slow" in config.option.markexpr and "not slow" not in config.option.markexpr
    return 0 if selects_slow else 4


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end tests first (they take up to a minute each): started last, one of them
    would be the tail of a parallel run."""
    items.sort(key=lambda item: not item.nodeid.startswith("tests/e2e/"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    summary.record(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in summary.lines():
        terminalreporter.write_line(line)


@pytest.fixture
def redis_url() -> str:
    """URL of the real Redis server; skips (fails in CI) when it is not reachable."""
    require_server(REDIS_URL, "Redis")
    return REDIS_URL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run; each test gets its own copy."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session", autouse=True)
async def _remove_run_namespace() -> AsyncIterator[None]:
    """The run's Redis keys go with it."""
    yield
    if reachable(REDIS_URL):
        await delete_namespace(REDIS_URL, RUN_NAMESPACE)


@pytest.fixture(scope="session", autouse=True)
def _remove_run_data_dir() -> Iterator[None]:
    """The run's files go with it."""
    yield
    shutil.rmtree(RUN_DATA_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
async def postgres_migrated() -> AsyncIterator[str]:
    """A PostgreSQL database of this run alone, migrated once, dropped at the end."""
    async with scratch_database("channel_sync_test") as url:
        # Alembic's env.py runs its own event loop, so it gets a thread of its own.
        await asyncio.to_thread(upgrade, url)
        yield url


@pytest.fixture(scope="session")
async def postgres_cleaner(postgres_migrated: str) -> AsyncIterator[AsyncEngine]:
    """One connection of this run's PostgreSQL database, for emptying it between tests."""
    engine = create_async_engine(postgres_migrated, pool_size=1)
    yield engine
    await engine.dispose()


# Identity sequences start again at 1, as in a fresh database.
_RESTART_SEQUENCES = """
SELECT setval(c.oid::regclass, 1, false) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = 'public'
"""


async def _empty(engine: AsyncEngine) -> None:
    """Delete every row, children first: ten times faster than a TRUNCATE of the tables (which
    makes new files for each table and index), for the few rows a test leaves."""
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
        await conn.execute(text(_RESTART_SEQUENCES))


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated database of each engine: a fresh SQLite copy, or the PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated")
    return url


@pytest.fixture
def cleaner(request: pytest.FixtureRequest, migrated_url: str) -> AsyncEngine | None:
    """The PostgreSQL leg's connection for emptying the database; none for a SQLite copy."""
    if not migrated_url.startswith("postgresql"):
        return None
    engine: AsyncEngine = request.getfixturevalue("postgres_cleaner")
    return engine


@pytest.fixture
async def database_url(migrated_url: str, cleaner: AsyncEngine | None) -> str:
    """A migrated, empty database of each engine, fresh for every test."""
    if cleaner is not None:
        await _empty(cleaner)
    return migrated_url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=None,
        channex_api_url=CHANNEX_URL,
        channex_api_key=CHANNEX_KEY,
        channex_max_attempts=2,  # retries are the client's own tests' business; keep these fast
        channex_rate_limit_per_minute=FAST_RATE_LIMIT_PER_MINUTE,
        ari_push_debounce_seconds=FAST_DEBOUNCE_SECONDS,
        api_keys=[
            ApiKey(name="pms", key=GLOBAL_KEY),
            ApiKey(name="org-1", key=ORG1_KEY, organization_id="org-1"),
        ],
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def channex() -> Iterator[FakeChannex]:
    with fake_channex() as fake:
        yield fake


@pytest.fixture
async def client(app: FastAPI, channex: FakeChannex) -> AsyncIterator[httpx.AsyncClient]:
    """Authenticated with the global key; Channex is the respx fake."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {GLOBAL_KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c:
        yield c
