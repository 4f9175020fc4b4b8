"""Log lines keep the ids passed as `extra`, in text and JSON."""

from __future__ import annotations

import json
import logging

from app.logs import JsonFormatter, TextFormatter


def record() -> logging.LogRecord:
    return logging.makeLogRecord(
        {
            "name": "app.x",
            "levelname": "INFO",
            "msg": "pushed %d",
            "args": (3,),
            "property_id": "p-1",
        }
    )


def test_text_lines_carry_the_extra_fields() -> None:
    line = TextFormatter("%(levelname)s %(message)s").format(record())
    assert line == "INFO pushed 3 property_id=p-1"


def test_uvicorn_s_coloured_copy_of_the_message_is_left_out() -> None:
    coloured = record()
    coloured.color_message = "\x1b[36mpushed\x1b[0m"
    assert "color_message" not in TextFormatter("%(message)s").format(coloured)


def test_json_lines_are_objects_with_the_extra_fields() -> None:
    entry = json.loads(JsonFormatter().format(record()))
    assert entry["message"] == "pushed 3"
    assert entry["property_id"] == "p-1"
    assert entry["level"] == "INFO"
