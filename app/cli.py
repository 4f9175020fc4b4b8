"""The `channel-sync` command: serve, worker, migrate, openapi, sandbox."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from app.settings import get_settings

app = typer.Typer(help="channel-sync: PMS <-> Channex.io sync service", no_args_is_help=True)


def _configure_logging() -> None:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("app.channex").setLevel(settings.channex_log_level.upper())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Run the API (SQLite and in-process jobs unless DATABASE_URL / REDIS_URL say otherwise)."""
    import uvicorn

    from app.main import create_app

    _configure_logging()
    uvicorn.run(create_app(get_settings()), host=host, port=port, log_config=None)


@app.command()
def worker(
    queue: Annotated[
        list[str] | None, typer.Option(help="Queue(s) to serve; all when omitted")
    ] = None,
) -> None:
    """Run arq workers (needs REDIS_URL)."""
    from app.jobs.registry import ALL_QUEUES
    from app.jobs.worker import run_workers

    settings = get_settings()
    if not settings.redis_url:
        typer.echo("REDIS_URL is not set: jobs run inside `channel-sync serve`.", err=True)
        raise typer.Exit(2)
    _configure_logging()
    asyncio.run(run_workers(settings, queue or list(ALL_QUEUES)))


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "heads",
) -> None:
    """Apply database migrations (a release step on PostgreSQL)."""
    from app.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database migrated to {revision}")


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document")] = Path(
        "openapi.json"
    ),
) -> None:
    """Write the OpenAPI document generated from the app."""
    from app.openapi import render_openapi

    output.write_text(render_openapi())
    typer.echo(f"wrote {output}")


if __name__ == "__main__":  # pragma: no cover
    app()
