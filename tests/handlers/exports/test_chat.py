"""/exportar (/export) in chat: staff choose a format and get the ideas as a file, without
contact details; the format buttons already in staff chats keep working."""

from collections.abc import Callable

import pytest

from handlers.exports.export import FORMATS
from tests.fakes.chat import Chat
from tests.handlers.staff.helpers import button
from tests.handlers.walk import to_identity


async def test_exportar_sends_the_file_without_contact_details(
    staff: Chat, make_chat: Callable[..., Chat]
) -> None:
    resident = make_chat(language="es", user="ana")
    await to_identity(resident)
    await resident.press("identity.named")
    await resident.say("Ana Rojas")
    await resident.say("ana@example.org")
    await resident.press("publish.no")
    await resident.press("summary.send")
    await staff.command("exportar")
    await staff.send(choice=button(staff, staff.t("export.format_csv")))
    [reply] = staff.replies
    assert reply.document is not None and reply.document.filename.endswith(".csv")
    text = reply.document.content.decode("utf-8-sig")
    assert "MNG-2026-000001" in text and "Ana Rojas" not in text and "ana@example" not in text


@pytest.mark.parametrize("name", FORMATS)
async def test_a_format_button_sent_before_the_move_still_exports(staff: Chat, name: str) -> None:
    """The ids as staff chats hold them ("st:x:<format>"), answered as before."""
    await staff.command("exportar")
    await staff.send(choice=f"st:x:{name}")
    [reply] = staff.replies
    assert reply.document is not None and reply.text == staff.t("export.ready", count=0)


async def test_a_resident_gets_no_export_from_a_format_button(chat: Chat) -> None:
    await chat.command("start")
    await chat.send(choice="st:x:csv")
    assert chat.t("staff.only") in chat.text
    assert all(reply.document is None for reply in chat.replies)
