"""Shortcuts through the intake, so each test starts at the step it is about."""

from datetime import datetime

from handlers.engine.settings import FlowSettings
from handlers.privacy.consent import Purpose, changes
from storage.models import Resident
from tests.fakes.chat import Chat

PROBLEM = "Los huecos de la calle 80 hacen caer a los ciclistas"
IDEA = "Tapar los huecos con una minga de la comunidad"
MOBILITY = {"es": "Movilidad y vías", "en": "Transport and roads"}


async def to_problem(chat: Chat, role: str = "role.resident") -> None:
    await chat.command("start")
    await chat.press(role)
    await chat.press("consent.accept")
    assert chat.asked("problem.ask")


async def to_photos(chat: Chat, role: str = "role.resident") -> None:
    await to_problem(chat, role)
    await chat.say(PROBLEM)
    await chat.press_label("La Flora")
    await chat.press_label(MOBILITY[chat.language])
    await chat.say(IDEA)
    assert chat.asked("photos.ask", max=3)


async def category_to_summary(chat: Chat) -> None:
    """From the category question to the summary: the quickest answers."""
    await chat.send(choice="category:mobility")
    await chat.press("idea.none")
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")


async def to_identity(chat: Chat, role: str = "role.resident") -> None:
    await to_photos(chat, role)
    await chat.press("photos.skip")
    if role != "role.resident":
        await chat.press("focus.external")
    assert chat.asked("identity.ask")


async def to_summary(chat: Chat, role: str = "role.resident") -> None:
    await to_identity(chat, role)
    await chat.press("identity.anonymous")
    assert chat.asked("publish.ask", lab="Usme Innova")
    await chat.press("publish.text")
    assert chat.replies[-1].choices[0].id == "summary:send"


async def answer_receipt(chat: Chat, *, updates: bool = False, announcements: bool = False) -> None:
    """After a first idea's receipt: news about it, then announcements (the menu follows)."""
    await chat.press("consent.updates_yes" if updates else "consent.updates_no")
    await chat.press("subscribe.yes" if announcements else "subscribe.no")
    assert chat.asked("greeting.menu")


def agreeing(resident: Resident, now: datetime, *purposes: Purpose) -> Resident:
    """The resident having said yes to these purposes under the default policy version."""
    version = FlowSettings().lab.privacy_policy_version
    for purpose in purposes or tuple(Purpose):
        resident = resident.model_copy(update=changes(purpose, True, version, now))
    return resident
