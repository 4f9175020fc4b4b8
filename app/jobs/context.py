"""The typed context every job receives as its first argument."""

from __future__ import annotations

from typing import NotRequired, TypedDict

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.channex.client import ChannexClient
from app.jobs.requests import JobQueue
from app.settings import Settings


class WorkerContext(TypedDict):
    """Process-wide resources opened at startup, plus the current job's id and try number."""

    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    channex: ChannexClient | None  # None: no Channex key, or sync switched off
    queue: JobQueue
    # The one client for deliveries to the PMS: a client per job would load the CA bundle each
    # time (tens of ms of CPU).
    pms_http: httpx.AsyncClient
    # Set per run by both queues (arq puts them in its ctx too); absent outside a job.
    job_id: NotRequired[str]
    job_try: NotRequired[int]
