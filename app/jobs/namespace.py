"""Names of everything channel-sync keeps in Redis, under one namespace per deployment.

Queues, job ids, rate-limiter keys and worker health keys all start with REDIS_NAMESPACE, so
deployments can share a Redis server: a worker reads only its own namespace's queues, and a
job id of one deployment can never collide with (and so deduplicate away) another's.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from app.settings import Settings


@dataclass(frozen=True)
class RedisNames:
    """The keys of one namespace; `Settings.redis_namespace` refuses a ':' inside it, so no
    namespace is a prefix of another's keys."""

    namespace: str

    @classmethod
    def of(cls, settings: Settings) -> RedisNames:
        return cls(settings.redis_namespace)

    def queue(self, queue: str) -> str:
        """The arq queue (a sorted set) of one of the service's queues."""
        return f"{self.namespace}:{queue}"

    def job(self, job_id: str) -> str:
        """A job id as arq stores it (`arq:job:<this>`, `arq:in-progress:<this>`, ...)."""
        return f"{self.namespace}:{job_id}"

    def cron(self, job_name: str) -> str:
        """A cron job's name: arq derives its job ids from it (`<name>:<run time>`)."""
        return f"{self.namespace}:{job_name}"

    @property
    def limiter_prefix(self) -> str:
        return f"{self.namespace}:rl:"

    def health(self, queue: str, host: str | None = None) -> str:
        """The health key of this host's workers of `queue`: per host, so that a container's
        check fails when its own workers stop, whatever the other hosts do."""
        return f"{self.queue(queue)}:health-check:{host or socket.gethostname()}"
