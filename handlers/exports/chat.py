"""/exportar (/export): the ideas as a file in the chat, without contact details (a group is
no place for them: `minga export ideas --with-contact` on the server is)."""

import tempfile
from pathlib import Path

from handlers.engine.buttons import button_id
from handlers.engine.messages import Choice, Document, Reply
from handlers.engine.turn import Turn
from handlers.exports.export import FORMATS, MIME_TYPES, SUFFIXES, export_ideas
from handlers.staff.ideas_view import STAFF
from storage.models import IdeaFilter

# Beyond this the file is too big to send in a chat (Telegram takes 50 MB from a bot):
# the server's command does it.
CHAT_EXPORT_MAX_IDEAS = 50_000
MAX_FILE_BYTES = 50 * 1024 * 1024
EXPORT = "x"  # its staff button, "st:x:<format>" (answered through staff/buttons.py)


def offer(turn: Turn) -> None:
    choices = tuple(Choice(button_id(STAFF, EXPORT, name), turn.t(f"export.format_{name}"))
                    for name in FORMATS)  # fmt: skip
    turn.say(turn.t("export.choose"), choices)


async def on_format(turn: Turn, name: str) -> None:
    if name not in FORMATS:
        turn.say(turn.t("input.stale_button"))
        return
    count = await turn.repos.idea_search.count(IdeaFilter())
    if count > CHAT_EXPORT_MAX_IDEAS:
        turn.say(turn.t("export.too_many", count=count, format=name))
        return
    day = turn.now.astimezone(turn.settings.lab.zone).strftime("%Y-%m-%d")
    filename = f"ideas-{day}{SUFFIXES[name]}"
    with tempfile.TemporaryDirectory(prefix="minga-export-") as folder:
        path = Path(folder) / filename
        written = await export_ideas(turn.repos, turn.settings.lab, format=name, path=path)
        if path.stat().st_size > MAX_FILE_BYTES:
            turn.say(turn.t("export.too_many", count=count, format=name))
            return
        content = path.read_bytes()
    document = Document(filename, content, MIME_TYPES[name])
    turn.replies.append(Reply(turn.t("export.ready", count=written), document=document))
