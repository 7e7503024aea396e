"""How times are written to and read from the database: ISO-8601 in UTC, which sorts in order."""

from datetime import UTC, datetime


def to_db(moment: datetime) -> str:
    """Aware datetime -> UTC text. A naive datetime is a bug, so it is refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time Minga stores must carry a time zone")
    # isoformat and fromisoformat are C code; strftime/strptime cost more than a query.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text)


def from_db_optional(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)


def to_db_optional(moment: datetime | None) -> str | None:
    return None if moment is None else to_db(moment)
