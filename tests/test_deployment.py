"""No Docker engine runs here, so the compose file and Dockerfile are checked by reading them:
their commands must be real CLI commands and their variables real settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.main import get_command

from app.cli import app as cli
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
    for name in ("postgres", "redis", "api"):
        assert "healthcheck" in services[name], name


def test_dockerfile_runs_the_cli_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT ["channel-sync"]' in dockerfile
    cmd = re.search(r'^CMD \["(\w+)"', dockerfile, re.MULTILINE)
    assert cmd is not None
    assert cmd.group(1) in cli_commands()
