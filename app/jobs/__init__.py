"""Background jobs: the queue (arq on Redis, or in-process), the job registry and the sweep."""
