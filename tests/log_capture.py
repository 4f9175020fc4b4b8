"""The service's own log set-up at DEBUG, writing into a buffer for one test: for the tests that
read every line a run writes (no secret, no one-time token). A module assigns the fixture to
use it: `debug_logs = log_capture.debug_logs`."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from app.logs import PARAMETER_LOGGERS, QUIET_LOGGERS, configure_logging


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    """The service's own log set-up at DEBUG (the Channex client's too), into a buffer; the
    test run's afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in (*PARAMETER_LOGGERS, *QUIET_LOGGERS)}
    configure_logging("DEBUG", "DEBUG")
    stream = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, was in quiet.items():
            logging.getLogger(name).setLevel(was)
