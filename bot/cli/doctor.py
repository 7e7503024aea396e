"""`minga doctor`: is this installation ready to run? Each check is one line, and says what to
do when it fails. Exit status 0 only when every check passes (a check that does not apply,
such as WhatsApp when it is not configured, is skipped, and a skip passes)."""

import argparse
import asyncio
import json
import os
import shutil
import stat
import sys
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import ConfigError, Settings, config_path, load_settings
from bot.leases import POLLING
from handlers.engine.catalog import Catalog, CatalogError
from handlers.engine.clock import Clock, SystemClock
from handlers.engine.settings import LabSettings
from handlers.engine.team import read_team
from storage.database import Database, SqliteDatabase
from storage.migrations import latest_version
from storage.postgres import is_postgres_url
from storage.private import SQLITE_COMPANIONS

if TYPE_CHECKING:  # imported where used: httpx brings rich.progress, slow for every `minga`
    import httpx

Status = Literal["ok", "fail", "skip"]
DiskUsage = Callable[[Path], Any]  # shutil.disk_usage's shape: .free, .total

HTTP_TIMEOUT_SECONDS = 10.0
# The clock may be this far from Telegram's (or Meta's) before reminders and the digest go at
# the wrong time and signed webhooks look stale.
CLOCK_TOLERANCE = timedelta(minutes=1)
# Free space needed on the disk of the database and of the media folder, beyond room for one
# backup (as large as the database and the media together): photos, voice notes, exports.
MIN_FREE_BYTES = 1024**3
# Telegram's member statuses in which the bot is in the group and may post there.
MEMBER_STATUSES = frozenset(("creator", "administrator", "member"))
GRAPH_PAGE = 200  # message templates asked per page


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: `fix` says what to do when it failed ("" otherwise)."""

    name: str
    status: Status
    message: str
    fix: str = ""


def ok(name: str, message: str) -> Check:
    return Check(name, "ok", message)


def fail(name: str, message: str, fix: str) -> Check:
    return Check(name, "fail", message, fix)


def skip(name: str, message: str) -> Check:
    return Check(name, "skip", message)


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    doctor = commands.add_parser(
        "doctor", parents=[common],
        help="check the installation: settings, database, Telegram, WhatsApp, disk, clock",
        description="Checks the installation, one line each, and says what to do when a check "
        "fails: the settings; the database (reachable, migrations current, files owner-only); "
        "the Telegram token, its webhook or polling, the staff group and the staff ids; "
        "WhatsApp's number, token and templates; the lab's name and privacy policy; disk space; "
        "the clock and time zone. Exit status 0 only when every check passes (a check that does "
        "not apply is skipped).",
    )  # fmt: skip
    doctor.add_argument("--send-test", action="store_true",
                        help="also send a test message to the staff group")  # fmt: skip
    doctor.add_argument("--json", action="store_true",
                        help="print one JSON document (each check: name, status ok/fail/skip, "
                        "message, fix) instead of lines, for scripts")  # fmt: skip


# -- the command ------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    """`minga doctor`: the report on stdout; 0 when every check passed, else 1."""
    checks = asyncio.run(diagnose(getattr(args, "config", None), send_test=args.send_test))
    if args.json:
        document = {"ok": passed(checks), "checks": [asdict(check) for check in checks]}
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for check in checks:
            print(line(check))
        failed = sum(check.status == "fail" for check in checks)
        print("all checks passed" if not failed else f"{failed} check(s) failed: see above")
    return 0 if passed(checks) else 1


def passed(checks: list[Check]) -> bool:
    return all(check.status != "fail" for check in checks)


def line(check: Check) -> str:
    """A check as one line of the human report."""
    mark = {"ok": "ok  ", "fail": "FAIL", "skip": "skip"}[check.status]
    text = f"{mark} {check.name}: {check.message}"
    return f"{text} -> {check.fix}" if check.fix else text


async def diagnose(
    config: str | None,
    *,
    send_test: bool = False,
    clock: Clock | None = None,
    disk_usage: DiskUsage = shutil.disk_usage,
) -> list[Check]:
    """Every check, in the order a person would fix them."""
    path = config_path(config)
    try:
        settings = load_settings(path)
        Catalog.load(Path(settings.lab.texts_dir) if settings.lab.texts_dir else None)
    except (ConfigError, CatalogError) as error:
        shown = str(path) if path is not None else "the MINGA_* variables"
        return [
            fail("config", str(error), f"correct it in {shown}, then run minga doctor again"),
            _zone_of_unread(path),
        ]
    doctor = _Doctor(settings, clock or SystemClock(), disk_usage)
    source = str(path) if path is not None else "built-in example settings"
    return [ok("config", f"settings valid ({source})"), *await doctor.run(send_test)]


def _zone_of_unread(path: Path | None) -> Check:
    """With settings that did not load, the time zone still checked on its own: a person
    who mistyped it sees it named on the clock's line too."""
    zone = os.environ.get("MINGA_LAB__TIMEZONE")
    if zone is None and path is not None:
        try:
            zone = tomllib.loads(path.read_text("utf-8")).get("lab", {}).get("timezone")
        except (OSError, ValueError, AttributeError):
            zone = None
    if not isinstance(zone, str):
        return skip("clock", "not checked: the settings did not load")
    problem = _zone_problem(zone)
    if problem is None:
        return skip(
            "clock", f"time zone {zone} valid; clock not checked: the settings did not load"
        )
    return problem


def _zone_problem(zone: str) -> Check | None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return fail("clock", f"unknown time zone {zone!r} (lab.timezone)",
                    "use an IANA name like America/Bogota; if it is one, install the time zone "
                    "data (apt install tzdata, or pip install tzdata)")  # fmt: skip
    return None


# -- the checks -------------------------------------------------------------------------------


class _Doctor:
    def __init__(self, settings: Settings, clock: Clock, disk_usage: DiskUsage) -> None:
        self.settings = settings
        self.clock = clock
        self.disk_usage = disk_usage
        self.bot: dict[str, Any] | None = None  # getMe's answer, once the token works
        self.server_date: datetime | None = None  # a platform's Date header
        self.polled_by: str | None = None  # the Minga worker holding the polling lease
        # The team as the bot sees it: the database's (minga staff, /vincular) with the
        # config's seed; the config alone while the database cannot be read.
        self.staff_ids_now: tuple[int, ...] = tuple(settings.staff.telegram_ids)
        self.group_now: int | None = settings.staff.group_chat_id

    async def run(self, send_test: bool) -> list[Check]:
        import httpx

        checks = [*await self.database(), *self.files()]
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
            telegram = _BotApi(http, self.settings)
            checks.append(await self.token(telegram))
            checks.append(await self.updates(telegram))
            checks.append(await self.staff_group(telegram))
            checks.append(await self.staff_ids(telegram))
            graph = _Graph(http, self.settings)
            checks.append(await self.whatsapp_number(graph))
            checks.append(await self.whatsapp_templates(graph))
            checks.append(self.lab_details())
            checks.append(self.disk_space())
            checks.append(self.clock_and_zone())
            if send_test:
                checks.append(await self.send_test(telegram))
        return checks

    # -- the database and its files -----------------------------------------------------------

    async def database(self) -> list[Check]:
        storage = self.settings.storage
        shown = storage.shown_database
        if _not_created(self.settings):
            return [fail("database", f"{shown} does not exist yet",
                         "run minga db upgrade (or minga run) to create it"),
                    skip("migrations", "no database yet")]  # fmt: skip
        try:
            database = await _look_at(self.settings)
        except Exception as error:
            return [fail("database", f"cannot open {shown}: {error}",
                         "check [storage] database, and that the server runs and lets this user "
                         "in"), skip("migrations", "database not reachable")]  # fmt: skip
        try:
            version = await database.schema_version()
            if version == latest_version():  # an older schema may have no leases yet
                reader = database.reader()
                self.polled_by = await reader.leases.holder(POLLING, self.clock.now())
                team = await read_team(reader, self.settings.staff)
                self.staff_ids_now, self.group_now = team.telegram_ids, team.group
        finally:
            await database.close()
        latest = latest_version()
        reachable = ok("database", f"{shown} reachable")
        if version < latest:
            return [reachable, fail("migrations", f"schema version {version}, this Minga needs "
                                    f"{latest}", "run minga db upgrade")]  # fmt: skip
        if version > latest:
            return [reachable, fail("migrations", f"schema version {version} is newer than this "
                                    f"Minga ({latest})", "upgrade Minga")]  # fmt: skip
        return [reachable, ok("migrations", f"schema version {version}, current")]

    def files(self) -> list[Check]:
        """The database's files and the data folders: readable by their owner only."""
        storage = self.settings.storage
        paths = [storage.media_dir]
        prefix = ""
        if is_postgres_url(storage.database):
            prefix = "database files: kept by the PostgreSQL server, not checked here; "
        else:
            database = Path(storage.database)
            paths += [database.parent, database]
            paths += [database.with_name(database.name + end) for end in SQLITE_COMPANIONS]
        open_to_others = [(path, _mode(path)) for path in paths
                          if path.exists() and _mode(path) & 0o077]  # fmt: skip
        if open_to_others:
            shown = ", ".join(f"{path} ({oct(mode)[2:]})" for path, mode in open_to_others)
            commands = "; ".join(f"chmod {700 if path.is_dir() else 600} {path}"
                                 for path, _ in open_to_others)  # fmt: skip
            return [fail("files", f"{prefix}readable by others: {shown}", commands)]
        return [ok("files", f"{prefix}data files owner-only")]

    # -- Telegram ---------------------------------------------------------------------------

    async def token(self, telegram: "_BotApi") -> Check:
        settings = self.settings
        if settings.telegram.token is None:
            if not settings.whatsapp.enabled:
                return fail("telegram_token", "no channel configured (no Telegram token, no "
                            "[whatsapp])", "set MINGA_TELEGRAM__TOKEN to the token from "
                            "@BotFather, or the [whatsapp] settings")  # fmt: skip
            return skip("telegram_token", "Telegram not configured (no telegram.token)")
        answer = await telegram.call("getMe")
        self.server_date = answer.date or self.server_date
        if answer.status == 401 or answer.status == 404:
            return fail("telegram_token", "Telegram refused the token",
                        "copy the token from @BotFather (/mybots > API Token) into "
                        "MINGA_TELEGRAM__TOKEN")  # fmt: skip
        if not answer.ok:
            return fail("telegram_token", f"could not reach Telegram at "
                        f"{settings.telegram.base_url}: {answer.error}",
                        "check the internet connection, or telegram.base_url")  # fmt: skip
        self.bot = answer.result
        username = str(answer.result.get("username", ""))
        configured = (settings.telegram.bot_username or "").lstrip("@")
        if configured and configured.lower() != username.lower():
            return fail("telegram_token", f"the token is @{username}'s, but "
                        f"telegram.bot_username says @{configured}",
                        f'set bot_username = "{username}", or use the token of '
                        f"@{configured}")  # fmt: skip
        if not configured:
            return ok("telegram_token", f"token works: @{username} (telegram.bot_username not set: "
                      "asked from Telegram)")  # fmt: skip
        return ok("telegram_token", f"token works: @{username}")

    async def updates(self, telegram: "_BotApi") -> Check:
        """Webhook mode: Telegram posts to the configured URL. Polling: nothing else takes
        the updates (a webhook, or another program polling with the token)."""
        name = "telegram_updates"
        if self.bot is None:
            return skip(name, "needs a working Telegram token")
        info = await telegram.call("getWebhookInfo")
        if not info.ok:
            return fail(name, f"getWebhookInfo failed: {info.error}", "run minga doctor again")
        registered = str(info.result.get("url") or "")
        wanted = self.settings.telegram.webhook_url
        last_error = str(info.result.get("last_error_message") or "")
        if self.settings.telegram.mode == "webhook":
            if not registered:
                return fail(name, f"no webhook registered; telegram.webhook_url is {wanted}",
                            "start minga run: it registers telegram.webhook_url")  # fmt: skip
            if registered != wanted:
                return fail(name, f"Telegram posts to {registered}, not telegram.webhook_url "
                            f"{wanted}", "start minga run to register it; if another "
                            "installation uses this bot, give each its own bot")  # fmt: skip
            if last_error:
                return fail(name, f"webhook {wanted} registered, but Telegram's last post "
                            f"failed: {last_error}", "check the reverse proxy forwards "
                            "/webhooks/telegram to Minga's web server over HTTPS")  # fmt: skip
            return ok(name, f"webhook registered: {wanted}")
        if registered:
            return fail(name, f"polling, but a webhook is set ({registered}): Telegram keeps "
                        "the updates for it", 'if no other installation uses this bot, minga '
                        'run removes it; else set telegram.mode = "webhook" or use another '
                        "bot")  # fmt: skip
        if self.polled_by is not None:
            return ok(name, f"polling: minga run ({self.polled_by}) polls now")
        polled = await telegram.call("getUpdates", limit=1, timeout=0)
        if polled.status == 409:
            return fail(name, "another program polls this bot (Telegram answered 409 Conflict)",
                        "stop the other program using this token, or give Minga its own bot "
                        "from @BotFather")  # fmt: skip
        if not polled.ok:
            return fail(name, f"getUpdates failed: {polled.error}", "run minga doctor again")
        return ok(name, "polling free: no webhook, no other poller")

    async def staff_group(self, telegram: "_BotApi") -> Check:
        name = "staff_group"
        group = self.group_now
        if group is None:
            return skip(name, "no staff group linked (minga staff link-group) or set "
                        "([staff] group_chat_id)")  # fmt: skip
        if self.bot is None:
            return skip(name, "needs a working Telegram token")
        fix = ("add the bot to the team's group and link it: minga staff link-group, then "
               "/vincular CODE in the group (or check [staff] group_chat_id; README, "
               '"Staff and their group")')  # fmt: skip
        chat = await telegram.call("getChat", chat_id=group)
        if not chat.ok:
            return fail(name, f"group {group} not reachable: {chat.error}", fix)
        member = await telegram.call("getChatMember", chat_id=group, user_id=self.bot["id"])
        status = str(member.result.get("status", "")) if member.ok else ""
        can_post = status in MEMBER_STATUSES or (
            status == "restricted" and member.result.get("can_send_messages", False)
        )
        title = chat.result.get("title") or group
        if not can_post:
            shown = status or member.error
            return fail(name, f"the bot is not a member of {title!r} ({shown})",
                        f"add @{self.bot.get('username')} to the group")  # fmt: skip
        return ok(name, f"group {title!r} reachable, the bot is a member")

    async def staff_ids(self, telegram: "_BotApi") -> Check:
        name = "staff_ids"
        ids = self.staff_ids_now
        if not ids:
            return skip(name, "no staff yet (minga staff add, or [staff] telegram_ids)")
        if self.bot is None:
            return skip(name, "needs a working Telegram token")
        answers = await asyncio.gather(*(telegram.call("getChat", chat_id=i) for i in ids))
        unknown = [str(i) for i, answer in zip(ids, answers, strict=True) if not answer.ok]
        if unknown:
            return fail(name, f"unknown to the bot: {', '.join(unknown)} (a person who never "
                        "wrote to it cannot be reached)", f"each opens "
                        f"t.me/{self.bot.get('username')} and presses Start; check the id "
                        "with @userinfobot")  # fmt: skip
        return ok(name, f"all {len(ids)} staff id(s) known to the bot")

    async def send_test(self, telegram: "_BotApi") -> Check:
        name = "send_test"
        group = self.group_now
        if group is None or self.bot is None:
            return fail(name, "no staff group to send to", "link one (minga staff link-group) "
                        "and give Minga a working Telegram token")  # fmt: skip
        catalog = Catalog.load(
            Path(self.settings.lab.texts_dir) if self.settings.lab.texts_dir else None
        )
        text = catalog.text(self.settings.lab.default_language, "doctor.test_message",
                            lab=self.settings.lab.name)  # fmt: skip
        sent = await telegram.call("sendMessage", chat_id=group, text=text)
        if not sent.ok:
            return fail(name, f"not sent: {sent.error}", "see staff_group above")
        return ok(name, f"test message sent to group {group}")

    # -- WhatsApp ---------------------------------------------------------------------------

    async def whatsapp_number(self, graph: "_Graph") -> Check:
        name = "whatsapp_number"
        whatsapp = self.settings.whatsapp
        if not whatsapp.enabled:
            return skip(name, "WhatsApp not configured (no whatsapp.phone_number_id)")
        answer = await graph.get(str(whatsapp.phone_number_id),
                                 fields="display_phone_number,verified_name")  # fmt: skip
        self.server_date = self.server_date or answer.date
        if answer.code == 190 or answer.status == 401:
            return fail(name, "Meta refused the access token",
                        "make a permanent token of a system user (Business Settings > System "
                        "users) and put it in MINGA_WHATSAPP__ACCESS_TOKEN")  # fmt: skip
        if answer.status is None:
            return fail(name, f"could not reach {whatsapp.base_url}: {answer.error}",
                        "check the internet connection, or whatsapp.base_url")  # fmt: skip
        if not answer.ok:
            return fail(name, f"phone number id {whatsapp.phone_number_id} refused: "
                        f"{answer.error}", "copy the Phone number ID from WhatsApp > API Setup "
                        "into whatsapp.phone_number_id")  # fmt: skip
        number = answer.result.get("display_phone_number", whatsapp.phone_number_id)
        return ok(name, f"number {number} ({answer.result.get('verified_name', '')}), token valid")

    async def whatsapp_templates(self, graph: "_Graph") -> Check:
        name = "whatsapp_templates"
        whatsapp = self.settings.whatsapp
        if not whatsapp.enabled:
            return skip(name, "WhatsApp not configured")
        wanted = [(purpose, language, ref.name, ref.language or language)
                  for purpose, by_language in sorted(whatsapp.templates.items())
                  for language, ref in sorted(by_language.items())]  # fmt: skip
        if not wanted:
            return skip(name, "no templates in [whatsapp.templates] (outside the 24-hour "
                        "window, reminders and broadcasts are skipped)")  # fmt: skip
        if whatsapp.business_account_id is None:
            return fail(name, "templates cannot be checked without whatsapp.business_account_id",
                        "copy the WhatsApp Business Account ID (WhatsApp > API Setup) "
                        "into whatsapp.business_account_id")  # fmt: skip
        statuses, error = await graph.templates(whatsapp.business_account_id)
        if error is not None:
            return fail(name, f"could not read the templates: {error}",
                        "check whatsapp.business_account_id and the token's "
                        "whatsapp_business_management permission")  # fmt: skip
        problems = [f"{purpose}/{language} {template} ({code}): "
                    + statuses.get((template, code), "not found").lower()
                    for purpose, language, template, code in wanted
                    if statuses.get((template, code)) != "APPROVED"]  # fmt: skip
        if problems:
            return fail(name, "not approved: " + "; ".join(problems),
                        "create or fix them in WhatsApp Manager > Message templates, or change "
                        "[whatsapp.templates]")  # fmt: skip
        return ok(name, f"all {len(wanted)} template(s) approved")

    # -- the lab, the disk, the clock -----------------------------------------------------------

    def lab_details(self) -> Check:
        """The example's lab name or privacy policy would be shown to residents as this
        lab's (the built-in values are config.example.toml's)."""
        lab = self.settings.lab
        example = LabSettings()
        left = [f"lab.{field} is still the example's ({getattr(lab, field)})"
                for field in ("name", "privacy_policy_url")
                if getattr(lab, field) == getattr(example, field)]  # fmt: skip
        if left:
            return fail("lab_details", "; ".join(left),
                        "set your lab's name and privacy policy address in [lab]")  # fmt: skip
        return ok("lab_details", f"lab {lab.name!r}, privacy policy {lab.privacy_policy_url}")

    def disk_space(self) -> Check:
        """Room on each disk that holds the database or the media: MIN_FREE_BYTES beyond a
        backup's worth (the database and the media together)."""
        storage = self.settings.storage
        folders = [storage.media_dir]
        if self.settings.backup.folder is not None:
            folders.append(Path(self.settings.backup.folder))
        used = _size(storage.media_dir)
        if not is_postgres_url(storage.database):
            database = Path(storage.database)
            folders.append(database.parent)
            used += sum(_size(database.with_name(database.name + end))
                        for end in ("", *SQLITE_COMPANIONS))  # fmt: skip
        needed = MIN_FREE_BYTES + used
        short, seen = [], []
        for folder in folders:
            existing = _existing(folder)
            free = int(self.disk_usage(existing).free)
            seen.append(f"{_mb(free)} free at {existing.resolve()}")
            if free < needed:
                short.append(f"{existing.resolve()}: {_mb(free)} free")
        if short:
            return fail("disk_space", f"{'; '.join(short)}, {_mb(needed)} needed (data "
                        f"{_mb(used)}, a backup as large, {_mb(MIN_FREE_BYTES)} to grow)",
                        "free some space, or move [storage] to a larger disk")  # fmt: skip
        return ok("disk_space", f"{'; '.join(dict.fromkeys(seen))} ({_mb(needed)} needed)")

    def clock_and_zone(self) -> Check:
        zone = self.settings.lab.timezone
        problem = _zone_problem(zone)
        if problem is not None:
            return problem
        if self.server_date is None:
            return skip("clock", f"time zone {zone} valid; clock not compared (no platform "
                        "answered)")  # fmt: skip
        off = self.clock.now() - self.server_date
        if abs(off) > CLOCK_TOLERANCE:
            way = "ahead of" if off > timedelta(0) else "behind"
            return fail("clock", f"this computer's clock is {_seconds(off)} {way} the "
                        "platform's", "turn on time synchronisation (timedatectl set-ntp "
                        "true)")  # fmt: skip
        return ok("clock", f"time zone {zone} valid; clock within {_seconds(off)} of the "
                  "platform's")  # fmt: skip


def _not_created(settings: Settings) -> bool:
    """A SQLite file that does not exist yet (`minga db upgrade` or `minga run` makes it)."""
    database = settings.storage.database
    return not is_postgres_url(database) and not Path(database).exists()


async def _look_at(settings: Settings) -> Database:
    """The database opened to look, changing nothing: SQLite's file read-only; PostgreSQL
    without migrating."""
    storage = settings.storage
    if is_postgres_url(storage.database):
        return await Database.open(storage.database, migrate=False,
                                   prepared_statements=storage.prepared_statements)  # fmt: skip
    return await SqliteDatabase.look_at(storage.database)


# -- the platforms ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Answer:
    status: int | None  # None: no answer at all
    result: dict[str, Any]
    error: str = ""
    code: int | None = None  # Meta's error code
    date: datetime | None = None  # the answer's Date header

    @property
    def ok(self) -> bool:
        return self.status == 200


class _BotApi:
    """The few Bot API calls the doctor makes, with their status and the server's Date
    (the bot's own client hides both)."""

    def __init__(self, http: "httpx.AsyncClient", settings: Settings) -> None:
        token = settings.telegram.token
        self._http = http
        self._root = f"{settings.telegram.base_url}{token.get_secret_value() if token else ''}"

    async def call(self, method: str, **params: Any) -> _Answer:
        import httpx

        try:
            response = await self._http.post(f"{self._root}/{method}", json=params)
        except httpx.HTTPError as error:  # the token is in the URL: never shown
            return _Answer(None, {}, type(error).__name__)
        try:
            body = response.json()
        except ValueError:
            body = {}
        result = body.get("result") if isinstance(body, dict) else None
        described = str(body.get("description", "")) if isinstance(body, dict) else ""
        return _Answer(
            response.status_code,
            result if isinstance(result, dict) else {},
            described or f"HTTP {response.status_code}",
            date=_date(response),
        )


class _Graph:
    def __init__(self, http: "httpx.AsyncClient", settings: Settings) -> None:
        whatsapp = settings.whatsapp
        self._http = http
        self._root = f"{whatsapp.base_url}/{whatsapp.api_version}"
        token = whatsapp.access_token.get_secret_value() if whatsapp.access_token else ""
        self._headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **params: Any) -> _Answer:
        return await self.get_url(f"{self._root}/{path}", params)

    async def get_url(self, url: str, params: dict[str, Any] | None = None) -> _Answer:
        import httpx

        try:
            response = await self._http.get(url, params=params, headers=self._headers)
        except httpx.HTTPError as error:
            return _Answer(None, {}, f"{type(error).__name__}: {error}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        answer: dict[str, Any] = body if isinstance(body, dict) else {}
        problem = answer.get("error")
        problem = problem if isinstance(problem, dict) else {}
        code = problem.get("code")
        message = str(problem.get("message") or f"HTTP {response.status_code}")
        return _Answer(response.status_code, answer, message,
                       code if isinstance(code, int) else None, _date(response))  # fmt: skip

    async def templates(self, account: str) -> tuple[dict[tuple[str, str], str], str | None]:
        """Each template's status by (name, language code), following the pages."""
        statuses: dict[tuple[str, str], str] = {}
        answer = await self.get(f"{account}/message_templates", fields="name,language,status",
                                limit=GRAPH_PAGE)  # fmt: skip
        while True:
            if not answer.ok:
                return statuses, answer.error
            for template in answer.result.get("data") or []:
                key = (str(template.get("name")), str(template.get("language")))
                statuses[key] = str(template.get("status", "")).upper()
            following = (answer.result.get("paging") or {}).get("next")
            if not following:
                return statuses, None
            answer = await self.get_url(str(following))


# -- small helpers ------------------------------------------------------------------------------


def _date(response: "httpx.Response") -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers["date"])
    except (KeyError, TypeError, ValueError):
        return None


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _existing(path: Path) -> Path:
    """The folder itself, or its nearest parent that exists (not created yet: where it
    will be)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _size(path: Path) -> int:
    """A file's size, or a folder's files' together (0 for what does not exist)."""
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def _mb(size: int) -> str:
    return f"{size / 1024**2:,.0f} MB"


def _seconds(delta: timedelta) -> str:
    return f"{abs(delta.total_seconds()):.0f} s"
