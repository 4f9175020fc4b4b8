"""No Docker engine runs here, so the compose file and Dockerfile are checked by reading them:
their commands must be real CLI commands and their variables real settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet
from typer.main import get_command

from app.cli import app as cli
from app.services.personal_data import with_personal_data_keys
from app.services.secret_policy import require_strong_secrets
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def cli_commands() -> set[str]:
    command = get_command(cli)
    return set(command.commands)  # type: ignore[attr-defined]


def test_compose_commands_are_cli_commands() -> None:
    services = compose()["services"]
    for name in ("migrate", "api", "worker"):
        assert services[name]["command"][0] in cli_commands(), name


def test_compose_variables_are_settings() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in ("migrate", "api", "worker"):
        env = compose()["services"][name]["environment"]
        unknown = set(env) - fields
        assert not unknown, f"{name} sets variables no setting reads: {unknown}"


def test_api_starts_after_migrations_and_services_have_health_checks() -> None:
    services = compose()["services"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert (
        services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    )
    for name in ("postgres", "redis", "api", "worker"):
        assert "healthcheck" in services[name], name


def cli_options(command: str) -> set[str]:
    click_command = get_command(cli).commands[command]  # type: ignore[attr-defined]
    return {opt for param in click_command.params for opt in param.opts}


def runtime_stage() -> str:
    """The Dockerfile's last stage: what the image is made of."""
    return (ROOT / "Dockerfile").read_text().rsplit("\nFROM ", 1)[1]


def test_each_service_has_its_own_health_check_and_none_is_inherited() -> None:
    services = compose()["services"]
    # An image-wide HTTP check would mark every worker unhealthy: the image has none.
    assert re.search(r"^HEALTHCHECK NONE$", runtime_stage(), re.MULTILINE)
    assert "/health/ready" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "channel-sync", "worker", "--check"]
    assert "--check" in cli_options("worker")
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_api_and_worker_come_back_after_a_crash_or_a_reboot() -> None:
    services = compose()["services"]
    for name in ("api", "worker"):
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"  # a release step, run once


def test_the_image_keeps_the_sqlite_default_in_a_volume_its_user_owns() -> None:
    stage = runtime_stage()
    user = re.search(r"^USER (\S+)$", stage, re.MULTILINE)
    assert user is not None
    assert re.search(rf"chown {user.group(1)}:{user.group(1)} /data\b", stage)
    assert re.search(r"^WORKDIR /data$", stage, re.MULTILINE)
    assert re.search(r"^VOLUME /data$", stage, re.MULTILINE)
    # Relative, so it resolves inside the working directory, the volume.
    assert Settings.model_fields["database_url"].default == "sqlite+aiosqlite:///./channel-sync.db"
    # The migrations come inside the installed package, not beside it.
    assert "alembic.ini" not in stage
    assert "migrations" not in stage


def test_dockerfile_runs_the_cli_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT ["channel-sync"]' in dockerfile
    cmd = re.search(r'^CMD \["(\w+)"', dockerfile, re.MULTILINE)
    assert cmd is not None
    assert cmd.group(1) in cli_commands()


# What an operator would export before `docker compose up` (the variables the file requires).
OPERATOR_ENV = {
    "CHANNEX_API_KEY": "channex-key",
    "CHANNEX_WEBHOOK_SECRET": "webhook-secret-" + "s3cr3t" * 5,
    "CHANNEX_USER_ID": "4f1d7e1c-0000-4000-8000-000000000001",
    "API_KEYS": '[{"name": "pms", "key": "pms-key-0123456789abcdefghijklmnopqrstuvwxyz"}]',
    "PUBLIC_BASE_URL": "https://channel-sync.example.com",
    "PERSONAL_DATA_KEYS": f'["{Fernet.generate_key().decode()}"]',
}


def interpolate(value: str) -> str:
    """Compose's `${VAR:?message}` and `${VAR:-default}`, from OPERATOR_ENV."""

    def one(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if name in OPERATOR_ENV:
            return OPERATOR_ENV[name]
        assert operator == ":-", f"compose requires {name}, which OPERATOR_ENV lacks"
        return rest

    return re.sub(r"\$\{(\w+)(:\?|:-)([^}]*)\}", one, value)


@pytest.mark.parametrize("service", ["api", "worker"])
def test_the_stack_s_settings_pass_the_production_start_up_checks(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in compose()["services"][service]["environment"].items():
        monkeypatch.setenv(name, interpolate(str(value)))

    settings = Settings(_env_file=None)

    assert settings.environment == "production"
    # The service refuses to start without personal data keys, and runs with the given ones.
    assert with_personal_data_keys(settings) is settings
    require_strong_secrets(settings)  # or with keys short enough to guess
    # Without these no Channex webhook is registered, so bookings would come by the feed only.
    assert settings.public_base_url == OPERATOR_ENV["PUBLIC_BASE_URL"]
    assert settings.channex_webhook_secret is not None
    # Without it every `ari` webhook of our own pushes would be checked for drift.
    assert settings.channex_user_id == OPERATOR_ENV["CHANNEX_USER_ID"]
    assert settings.redis_url is not None
    assert settings.redis_namespace == "channel-sync"
