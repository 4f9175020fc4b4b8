"""Log set-up: one line per event with its ids as fields (text or JSON), never secrets.

Code logs ids through `extra={...}`; the standard formatter drops those, so this one keeps
them: `key=value` pairs after the message, or fields of a JSON object with LOG_FORMAT=json.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request being served (app/api/access_log.py), None outside a request.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds the current request's id (if any) to every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None and not hasattr(record, "request_id"):
            record.request_id = current
        return True


# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# uvicorn's own duplicate of the message with terminal colours: noise in a log line.
_IGNORED = _STANDARD | {"color_message"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _IGNORED}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        return f"{line} {fields}" if fields else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# Libraries that log statement parameters (a PMS signing secret among them) at DEBUG: they
# stay at WARNING whatever LOG_LEVEL says, so no secret reaches the logs at any level.
PARAMETER_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy")
# httpx logs every request at INFO; a Channex call is logged once, by app.channex.transport.
QUIET_LOGGERS = ("httpx", "httpcore")


def configure_logging(level: str, channex_level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # Every line of a request carries its id (app/api/access_log.py).
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("app.channex").setLevel(channex_level.upper())
    for name in (*PARAMETER_LOGGERS, *QUIET_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)
