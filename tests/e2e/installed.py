"""channel-sync as an operator installs it: the wheel built from this checkout, installed
(not editable) in a fresh virtualenv, run from a directory that is not the checkout; and
the fresh PostgreSQL database and Redis namespace each deployment test gets."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import (
    REDIS_URL,
    delete_namespace,
    require_server,
    scratch_database,
    scratch_namespace,
)

ROOT = Path(__file__).resolve().parents[2]
BUILD_SECONDS = 300.0
INSTALL_SECONDS = 900.0  # every dependency, from the package index


@dataclass(frozen=True)
class Installed:
    """A virtualenv holding the installed wheel."""

    venv: Path

    @property
    def cli(self) -> Path:
        """The `channel-sync` entry point."""
        return self.venv / "bin" / "channel-sync"


def _run(
    argv: Sequence[str | Path], seconds: float, cwd: Path, env: dict[str, str] | None = None
) -> str:
    done = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds,
        check=False,
    )
    assert done.returncode == 0, f"{argv} exited with {done.returncode}:\n{done.stderr}"
    return done.stdout


def install_wheel(workdir: Path) -> Installed:
    """Build the wheel of this checkout and install it, with its dependencies, in a new venv."""
    wheels, venv = workdir / "wheels", workdir / "venv"
    pip_wheel: list[str | Path] = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        wheels,
        ROOT,
    ]
    _run(pip_wheel, BUILD_SECONDS, workdir)
    [wheel] = wheels.glob("channel_sync-*.whl")
    _run([sys.executable, "-m", "venv", venv], BUILD_SECONDS, workdir)
    _run([venv / "bin" / "pip", "install", "-q", wheel], INSTALL_SECONDS, workdir)
    # What the service processes import: the installed package, never the checkout.
    show: list[str | Path] = [venv / "bin" / "python", "-c", "import app; print(app.__file__)"]
    where = _run(show, 60, workdir, base_env(workdir)).strip()
    assert Path(where).is_relative_to(venv), where
    return Installed(venv)


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: nothing of the developer's shell (DATABASE_URL, PYTHONPATH...)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env.update({k: v for k, v in os.environ.items() if k in {"LANG", "LC_ALL", "TZ"}})
    env["PYTHONUNBUFFERED"] = "1"
    return env


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the test PostgreSQL server, dropped afterwards."""
    async with scratch_database("cs_e2e") as url:
        yield url


@asynccontextmanager
async def fresh_redis_namespace() -> AsyncIterator[tuple[str, str]]:
    """(REDIS_URL, a REDIS_NAMESPACE of its own); its keys are deleted afterwards."""
    require_server(REDIS_URL, "Redis")
    namespace = scratch_namespace("cs-e2e")
    try:
        yield REDIS_URL, namespace
    finally:
        await delete_namespace(REDIS_URL, namespace)
