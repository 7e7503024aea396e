"""Configuration: a TOML file (or the built-in example settings), then MINGA_* environment
variables on top, so that secrets such as the Telegram token never need to be in a file."""

import json
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from handlers.engine.settings import (
    EventSettings,
    FloodSettings,
    FlowSettings,
    IntakeSettings,
    LabSettings,
    RetentionSettings,
    SimilarSettings,
    StaffSettings,
)
from storage.postgres import is_postgres_url, without_password

CONFIG_ENV = "MINGA_CONFIG"
DEFAULT_CONFIG = Path("config.toml")
# Written through a Path, "postgresql://" reads "postgresql:/".


class ConfigError(Exception):
    """A setting that is missing or wrong; the message names it and is shown as it is."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageSettings(_Section):
    # A SQLite file, or a PostgreSQL server's postgresql:// URL (kept as text: a Path would
    # fold its "//").
    database: Path | str = Path("data/minga.sqlite3")
    # PostgreSQL only: false behind PgBouncer in transaction mode, where a statement prepared
    # on one server connection is not there on the next.
    prepared_statements: bool = True
    media_dir: Path = Path("data/media")
    # Where media_dir is published on the web, if it is (Open311 exports link photos there).
    media_url: str | None = None
    # `minga run` (and the other commands) apply pending migrations themselves; false: they
    # refuse to start until `minga db upgrade` has run (several workers on one database).
    upgrade_at_start: bool = True

    @property
    def upgrades_at_start(self) -> bool:
        """Whether opening the database applies pending migrations: on a SQLite file, as
        `upgrade_at_start` says; never on PostgreSQL, which several workers share."""
        return self.upgrade_at_start and not is_postgres_url(self.database)

    @field_validator("database", mode="before")
    @classmethod
    def _file_or_url(cls, value: object) -> object:
        """A postgresql:// URL stays text; anything else is a SQLite file's path."""
        if isinstance(value, str) and not is_postgres_url(value):
            return Path(value)
        return value

    @property
    def shown_database(self) -> str:
        """The database as it may be printed: a URL's password hidden."""
        return without_password(str(self.database))


class TelegramSettings(_Section):
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout_seconds: int = Field(30, ge=0, le=50)
    # Pause after a getUpdates that brought updates, so that a busy bot fetches them in
    # batches instead of one by one (each poll costs as much CPU as sending a reply).
    poll_interval_seconds: float = Field(0.01, ge=0, le=1)
    # Bot API calls in flight at once, and the HTTP connections kept open for them.
    max_connections: int = Field(16, ge=1, le=256)
    # The bot's @username, for event links (`minga events link`). Unset: asked from Telegram.
    bot_username: str | None = None
    # Telegram's limit. Every message counts, replies included (they go first); the pacer
    # keeps RATE_MARGIN under it in any one second. The bound is far above Telegram's own
    # for a local Bot API server without flood control (the benchmarks' fake: there the pace
    # must not bind, and one worker sends more than 1,000 replies a second).
    max_messages_per_second: float = Field(30, gt=0, le=100_000)
    # Bulk messages (broadcasts, reminders) to one chat at most one per this many seconds.
    bulk_seconds_per_chat: float = Field(1.0, ge=0, le=60)
    # Paid broadcasts (allow_paid_broadcast, charged in Telegram Stars) lift bulk sending to
    # paid_messages_per_second; replies keep the free pace.
    paid_broadcast: bool = False
    paid_messages_per_second: float = Field(1000, gt=0, le=1000)
    # A message that meets a server error or a time-out is tried this many times in all,
    # pausing retry_backoff_seconds, then twice as long each time.
    send_attempts: int = Field(5, ge=1, le=20)
    retry_backoff_seconds: float = Field(1.0, ge=0, le=60)
    # "polling": the bot asks Telegram for updates (works anywhere, the default). "webhook":
    # Telegram posts them to webhook_url, served by Minga's web server ([web]) behind a proxy.
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None  # e.g. https://minga.example.org/webhooks/telegram
    # Sent by Telegram with every update (X-Telegram-Bot-Api-Secret-Token); 1-256 characters
    # of A-Z, a-z, 0-9, _ and -. Better from MINGA_TELEGRAM__WEBHOOK_SECRET.
    webhook_secret: SecretStr | None = None

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value)

    @field_validator("webhook_url")
    @classmethod
    def _public_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must start with https:// (Telegram only posts to HTTPS)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        secret = value.get_secret_value()
        if len(secret) > 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> "TelegramSettings":
        if self.mode == "webhook" and (self.webhook_url is None or self.webhook_secret is None):
            raise ValueError(
                'mode = "webhook" needs telegram.webhook_url and telegram.webhook_secret'
            )
        return self

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        bot_id, _, secret = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or len(secret) < 20:
            raise ValueError("does not look like a BotFather token (123456:ABC-...)")
        return value


def web_address(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must start with https:// (or http:// for a local server)")
    return value.rstrip("/")


class WebSettings(_Section):
    """Minga's own web server: the webhooks, /healthz and /readyz. It runs whenever `minga run`
    does; put a reverse proxy with HTTPS in front of it for the webhooks."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class MetricsSettings(_Section):
    """/metrics in Prometheus' text format: off unless enabled, and then either on a server of
    its own (`port`, on `host`) or on [web]'s server behind `bearer_token` (or both)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    # A server of its own for /metrics (0: any free port); unset: [web]'s server.
    port: int | None = Field(None, ge=0, le=65535)
    # Required on [web]'s server: scrapers send `Authorization: Bearer <token>`.
    bearer_token: SecretStr | None = None

    @model_validator(mode="after")
    def _guarded(self) -> "MetricsSettings":
        if self.enabled and self.port is None and self.bearer_token is None:
            raise ValueError(
                "[metrics] is enabled on the web server without a bearer_token: set "
                "bearer_token (MINGA_METRICS__BEARER_TOKEN), or a port of its own for /metrics"
            )
        return self

    @property
    def own_server(self) -> bool:
        return self.enabled and self.port is not None


class AlertSettings(_Section):
    """Alerts to the staff group, once when a condition starts and once when it is over
    (checked every `check_seconds` by the worker that runs the scheduler)."""

    enabled: bool = True
    check_seconds: float = Field(60, ge=5, le=3600)
    # A platform (Telegram, WhatsApp) unreachable for longer than this.
    unreachable_minutes: float = Field(5, gt=0)
    # Messages waiting to be sent, more at every check (or no fewer), for this long.
    backlog_minutes: float = Field(15, gt=0)
    # A broadcast with messages left that has sent none for this long.
    broadcast_stalled_minutes: float = Field(15, gt=0)
    # The data folder's disk with less than this share free (percent).
    disk_free_percent: float = Field(10, gt=0, lt=100)
    # More errors than this a minute, over the last `error_window_minutes`.
    errors_per_minute: float = Field(5, gt=0)
    error_window_minutes: float = Field(5, gt=0)


class WorkersSettings(_Section):
    """Several `minga run` on one database: what one of them at a time does is held by a
    lease (bot/leases.py) that expires this many seconds after its holder last renewed it."""

    lease_seconds: float = Field(30, ge=1, le=600)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


class TemplateRef(_Section):
    """An approved WhatsApp message template: its name, and its language code at Meta when
    it is not the resident's language as Minga names it ("es_MX" for "es")."""

    name: str = Field(min_length=1, max_length=512)
    language: str | None = None


class WhatsAppSettings(_Section):
    phone_number_id: str | None = None
    # Secrets: better from MINGA_WHATSAPP__ACCESS_TOKEN and MINGA_WHATSAPP__APP_SECRET.
    access_token: SecretStr | None = None
    app_secret: SecretStr | None = None
    # Any string you choose, typed again in Meta's webhook settings (checked on verification).
    verify_token: SecretStr | None = None
    api_version: str = "v25.0"
    base_url: str = "https://graph.facebook.com"
    # The WhatsApp Business Account that owns the templates: `minga doctor` checks each one
    # named in `templates` is approved. Unset: that check fails when templates are named.
    business_account_id: str | None = None
    # Outside the 24-hour window only approved templates may be sent, one per purpose and
    # language: [whatsapp.templates.reminder] es = "minga_recordatorio" (README lists the
    # purposes and their parameters). A purpose without one is skipped there, with the reason.
    templates: dict[str, dict[str, TemplateRef]] = Field(default_factory=dict)
    max_messages_per_second: float = Field(80, gt=0, le=1000)
    # Bulk messages to one resident at most one per this many seconds (Meta's pair rate).
    bulk_seconds_per_chat: float = Field(6.0, ge=0, le=600)
    send_attempts: int = Field(5, ge=1, le=20)
    retry_backoff_seconds: float = Field(1.0, ge=0, le=60)
    # After Meta restricts the number (368) or refuses the token (190): bulk sending stops
    # this long, the staff group is told, then it is tried again.
    halt_minutes: float = Field(60, gt=0, le=24 * 60)

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value)

    @field_validator("templates", mode="before")
    @classmethod
    def _template_names(cls, value: object) -> object:
        """`es = "name"` is short for `es = { name = "name" }`."""
        if not isinstance(value, dict):
            return value
        return {
            purpose: {
                language: {"name": ref} if isinstance(ref, str) else ref
                for language, ref in (by_language or {}).items()
            }
            if isinstance(by_language, dict)
            else by_language
            for purpose, by_language in value.items()
        }

    @field_validator("access_token", "app_secret", "verify_token")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @property
    def enabled(self) -> bool:
        return self.phone_number_id is not None

    @model_validator(mode="after")
    def _complete(self) -> "WhatsAppSettings":
        if self.enabled:
            missing = [name for name in ("access_token", "app_secret", "verify_token")
                       if getattr(self, name) is None]  # fmt: skip
            if missing:
                raise ValueError(
                    "phone_number_id is set, so WhatsApp needs "
                    + ", ".join(f"whatsapp.{name}" for name in missing)
                    + " too (secrets from MINGA_WHATSAPP__ACCESS_TOKEN, "
                    "MINGA_WHATSAPP__APP_SECRET, MINGA_WHATSAPP__VERIFY_TOKEN)"
                )
        return self


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "plain": a line of text per record; "json": one JSON object a line, for a collector.
    format: Literal["plain", "json"] = "plain"


_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class BackupSettings(_Section):
    """Backups (`minga db backup`, and a daily one by `minga run` when `time` is set)."""

    # Where backups go; unset: `minga db backup` writes in the current folder.
    folder: Path | None = None
    # "HH:MM" in the lab's time zone: a daily backup into `folder`; unset: none.
    time: str | None = None
    # How many dated backups the folder keeps (and none older than this many days).
    keep: int = Field(7, ge=1, le=366)

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _HH_MM.match(value.strip()):
            raise ValueError('use a 24-hour time like "03:00"')
        return value.strip()

    @model_validator(mode="after")
    def _folder_for_daily(self) -> "BackupSettings":
        if self.time is not None and self.folder is None:
            raise ValueError("a daily backup (time) needs a folder: set [backup] folder too")
        return self

    @property
    def clock(self) -> tuple[int, int] | None:
        """The daily backup's hour and minute, or None when there is none."""
        match = _HH_MM.match(self.time or "")
        return (int(match[1]), int(match[2])) if match else None


_SEQUENCES = (list, tuple, set, frozenset)
_PLAIN_ITEMS = (str, int, float)


def list_items(field: FieldInfo | None) -> bool:
    """A list of plain values (ids, names, durations): these may be written without JSON."""
    if field is None or get_origin(field.annotation) not in _SEQUENCES:
        return False
    return all(arg is Ellipsis or arg in _PLAIN_ITEMS for arg in get_args(field.annotation))


def split_list(value: str) -> list[Any]:
    """A list from an environment variable: JSON (`[1, 2]`), or one value or several separated
    by commas (`12345`, `12345,67890`), as a person would first write it."""
    text = value.strip()
    if text.startswith("["):
        decoded = json.loads(text)  # a broken JSON list is an error, not one odd value
        if isinstance(decoded, list):
            return decoded
    return [item.strip() for item in text.split(",") if item.strip()]


def _variable(field_name: str, value: object) -> str:
    """The MINGA_* variable that held this value, to name it in an error."""
    suffix = f"__{field_name}".upper()
    names = [name for name, held in os.environ.items()
             if name.upper().startswith("MINGA_") and name.upper().endswith(suffix)
             and held == value]  # fmt: skip
    return names[0] if names else f"MINGA_...{suffix}"


class _EnvSource(EnvSettingsSource):
    """MINGA_* variables; every list of plain values also takes `a` and `a,b` (not only JSON)."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            if isinstance(value, str) and list_items(field):
                return split_list(value)
            return super().decode_complex_value(field_name, field, value)
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"environment variable {_variable(field_name, value)}: not valid JSON ({error}); "
                'a list of names or ids may be written a,b or as JSON ["a", "b"]; a list '
                "of tables or a table needs JSON (better: put it in the config file)"
            ) from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MINGA_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    lab: LabSettings = LabSettings()
    intake: IntakeSettings = IntakeSettings()
    storage: StorageSettings = StorageSettings()
    telegram: TelegramSettings = TelegramSettings()
    events: EventSettings = EventSettings()
    staff: StaffSettings = StaffSettings()
    web: WebSettings = WebSettings()
    workers: WorkersSettings = WorkersSettings()
    whatsapp: WhatsAppSettings = WhatsAppSettings()
    log: LogSettings = LogSettings()
    metrics: MetricsSettings = MetricsSettings()
    alerts: AlertSettings = AlertSettings()
    flood: FloodSettings = FloodSettings()
    retention: RetentionSettings = RetentionSettings()
    backup: BackupSettings = BackupSettings()
    similar: SimilarSettings = SimilarSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file: a token in MINGA_TELEGRAM__TOKEN beats the file.
        return (_EnvSource(settings_cls), init_settings)

    @property
    def flow(self) -> FlowSettings:
        return FlowSettings(
            lab=self.lab, intake=self.intake, events=self.events, staff=self.staff,
            flood=self.flood, retention=self.retention, similar=self.similar,
        )  # fmt: skip


def config_path(explicit: str | None) -> Path | None:
    """--config, else $MINGA_CONFIG, else ./config.toml if present, else None (built-in)."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "is not a known setting (see config.example.toml)"
        lines.append(f"setting {location} in {source}: {message}")
    return "\n".join(lines)


def _known_variables() -> set[str]:
    names = {CONFIG_ENV}
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        names.update(f"MINGA_{section}__{name}".upper() for name in model.model_fields)
    return names


def _check_environment() -> None:
    """A mistyped MINGA_ variable would be ignored in silence; say so instead."""
    known = _known_variables()
    for name in sorted(os.environ):
        if name.startswith("MINGA_") and name.upper() not in known:
            section, _, rest = name.removeprefix("MINGA_").partition("_")
            hint = f"MINGA_{section}__{rest}".upper()
            advice = f"; did you mean {hint}?" if hint in known else ""
            raise ConfigError(f"environment variable {name} is not a known setting{advice}")


def load_settings(path: Path | None) -> Settings:
    """Read and check the settings; any problem raises ConfigError naming the setting."""
    _check_environment()
    values = _read_toml(path) if path is not None else {}
    source = str(path) if path is not None else "the built-in example settings"
    try:
        return Settings(**values)
    except ValidationError as error:
        raise ConfigError(_describe(error, f"{source} or MINGA_* variables")) from None
    except SettingsError as error:  # pydantic-settings' own, should one slip through
        raise ConfigError(f"MINGA_* variables: {error}") from None
