"""Per-database counts at the end of a run, so CI shows the suite ran on both engines."""

from __future__ import annotations

from collections import Counter

import pytest

_counts: dict[str, Counter[str]] = {"sqlite": Counter(), "postgresql": Counter()}


def record(report: pytest.TestReport) -> None:
    params = report.nodeid.partition("[")[2].rstrip("]")
    backend = next((b for b in _counts if b in params.split("-")), None)
    if backend is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _counts[backend][report.outcome] += 1


def lines() -> list[str]:
    return [
        f"{backend}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped"
        for backend, c in _counts.items()
    ]
