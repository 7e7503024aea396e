"""Every MINGA_* variable the deployment files give Minga is a setting it knows, with a value it
accepts: Minga refuses an unknown one at start, so a misspelt or foreign variable in a unit,
the secrets file, the image or a compose file would keep it from starting at all."""

import re

import pytest

from bot.config import load_settings
from tests.deploy.test_docker import compose, image_environment
from tests.deploy.test_systemd import SYSTEMD, values
from tests.fakes.workers import ROOT


def _units(name: str) -> dict[str, str]:
    lines = values(name, "Service", "Environment")
    return dict(line.replace("%i", "8081").split("=", 1) for line in lines)


def _secrets_file() -> dict[str, str]:
    """Every variable minga.env.example names, the commented ones too, with a sample value."""
    example = (SYSTEMD / "minga.env.example").read_text("utf-8")
    found = re.findall(r"^#?(MINGA_\w+)='(.*)'", example, re.MULTILINE)
    samples = {
        "MINGA_TELEGRAM__TOKEN": "123456789:" + "A" * 35,
        "MINGA_STORAGE__DATABASE": "postgresql://minga:secret@localhost/minga",
    }
    return {name: value or samples.get(name, "sample-secret") for name, value in found}


def _compose(name: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for service in compose(name)["services"].values():
        if "build" in service:
            found.update(service.get("environment") or {})
    # Compose fills ${VAR:?message} from .env before Minga sees it.
    return {k: re.sub(r"\$\{\w+:\?[^}]*\}", "secret", v) for k, v in found.items()}


SOURCES = {
    "minga.service": lambda: _units("minga.service"),
    "minga@.service": lambda: _units("minga@.service"),
    "minga.env.example": _secrets_file,
    "Dockerfile": image_environment,
    "compose.yml": lambda: _compose("compose.yml"),
    "compose.postgres.yml": lambda: _compose("compose.postgres.yml"),
}


@pytest.mark.parametrize("source", SOURCES)
def test_minga_accepts_every_variable_the_deployment_sets(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = {k: v for k, v in SOURCES[source]().items() if k.startswith("MINGA_")}
    assert variables or source == "compose.yml"
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MINGA_CONFIG", raising=False)  # a path on the target machine
    load_settings(ROOT / "config.example.toml")  # raises ConfigError naming a bad one
