"""How times are written to and read from the database: ISO-8601 in UTC, which sorts in order."""

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db(moment: datetime) -> str:
    """Aware datetime -> UTC text. A naive datetime is a bug, so it is refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time Minga stores must carry a time zone")
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_db(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def from_db_optional(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)
