"""A small database of varied ideas: named and anonymous, with and without a pin or photos,
one whose text looks like a spreadsheet formula, one not selected."""

from datetime import datetime, timedelta

from handlers.staff.triage import change_status
from storage.database import Database
from storage.models import Focus, IdeaStatus, NewIdea, NewMedia, Publish, Role
from tests.handlers.walk import agreeing

PEOPLE = [
    # (name, contact, anonymous, lat/lon, place, photos, publish)
    (
        "Ana María Rojas",
        "ana.rojas@example.org",
        False,
        (4.4791, -74.1264),
        "La Flora",
        1,
        Publish.PHOTOS,
    ),
    ("Beto Díaz", "+57 300 555 0101", False, None, "Danubio", 0, Publish.TEXT),
    (None, None, True, (4.5012, -74.1120), None, 0, Publish.NO),
    ("Carla Pérez", "3105550199", False, None, "Gran Yomasa", 2, Publish.TEXT),
]
FORMULA = '=HYPERLINK("http://evil.example","clic")'


async def seed(database: Database, now: datetime) -> list[str]:
    references = []
    async with database.transaction() as repos:
        for number, (name, contact, anonymous, pin, place, photos, publish) in enumerate(PEOPLE):
            resident = await repos.residents.get_or_create("telegram", f"{100 + number}", now)
            await repos.residents.save_consents(agreeing(resident, now))
            problem = FORMULA if number == 1 else f"Problema {number}: huecos y basura en la vía"
            new = NewIdea(
                resident_id=resident.id, role=Role.RESIDENT, language="es", problem=problem,
                idea=f"Idea {number}: jornada comunitaria" if number != 2 else None,
                category="mobility" if number % 2 else "environment", focus=Focus.EXTERNAL,
                location_text=place, latitude=pin[0] if pin else None,
                longitude=pin[1] if pin else None, anonymous=anonymous, contact_name=name,
                contact=contact, publish=publish,
                media=tuple(NewMedia(kind="photo", path=f"telegram/p{number}-{i}.jpg")
                            for i in range(photos)),
            )  # fmt: skip
            _, reference = await repos.ideas.create(
                new, prefix="MNG", year=2026, now=now + timedelta(minutes=number)
            )
            references.append(reference)
        idea = await repos.idea_search.by_reference(references[3])
        assert idea is not None
        await change_status(repos, idea, IdeaStatus.NOT_SELECTED,
                            actor="cli", now=now + timedelta(hours=1),
                            reason="Ya está en el plan de obras")  # fmt: skip
    return references
