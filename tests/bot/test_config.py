"""Configuration: the example file is the defaults, env wins, and errors name the setting."""

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import ConfigError, Settings, config_path, list_items, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_file_is_exactly_the_built_in_settings() -> None:
    assert load_settings(ROOT / "config.example.toml") == Settings()


def _sections() -> dict[str, type[BaseModel]]:
    """Each [section] of the settings and its model."""
    sections = {}
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel), section
        sections[section] = model
    return sections


def test_every_setting_is_documented_in_the_example_file() -> None:
    example = (ROOT / "config.example.toml").read_text("utf-8")
    for section, model in _sections().items():
        assert f"[{section}]" in example, section
        for name in model.model_fields:
            written = (f"{name} =", f"[[{section}.{name}]]", f"[{section}.{name}]")
            assert any(form in example for form in written), f"{section}.{name}"


def test_the_example_files_pointers_to_the_readme_name_its_headings() -> None:
    """`(README, "Connect WhatsApp")`: the section the installer is sent to exists."""
    example = " ".join((ROOT / "config.example.toml").read_text("utf-8").split("\n#"))
    readme = (ROOT / "README.md").read_text("utf-8")
    headings = re.findall(r"^#+\s+(.+?)\s*$", readme, flags=re.MULTILINE)
    named = re.findall(r'README, "([^"]+)"', example) + re.findall(r'"([^"]+)" \(README', example)
    assert named
    for name in named:
        name = " ".join(name.split())
        assert any(h.startswith(name) for h in headings), f"README has no heading {name!r}"


def test_the_environment_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[telegram]\npoll_timeout_seconds = 5\n[lab]\nname = "Lab Uno"\n', "utf-8")
    monkeypatch.setenv("MINGA_TELEGRAM__TOKEN", "123456:" + "A" * 30)
    monkeypatch.setenv("MINGA_LAB__NAME", "Lab Dos")
    settings = load_settings(path)
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123456:" + "A" * 30
    assert settings.telegram.poll_timeout_seconds == 5
    assert settings.lab.name == "Lab Dos"


def test_the_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINGA_TELEGRAM__TOKEN", "123456:" + "S" * 30)
    assert "SSSS" not in repr(load_settings(None))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[lab]\ntimezone = "America/Bogata"\n', "setting lab.timezone in .*unknown time zone"),
        ('[lab]\nreference_prefix = "mng"\n', "setting lab.reference_prefix"),
        ("[intake]\nmax_photos = -1\n", "setting intake.max_photos"),
        ('[lab]\nnmae = "x"\n', "setting lab.nmae .*is not a known setting"),
        ('[telegram]\ntoken = "not-a-token"\n', "setting telegram.token .*BotFather"),
        ('[[lab.categories]]\nid = "Con Espacios"\nes = "a"\nen = "b"\n', "lab.categories.0.id"),
        ("[lab\n", "is not valid TOML"),
        ('[backup]\ntime = "03:00"\n', "setting backup.*needs a folder"),
        ('[backup]\nfolder = "b"\ntime = "3 am"\n', "setting backup.time"),
        ("[backup]\nkeep = 0\n", "setting backup.keep"),
    ],
)
def test_a_wrong_setting_is_named_in_one_line(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml, "utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(path)
    assert len(str(caught.value).splitlines()) == 1


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.toml"):
        load_settings(tmp_path / "nope.toml")


def test_a_mistyped_variable_gets_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINGA_TELEGRAM_TOKEN", "x")
    with pytest.raises(ConfigError, match="did you mean MINGA_TELEGRAM__TOKEN"):
        load_settings(None)


def test_where_the_settings_come_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert config_path(None) is None
    (tmp_path / "config.toml").write_text("", "utf-8")
    assert config_path(None) == Path("config.toml")
    monkeypatch.setenv("MINGA_CONFIG", "/etc/minga.toml")
    assert config_path(None) == Path("/etc/minga.toml")
    assert config_path("mine.toml") == Path("mine.toml")


# Two values each, as a lab would write them, for every list of plain values in the settings.
LIST_SAMPLES = {
    "staff.telegram_ids": ("12345", "67890"),
    "staff.console_users": ("ana", "luis"),
    "lab.neighbourhoods": ("La Flora", "Danubio"),
    "events.reminder_offsets": ("3h", "1d"),
}


def _plain_lists() -> list[str]:
    return [f"{section}.{name}"
            for section, model in _sections().items()
            for name, inner in model.model_fields.items()
            if list_items(inner)]  # fmt: skip


def test_every_list_setting_is_tried_from_the_environment() -> None:
    assert sorted(_plain_lists()) == sorted(LIST_SAMPLES)  # a new list setting: add it above


@pytest.mark.parametrize("setting", sorted(LIST_SAMPLES))
@pytest.mark.parametrize("form", ["one", "commas", "commas and spaces", "json"])
def test_a_list_setting_takes_one_value_commas_or_json(
    setting: str, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = LIST_SAMPLES[setting]
    written, expected = {
        "one": (first, [first]),
        "commas": (f"{first},{second}", [first, second]),
        "commas and spaces": (f" {first} , {second} ", [first, second]),
        "json": (f'["{first}", "{second}"]', [first, second]),
    }[form]
    section, name = setting.split(".")
    monkeypatch.setenv(f"MINGA_{section}__{name}".upper(), written)
    held = getattr(getattr(load_settings(None), section), name)
    assert [str(value) for value in held] == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MINGA_STAFF__TELEGRAM_IDS", "[1,"), ("MINGA_LAB__CATEGORIES", "mobility"),
     ("MINGA_WHATSAPP__TEMPLATES", "reminder")],
)  # fmt: skip
def test_a_list_that_is_not_readable_is_named_in_one_line(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert variable in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_lists_of_tables_still_take_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINGA_LAB__CATEGORIES", '[{"id": "agua", "es": "Agua", "en": "Water"}]')
    monkeypatch.setenv("MINGA_WHATSAPP__TEMPLATES", '{"reminder": {"es": "minga_rec"}}')
    settings = load_settings(None)
    assert [c.id for c in settings.lab.categories] == ["agua"]
    assert settings.whatsapp.templates["reminder"]["es"].name == "minga_rec"
