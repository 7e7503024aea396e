"""The right to know (/mis_datos, `minga residents show`): everything Minga holds about one
resident, as a readable message and as a JSON document."""

import json
from datetime import datetime
from typing import Any

from babel.dates import format_date

from handlers.engine.catalog import Catalog, Translator
from handlers.engine.settings import FlowSettings
from handlers.engine.state import DRAFT_STEPS
from handlers.privacy.consent import Purpose, granted
from handlers.privacy.retention import draft_files
from storage.models import Resident
from storage.repositories import Repositories

IDEAS_LISTED = 10  # in the message; the file has them all


async def held(repos: Repositories, resident: Resident) -> dict[str, Any]:
    """Everything about the resident, as plain JSON-ready values."""
    ideas = []
    for idea_id in await repos.privacy.ideas_of(resident.id):
        record = await repos.idea_search.get(idea_id)
        if record is None:
            continue
        history = await repos.idea_search.history(idea_id)
        files = await repos.ideas.media_paths(idea_id)
        ideas.append({
            **record.model_dump(mode="json", exclude={"resident_id", "media", "channel"}),
            "files": len(files),
            "history": [event.model_dump(mode="json", exclude={"actor", "note"})
                        for event in history if event.kind != "note"],  # staff notes stay theirs
        })  # fmt: skip
    conversation = await repos.conversations.get(resident.id)
    draft = None
    if conversation is not None and (conversation.step in {s.value for s in DRAFT_STEPS}):
        draft = json.loads(conversation.draft)
    return {
        "resident": resident.model_dump(mode="json", exclude={"id"}),
        "consents": [
            entry.model_dump(mode="json")
            for entry in await repos.residents.consent_log(resident.id)
        ],
        "ideas": ideas,
        "follows": await repos.privacy.followed_by(resident.id),
        "supports": await repos.privacy.supported_by(resident.id),
        "events": await repos.privacy.rsvps_of(resident.id),
        "draft": draft,
        "draft_files": len(draft_files(conversation.draft)) if conversation and draft else 0,
    }


def as_file(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


def readable(
    data: dict[str, Any], resident: Resident, settings: FlowSettings, catalog: Catalog,
    language: str,
) -> str:  # fmt: skip
    """The message: who they are to us, their consents, ideas (their own, and those they
    joined), names and contacts, events."""
    t = catalog.translator(language)
    version = settings.lab.privacy_policy_version
    lines = [t("my_data.title", lab=settings.lab.name),
             t("my_data.identity", channel=resident.channel, user=resident.user_key)]  # fmt: skip
    if resident.language or resident.role:
        role = t(f"role.{resident.role.value}") if resident.role else "—"
        lines.append(t("my_data.profile", spoken=t(f"language.{resident.language}")
                       if resident.language else "—", role=role))  # fmt: skip
    lines.append(t("my_data.consents"))
    for purpose in Purpose:
        since = _since(resident, purpose)
        state = t("my_data.consent_no")
        if since is not None and granted(resident, purpose, version):
            state = t("my_data.consent_yes", date=_date(since, settings, language), version=version)
        lines.append(t("my_data.consent_line", purpose=t(f"my_data.purpose_{purpose}"),
                       state=state))  # fmt: skip
    ideas = data["ideas"]
    lines.append(t("my_data.ideas", count=len(ideas)))
    for idea in ideas[:IDEAS_LISTED]:
        lines.append(t("my_data.idea", reference=idea["reference"],
                       status=t(f"status.{idea['status']}")))  # fmt: skip
    supports = data["supports"]
    if supports:
        lines.append(t("my_data.supports", count=len(supports)))
        for support in supports[:IDEAS_LISTED]:
            key = "my_data.support_photo" if support["photo"] else "my_data.support"
            lines.append(t(key, reference=support["reference"]))
            if support["detail"]:
                lines.append(t("my_data.support_detail", detail=support["detail"]))
    pairs = [(idea["contact_name"], idea["contact"]) for idea in ideas]
    values = names_then_contacts(t, pairs)
    lines.append(t("my_data.contacts", values=values) if values
                 else t("my_data.no_contacts"))  # fmt: skip
    points = sum(1 for idea in ideas if idea["latitude"] is not None)
    files = sum(idea["files"] for idea in ideas) + data["draft_files"]
    files += sum(1 for support in supports if support["photo"])
    lines.append(t("my_data.places_files", points=points, files=files))
    lines.append(t("my_data.events", count=len(data["events"])))
    if data["draft"] is not None:
        lines.append(t("my_data.draft"))
    lines.append(t("my_data.footer"))
    return "\n".join(lines)


def _since(resident: Resident, purpose: Purpose) -> datetime | None:
    return {Purpose.HANDLING: resident.consent_at, Purpose.UPDATES: resident.updates_at,
            Purpose.ANNOUNCEMENTS: resident.announcements_at}[purpose]  # fmt: skip


def _date(moment: datetime, settings: FlowSettings, language: str) -> str:
    return format_date(moment.astimezone(settings.lab.zone), format="medium", locale=language)


def names_then_contacts(t: Translator, pairs: list[tuple[str | None, str | None]]) -> str:
    """Their names, then their contacts, each labelled (the name always comes first, as in
    the intake), or "" when there is neither."""
    names = list(dict.fromkeys(name for name, _ in pairs if name))
    contacts = list(dict.fromkeys(contact for _, contact in pairs if contact))
    parts = []
    if names:
        parts.append(t("my_data.name_values", values=", ".join(names), count=len(names)))
    if contacts:
        parts.append(t("my_data.contact_values", values=", ".join(contacts), count=len(contacts)))
    return " · ".join(parts)
