"""Run the sandbox on its own with uvicorn (`channel-sync sandbox`)."""

from __future__ import annotations

import logging
import re

import uvicorn

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig

# uvicorn's access line holds the full path with its query: the channel iframe's URL carries
# a one-time token there (`/auth/exchange?oauth_session_key=…`), which no log may keep.
_TOKEN = re.compile(r"(oauth_session_key=)[^&\s\"]*")


class RedactTokens(logging.Filter):
    """Masks one-time tokens in a record's arguments (uvicorn passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def run(host: str = "127.0.0.1", port: int = 8081, config: SandboxConfig | None = None) -> None:
    """Serve a fresh sandbox until interrupted; its base URL is http://host:port/api/v1."""
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    uvicorn.run(create_sandbox_app(config), host=host, port=port)
