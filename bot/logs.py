"""The log's formats: plain lines (the default) or one JSON object a line (`[log] format =
"json"`) for a log collector. Either way a line carries what the code logged, which is ids and
counts, never a resident's name, phone or words (tests/bot/test_logs.py drives an intake)."""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The ids Minga's lines carry as key=value ("turn channel=telegram resident=12 message=…"),
# lifted into fields of their own so that a collector can filter on them.
_FIELD = re.compile(r"(?<![\w.])([a-z_]+)=([^\s,;()]+)")
# Fields every line has; an id of the same name in the message is kept as NAME_id
# ("message=…", a platform's message id, becomes message_id).
_BASE = ("time", "level", "logger", "message")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the message's
    key=value ids as fields, and the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, value in _FIELD.findall(message):
            line.setdefault(f"{key}_id" if key in _BASE else key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(kind: str) -> logging.Formatter:
    """The formatter [log] format names ("plain" or "json")."""
    return JsonFormatter() if kind == "json" else logging.Formatter(PLAIN)


def setup(level: int, kind: str) -> None:
    """The root logger's one handler (standard error), in the configured format."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(kind))
    logging.basicConfig(level=level, handlers=[handler])
    # httpx logs every request URL at INFO, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiosqlite's debug lines carry SQL parameters, that is, what residents wrote.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
