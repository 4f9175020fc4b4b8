"""`serve --sandbox`: its own database, emptied at start; real API keys never printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from app.sandbox.app import create_sandbox_app
from app.sandbox_mode import (
    SANDBOX_DATABASE_FILE,
    SANDBOX_DATABASE_URL,
    SANDBOX_PMS_KEY,
    reset_sandbox_database,
    sandbox_banner,
    sandbox_settings,
)
from app.settings import ApiKey, Settings


def test_the_default_database_is_swapped_for_the_sandbox_s_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(SANDBOX_DATABASE_FILE).write_text("ids of a sandbox that is gone")
    Path("channel-sync.db").write_text("the embedded default's data")

    settings = sandbox_settings(Settings(_env_file=None), create_sandbox_app(), port=8000)
    reset_sandbox_database(settings)

    assert settings.database_url == SANDBOX_DATABASE_URL
    assert not Path(SANDBOX_DATABASE_FILE).exists()
    assert Path("channel-sync.db").read_text() == "the embedded default's data"


def test_a_database_the_user_named_is_kept_and_never_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    named = f"sqlite+aiosqlite:///{tmp_path}/mine.db"
    Path(SANDBOX_DATABASE_FILE).write_text("untouched")

    settings = sandbox_settings(
        Settings(_env_file=None, database_url=named), create_sandbox_app(), port=8000
    )
    reset_sandbox_database(settings)

    assert settings.database_url == named
    assert Path(SANDBOX_DATABASE_FILE).read_text() == "untouched"


def test_the_banner_shows_the_walk_through_key_but_only_names_real_ones() -> None:
    real = ApiKey(name="pms", key=SecretStr("a-real-secret-key"))
    own = sandbox_settings(Settings(_env_file=None), create_sandbox_app(), port=8000)
    theirs = sandbox_settings(
        Settings(_env_file=None, api_keys=[real]), create_sandbox_app(), port=8000
    )

    assert SANDBOX_PMS_KEY in sandbox_banner(own, 8000)
    banner = sandbox_banner(theirs, 8000)
    assert "a-real-secret-key" not in banner
    assert "API key(s): pms" in banner


def test_the_service_knows_the_user_its_sandbox_key_acts_as() -> None:
    """Its own pushes echo back as `ari` webhooks with this user: never a foreign change."""
    sandbox = create_sandbox_app()
    settings = sandbox_settings(Settings(_env_file=None), sandbox, port=8000)
    assert settings.channex_user_id == sandbox.state.sandbox.user_id
    named = Settings(_env_file=None, channex_user_id="mine")
    assert sandbox_settings(named, sandbox, port=8000).channex_user_id == "mine"
