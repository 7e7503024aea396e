"""Exports in chat as one flow: /exportar (/export), staff only. Its format buttons are staff
buttons ("st:x:<format>", answered by handlers/staff/buttons.py): a prefix has one owner, and
the ids already in staff chats keep working."""

from handlers.engine.flow import Flow
from handlers.engine.turn import Turn
from handlers.exports import chat
from handlers.staff.common import staff_only


async def offer(turn: Turn) -> None:
    chat.offer(turn)


FLOW = Flow(name="exports", commands={"export": staff_only(offer)})
