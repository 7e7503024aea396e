"""The lab's team, managed in chat and from `minga staff`: who is on it (/equipo), adding and
removing members (/equipo_agregar, /equipo_quitar: admins only), and linking the staff group
with a one-time code (/vincular CODE, printed by `minga staff link-group`). Who counts as staff
is handlers/engine/team.py's; the rows are storage/staff.py's."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.engine.team import Team
from handlers.engine.turn import Turn
from handlers.events.rsvp import carry_on
from handlers.staff.common import is_admin, is_staff
from storage.repositories import Repositories
from storage.staff import Added, Role, StaffMember

# A code: two groups of four characters with nothing to confuse (no 0/O, 1/I/L), typed in
# any case, with or without the dash. 31^8 codes; one lives an hour and works once.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_VALID = timedelta(hours=1)
ADMIN_WORDS = frozenset(("admin", "administrador", "administradora", "administrator"))
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


def new_code() -> str:
    """A fresh code as it is shown: "K7PM-3QXD"."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def code_hash(typed: str) -> str:
    """What is stored for a code, from the code as typed (case, spaces and dashes aside)."""
    plain = re.sub(r"[^A-Za-z0-9]", "", typed).upper()
    return hashlib.sha256(plain.encode()).hexdigest()


async def create_code(repos: Repositories, now: datetime) -> tuple[str, datetime]:
    """A one-time code to link a group, kept (hashed) until it is used or expires."""
    code, expires = new_code(), now + CODE_VALID
    await repos.staff.add_code(code_hash(code), now, expires)
    return code, expires


@dataclass(frozen=True, slots=True)
class Who:
    """A person named by id or @username, as found: their Telegram id, or why not."""

    telegram_id: int | None
    username: str | None
    problem: str | None = None  # "unknown_username" or "bad_who"


async def find_person(repos: Repositories, given: str) -> Who:
    """A Telegram id ("12345") or an @username of someone who has written to the bot."""
    text = given.strip()
    if text.isdigit():
        resident = await repos.residents.find("telegram", text)
        return Who(int(text), resident.username if resident else None)
    match = _USERNAME.match(text)
    if match is None:
        return Who(None, None, "bad_who")
    found = await repos.staff.telegram_user(match.group(1))
    if found is None:
        return Who(None, match.group(1), "unknown_username")
    return Who(*found)


def shown(telegram_id: int, username: str | None) -> str:
    """ "@ana (12345)", or "12345" when their username is not known."""
    return f"@{username} ({telegram_id})" if username else str(telegram_id)


def member_line(turn: Turn, member: StaffMember) -> str:
    return turn.t("team.member", who=shown(member.telegram_id, member.username),
                  role=turn.t(f"team.role_{member.role}"))  # fmt: skip


async def show_team(turn: Turn) -> None:
    """/equipo: the members and their roles, and the staff group (any staff member)."""
    members = await turn.repos.staff.members()
    known = {member.telegram_id for member in members}
    team: Team = turn.team
    # Seeded from the config but without a row yet (the bot has not restarted since).
    members += [StaffMember(i, team.roles[i], None, "config", "") for i in team.telegram_ids
                if i not in known]  # fmt: skip
    lines = [turn.t("team.title")]
    lines += [member_line(turn, member) for member in members] or [turn.t("team.empty")]
    lines.append(turn.t("team.group", group=team.group) if team.group is not None
                 else turn.t("team.no_group"))  # fmt: skip
    if is_admin(turn):
        lines.append(turn.t("team.admin_hint"))
    turn.say("\n".join(lines))
    carry_on(turn)


def _words(turn: Turn) -> list[str]:
    return (turn.inbound.argument or "").split()


async def add_member(turn: Turn) -> None:
    """/equipo_agregar @usuario|ID [admin]."""
    if not _allowed(turn):
        return carry_on(turn)
    words = _words(turn)
    if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ADMIN_WORDS):
        turn.say(turn.t("team.add_usage"))
        return carry_on(turn)
    role: Role = "admin" if len(words) == 2 else "staff"
    who = await _found(turn, words[0])
    if who is None or who.telegram_id is None:
        return carry_on(turn)
    if _is_self(turn, who.telegram_id) and role != "admin":
        turn.say(turn.t("team.not_yourself"))
        return carry_on(turn)
    outcome: Added = await turn.repos.staff.add(
        who.telegram_id, role, username=who.username, by=turn.actor, now=turn.now
    )
    turn.team_changed = True
    name, role_label = shown(who.telegram_id, who.username), turn.t(f"team.role_{role}")
    turn.say(turn.t(f"team.{outcome}", who=name, role=role_label))
    carry_on(turn)


async def remove_member(turn: Turn) -> None:
    """/equipo_quitar @usuario|ID."""
    if not _allowed(turn):
        return carry_on(turn)
    words = _words(turn)
    if len(words) != 1:
        turn.say(turn.t("team.remove_usage"))
        return carry_on(turn)
    who = await _found(turn, words[0])
    if who is None or who.telegram_id is None:
        return carry_on(turn)
    name = shown(who.telegram_id, who.username)
    if not turn.team.includes("telegram", str(who.telegram_id)):
        turn.say(turn.t("team.not_member", who=name))
        return carry_on(turn)
    if _is_self(turn, who.telegram_id):
        turn.say(turn.t("team.not_yourself"))
        return carry_on(turn)
    await turn.repos.staff.remove(who.telegram_id, by=turn.actor, now=turn.now)
    turn.team_changed = True
    turn.say(turn.t("team.removed", who=name))
    carry_on(turn)


def _allowed(turn: Turn) -> bool:
    """Admins manage the team; other staff are told who can; anyone else hears it is the
    team's (as with every staff command)."""
    if is_admin(turn):
        return True
    turn.say(turn.t("team.admins_only" if is_staff(turn) else "staff.only"))
    return False


def _is_self(turn: Turn, telegram_id: int) -> bool:
    return turn.inbound.channel == "telegram" and turn.inbound.user_key == str(telegram_id)


async def _found(turn: Turn, given: str) -> Who | None:
    """The person named, or None (and why) when they cannot be found."""
    who = await find_person(turn.repos, given)
    if who.problem == "unknown_username":
        turn.say(turn.t("team.unknown_username", username=who.username))
        return None
    if who.problem is not None:
        turn.say(turn.t("team.bad_who", given=given[:40]))
        return None
    return who


async def link_group(turn: Turn) -> None:
    """/vincular CODE in a group: it becomes the staff group. Whoever has the code may (the
    installer need not be staff); a wrong or spent code gets one line."""
    group = turn.inbound.group
    if group is None:
        if is_staff(turn):
            turn.say(turn.t("team.link_in_group"))
        else:  # residents: as if there were no such command
            turn.say(turn.t("input.unknown_command", command=f"/{turn.inbound.command}"))
        return carry_on(turn)
    typed = (turn.inbound.argument or "").strip()
    if not typed:
        turn.say(turn.t("team.link_usage"))
        return None
    if not group.lstrip("-").isdigit():  # not a Telegram group: none to link
        turn.say(turn.t("team.bad_code"))
        return None
    chat_id = int(group)
    if not await turn.repos.staff.use_code(code_hash(typed), chat_id, turn.now):
        turn.say(turn.t("team.bad_code"))
        return None
    await turn.repos.staff.link_group(chat_id, by=turn.actor, now=turn.now)
    turn.team_changed = True
    turn.say(turn.t("team.linked", lab=turn.settings.lab.name))
