"""deploy/systemd: the units pass `systemd-analyze verify`, keep secrets out of themselves, are
hardened, and the environment they give `minga run` (its folder, config and secrets file) runs
it, as does the administrators' `minga` wrapper."""

import asyncio
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.graph_api import free_port
from tests.fakes.telegram_api import TOKEN, FakeBotApi
from tests.fakes.workers import ROOT, Worker, minga

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = ("minga.service", "minga@.service")
VENV_MINGA = Path(sys.executable).parent / "minga"


def unit(name: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file's sections: (key, value) in order (keys such as Environment repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in (SYSTEMD / name).read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        else:
            key, _, value = line.partition("=")
            current.append((key, value))
    return sections


def values(name: str, section: str, key: str) -> list[str]:
    return [v for k, v in unit(name)[section] if k == key]


def environment_file(path: Path) -> dict[str, str]:
    """KEY='value' lines as systemd's EnvironmentFile reads them (comments skipped)."""
    pairs = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip().strip("'\"")
    return pairs


@pytest.mark.skipif(
    not shutil.which("systemd-analyze"),
    reason="systemd-analyze is not installed: apt-get install systemd",
)
@pytest.mark.parametrize("name", UNITS)
def test_the_units_pass_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    # verify checks that ExecStart exists: this test's own `minga` stands in for /opt/minga's.
    text = (SYSTEMD / name).read_text("utf-8").replace("/opt/minga/venv/bin/minga", str(VENV_MINGA))
    target = tmp_path / name.replace("@.", "@8081.")  # a template is verified as an instance
    target.write_text(text, "utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(target)], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stderr) == (0, "")
    # systemd's own rating of the sandbox, 0 (tight) to 10: at most 2 ("OK"; a unit without
    # hardening scores 9.6). --threshold is in tenths of a point.
    exposure = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(target)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert exposure.returncode == 0, exposure.stdout[-300:]


@pytest.mark.parametrize("name", UNITS)
def test_the_units_run_minga_hardened_with_secrets_from_a_file(name: str) -> None:
    service = dict(unit(name)["Service"])
    assert service["User"] == "minga" and service["ExecStart"].endswith("/bin/minga run")
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/minga/minga.env"
    # The data folder is the state directory, and the only place it may write.
    assert service["WorkingDirectory"] == f"/var/lib/{service['StateDirectory']}"
    assert service["ReadWritePaths"] == service["WorkingDirectory"]
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == service["PrivateTmp"] == "true"
    assert "MINGA_CONFIG=/etc/minga/config.toml" in values(name, "Service", "Environment")
    # No secret is set in the unit itself (units are world-readable).
    example = (SYSTEMD / "minga.env.example").read_text("utf-8")
    secrets = set(re.findall(r"^#?(MINGA_\w+)=", example, re.MULTILINE))
    assert {"MINGA_TELEGRAM__TOKEN", "MINGA_WHATSAPP__APP_SECRET"} <= secrets
    for line in values(name, "Service", "Environment"):
        assert line.partition("=")[0] not in secrets


def test_the_template_gives_each_worker_its_port_and_never_migrates_at_start() -> None:
    environment = values("minga@.service", "Service", "Environment")
    assert "MINGA_WEB__PORT=%i" in environment
    assert "MINGA_STORAGE__UPGRADE_AT_START=false" in environment


def _unit_environment(
    api: FakeBotApi, config: Path, name: str = "minga.service", instance: str = ""
) -> dict[str, str]:
    """What systemd gives `minga run`: the unit's Environment= lines (%i: the instance) and
    the secrets file (the example's, its token pointed at the fake Bot API), nothing of this
    test's MINGA_*."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    for line in values(name, "Service", "Environment"):
        key, _, value = line.replace("%i", instance).partition("=")
        environment[key] = value
    environment.update(environment_file(SYSTEMD / "minga.env.example"))
    environment.update(
        MINGA_CONFIG=str(config),  # /etc/minga/config.toml, copied from config.example.toml
        MINGA_TELEGRAM__TOKEN=TOKEN,
        MINGA_TELEGRAM__BASE_URL=api.base_url,
        MINGA_TELEGRAM__BASE_FILE_URL=api.base_file_url,
        PYTHONPATH=str(ROOT),
    )
    environment.setdefault("MINGA_WEB__PORT", str(free_port()))  # the template sets its own
    return environment


async def test_minga_runs_in_the_units_environment_with_the_example_config(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """The install steps of the README: config.toml from config.example.toml, the secrets
    file, `minga run` in the state directory; the database lands in it, owner-only, and the
    container's health check sees the process healthy, then not once it has stopped."""
    config = tmp_path / "config.toml"
    shutil.copy(ROOT / "config.example.toml", config)
    state = tmp_path / "var-lib-minga"  # WorkingDirectory= (StateDirectory=minga)
    state.mkdir(mode=0o700)
    environment = _unit_environment(api, config)
    worker = await Worker(environment, state, tmp_path / "minga.log").start()
    healthcheck = [sys.executable, str(ROOT / "deploy" / "docker" / "healthcheck.py")]
    try:
        await worker.ready()
        assert await _status(healthcheck, environment) == 0
    finally:
        assert await worker.stop() == 0
    database = state / "data" / "minga.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert await _status(healthcheck, environment) == 1  # nothing listening: unhealthy


async def _status(command: list[str], environment: dict[str, str]) -> int:
    process = await asyncio.create_subprocess_exec(
        *command, env=environment, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(process.wait(), 30)


def test_the_admin_wrapper_runs_commands_as_the_service_does(tmp_path: Path) -> None:
    """`sudo minga db upgrade` (deploy/systemd/minga): the service's folder, config and
    secrets file; here as the current user, standing in for the user minga."""
    config = tmp_path / "config.toml"
    shutil.copy(ROOT / "config.example.toml", config)
    secrets = tmp_path / "minga.env"
    secrets.write_text(f"MINGA_CONFIG='{config}'\nMINGA_LAB__NAME='Laboratorio de prueba'\n")
    home = tmp_path / "home"
    home.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment.update(
        MINGA_HOME=str(home), MINGA_VENV=str(Path(sys.executable).parent.parent),
        MINGA_ENV_FILE=str(secrets), MINGA_USER=pwd.getpwuid(os.getuid()).pw_name,
    )  # fmt: skip
    result = subprocess.run(
        [str(SYSTEMD / "minga"), "db", "upgrade"], env=environment, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert stat.S_IMODE((home / "data" / "minga.sqlite3").stat().st_mode) == 0o600


async def test_two_template_workers_share_one_database_after_minga_db_upgrade(
    api: FakeBotApi, tmp_path: Path, database_target: str | Path
) -> None:
    """minga@.service twice (PostgreSQL under `make test-postgres`): `minga db upgrade` once,
    then each instance listens on the port its name gives and is ready on the one database."""
    config = tmp_path / "config.toml"
    shutil.copy(ROOT / "config.example.toml", config)
    ports = [str(free_port()), str(free_port())]
    workers = []
    for port in ports:
        environment = _unit_environment(api, config, "minga@.service", port)
        assert environment["MINGA_WEB__PORT"] == port
        environment["MINGA_STORAGE__DATABASE"] = str(database_target)
        workers.append(Worker(environment, tmp_path, tmp_path / f"minga@{port}.log"))
    upgraded = await minga("db", "upgrade", environment=workers[0].environment, cwd=tmp_path)
    assert upgraded == (0, "")
    for worker in workers:
        await worker.start()
    try:
        for worker in workers:
            await worker.ready()
            health = await worker.get("/healthz")
            assert health is not None and health.json()["ok"]
    finally:
        for worker in workers:
            assert await worker.stop() == 0
