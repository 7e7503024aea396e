"""Text handling every chat adapter shares: long texts cut into messages, labels shortened to
a platform's limit, commands read from typed text."""


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into messages, at a line break or space where one is near the limit."""
    chunks = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    chunks.append(text)
    return chunks


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters: whole words and "…" when it is too long, so that a
    label reads as a label ("Servicio a la ciudadanía" -> "Servicio a la…"), never "Servicio a
    la ciud"; a single word too long for the limit is cut with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = text[: limit - 1]
    cut = room.rfind(" ")
    if cut >= limit // 3:
        room = room[:cut]
    return room.rstrip(" ,;:.-–—(") + "…"


def one_line(text: str) -> str:
    """Line breaks, tabs and runs of spaces as single spaces (template parameters allow none)."""
    return " ".join(text.split())


def command_of(text: str) -> str | None:
    """ "/Mis_Ideas@minga_bot extra" -> "mis_ideas"; None when the text is not a command."""
    if not text.startswith("/") or len(text) < 2:
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()


def argument_of(text: str) -> str | None:
    """ "/start ev12" -> "ev12" (a deep link's payload); None when nothing follows."""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 and parts[1].strip() else None
