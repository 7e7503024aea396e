"""[log] format: plain lines, or one JSON object a line with the ids lifted into fields (the
intake's lines are checked for personal data in tests/bot/channels/*/test_log_privacy.py)."""

import json
import logging
import sys

from bot.config import Settings
from bot.logs import JsonFormatter, formatter


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise RuntimeError("the database went away")
        except RuntimeError:
            info = sys.exc_info()
    return logging.LogRecord("handlers.engine.dispatcher", logging.ERROR, __file__, 1, message,
                             args, info)  # fmt: skip


def test_a_json_line_has_the_base_fields_and_the_message_s_ids() -> None:
    line = json.loads(JsonFormatter().format(
        record("turn failed channel=%s resident=%s message=%s", "telegram", 12, "m-3f2a", exc=True)
    ))  # fmt: skip
    assert line["level"] == "ERROR" and line["logger"] == "handlers.engine.dispatcher"
    assert line["time"].endswith("+00:00")
    assert line["message"] == "turn failed channel=telegram resident=12 message=m-3f2a"
    assert (line["channel"], line["resident"], line["message_id"]) == ("telegram", "12", "m-3f2a")
    assert "RuntimeError" in line["exception"]
    assert "\n" not in JsonFormatter().format(record("two\nlines"))


def test_the_format_is_chosen_by_the_setting() -> None:
    assert isinstance(formatter(Settings(log={"format": "json"}).log.format), JsonFormatter)
    assert not isinstance(formatter(Settings().log.format), JsonFormatter)
