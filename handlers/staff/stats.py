"""/estadisticas (/stats): how many ideas, by status, topic, neighbourhood, focus, channel
and call."""

from handlers.engine.turn import Turn
from handlers.staff.ideas_view import category_label, channel_name

TOP = 10  # values shown per group; the rest are added up as "others"
GROUPS = ("status", "category", "neighbourhood", "focus", "channel", "call")


async def label(turn: Turn, group: str, value: str | int | None) -> str:
    """A value of a stats group as staff read it (a call's id -> its title)."""
    if value is None:
        return turn.t(f"stats.none_{group}") if group in ("neighbourhood", "call") else "-"
    if group == "status":
        return turn.t(f"status.{value}")
    if group == "category":
        return category_label(turn, str(value))
    if group == "focus":
        return turn.t(f"focus.{value}")
    if group == "call":
        call = await turn.repos.calls.get(int(value))
        return call.title if call else str(value)
    if group == "channel":
        return channel_name(turn, str(value))
    return str(value)


async def show(turn: Turn) -> None:
    search = turn.repos.idea_search
    total = sum(n for _, n in await search.totals("status"))
    lines = [turn.t("stats.title", total=total)]
    for group in GROUPS:
        rows = await search.totals(group)
        lines.append("")
        lines.append(turn.t(f"stats.by_{group}"))
        for value, count in rows[:TOP]:
            lines.append(turn.t("stats.row", label=await label(turn, group, value), count=count))
        rest = sum(count for _, count in rows[TOP:])
        if rest:
            lines.append(turn.t("stats.row", label=turn.t("stats.others"), count=rest))
    turn.say("\n".join(lines))
