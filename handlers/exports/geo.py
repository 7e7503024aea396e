"""GeoJSON (RFC 7946) and Open311 GeoReport v2 service requests, written as JSON a feature or
a request at a time."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from handlers.engine.settings import LabSettings
from handlers.exports.columns import CLOSED, columns, split_contact, split_name
from storage.models import IdeaRecord


def _iso(moment: Any) -> str:
    """Open311 wants W3C date-times with an offset: 2026-11-21T08:03:00+00:00."""
    return str(moment.isoformat(timespec="seconds"))


async def _write_array(
    path: Path, head: str, items: AsyncIterator[dict[str, Any]], tail: str
) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as file:
        file.write(head)
        async for item in items:
            file.write(",\n" if count else "\n")
            file.write(json.dumps(item, ensure_ascii=False))
            count += 1
        file.write(tail)
    return count


async def write_geojson(
    ideas: AsyncIterator[IdeaRecord], path: Path, lab: LabSettings, *, with_contact: bool
) -> int:
    """A FeatureCollection: a Point for an idea with a pin, no geometry for one without
    (RFC 7946 allows null), every column as a property."""
    chosen = columns(with_contact)

    async def features() -> AsyncIterator[dict[str, Any]]:
        async for idea in ideas:
            geometry = None
            if idea.has_pin:
                geometry = {"type": "Point", "coordinates": [idea.longitude, idea.latitude]}
            properties = {c.name: c.value(idea, lab) for c in chosen}
            yield {"type": "Feature", "id": idea.reference, "geometry": geometry,
                   "properties": properties}  # fmt: skip

    return await _write_array(path, '{"type": "FeatureCollection", "features": [', features(),
                              "\n]}\n")  # fmt: skip


def service_request(
    idea: IdeaRecord, lab: LabSettings, *, with_contact: bool, media_url: str | None
) -> dict[str, Any]:
    """One idea as a GeoReport v2 service request (the GET response's fields, and the POST's
    contact fields when asked for)."""
    category = lab.category(idea.category)
    description = idea.problem if not idea.idea else f"{idea.problem}\n\n{idea.idea}"
    request: dict[str, Any] = {
        "service_request_id": idea.reference,
        "status": "closed" if idea.status in CLOSED else "open",
        "status_notes": idea.status_reason or idea.status.value,
        "service_code": idea.category,
        "service_name": category.label(lab.default_language) if category else idea.category,
        "description": description,
        "agency_responsible": lab.organisation or lab.name,
        "requested_datetime": _iso(idea.created_at),
        "updated_datetime": _iso(idea.updated_at),
    }
    if idea.has_pin:
        request["lat"], request["long"] = idea.latitude, idea.longitude
    if idea.location_text:
        request["address_string"] = idea.location_text
    if media_url and idea.media:
        request["media_url"] = media_url.rstrip("/") + "/" + idea.media[0]
    if with_contact and not idea.anonymous:
        first, last = split_name(idea.contact_name)
        email, phone = split_contact(idea.contact)
        contact = {"first_name": first, "last_name": last, "email": email, "phone": phone}
        request.update({key: value for key, value in contact.items() if value})
    return request


async def write_open311(
    ideas: AsyncIterator[IdeaRecord], path: Path, lab: LabSettings, *, with_contact: bool,
    media_url: str | None = None,
) -> int:  # fmt: skip
    """A JSON array of service requests, as GET requests.json answers."""

    async def requests() -> AsyncIterator[dict[str, Any]]:
        async for idea in ideas:
            yield service_request(idea, lab, with_contact=with_contact, media_url=media_url)

    return await _write_array(path, "[", requests(), "\n]\n")
