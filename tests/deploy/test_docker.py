"""deploy/docker: no Docker daemon runs where the tests run, so the compose files are read and
checked against what they point at (the Dockerfile, its health check, the volumes, the
services they wait for, Caddy's upstreams); `docker-compose config` and `caddy validate` check
them too where those tools are installed."""

import asyncio
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.fakes.graph_api import free_port
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for
from tests.fakes.workers import ROOT, Worker, telegram_environment

DOCKER = ROOT / "deploy" / "docker"
COMPOSE_FILES = ("compose.yml", "compose.postgres.yml")
# The files a person makes beside the compose files before `up` (each file's header says so).
MADE_BY_THE_INSTALLER = {"config.toml", "minga.env"}
ENVIRONMENT = {"POSTGRES_PASSWORD": "secret", "PUBLIC_DOMAIN": "minga.example.org"}


def compose(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCKER / name).read_text("utf-8"))
    return document


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined: (INSTRUCTION, arguments)."""
    text = re.sub(r"\\\n", " ", (DOCKER / "Dockerfile").read_text("utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def image_environment() -> dict[str, str]:
    pairs = {}
    for op, arguments in final_stage():
        if op == "ENV":
            pairs.update(re.findall(r"(\w+)=(\S+)", arguments))
    return pairs


def test_the_image_is_slim_python_311_run_by_a_user_with_a_health_check() -> None:
    instructions = dockerfile()
    assert all(args.startswith("python:3.11-slim") for op, args in instructions if op == "FROM")
    final = dict(final_stage())
    assert final["USER"] not in ("root", "0")
    assert "/healthz" not in final["HEALTHCHECK"]  # the script knows the path and the port
    [script] = re.findall(r"(/\S+\.py)", final["HEALTHCHECK"])
    copied = {args.split()[-1]: args.split()[0] for op, args in final_stage() if op == "COPY"}
    assert copied[script] == "deploy/docker/healthcheck.py"
    # The data folder is a volume, where config.example.toml's relative paths point.
    assert f"{final['WORKDIR']}/data" in final["VOLUME"]
    assert image_environment()["MINGA_CONFIG"] == "/etc/minga/config.toml"


def test_what_the_image_copies_exists_and_the_context_leaves_out_the_rest() -> None:
    for op, arguments in dockerfile():
        if op == "COPY" and not arguments.startswith("--from"):
            *sources, _ = arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".git", ".venv", "data", "config.toml"} <= set(ignored)


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_the_compose_files_refer_to_what_exists(name: str) -> None:
    document = compose(name)
    services, volumes = document["services"], set(document.get("volumes") or {})
    for service_name, service in services.items():
        assert "image" in service or "build" in service, service_name
        if "build" in service:
            context = (DOCKER / service["build"]["context"]).resolve()
            assert context == ROOT
            assert (context / service["build"]["dockerfile"]).is_file()
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists() or Path(source).name in MADE_BY_THE_INSTALLER
            else:
                assert source in volumes, f"{service_name}: volume {source} not declared"
        for env_file in [service["env_file"]] if "env_file" in service else []:
            assert env_file in MADE_BY_THE_INSTALLER
        for other, condition in _depends_on(service).items():
            assert other in services, f"{service_name} waits for {other}"
            if condition == "service_healthy":
                assert "healthcheck" in services[other]
            if condition == "service_completed_successfully":
                assert services[other]["restart"] == "no"
        # Logs are rotated by Docker's driver (stderr is Minga's only log).
        assert service["logging"]["options"]["max-size"]


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    waits = service.get("depends_on") or {}
    if isinstance(waits, list):
        return dict.fromkeys(waits, "service_started")
    return {other: spec["condition"] for other, spec in waits.items()}


def _minga_services(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run `minga run` (the image's default command)."""
    return {
        name: service
        for name, service in document["services"].items()
        if "build" in service and "command" not in service
    }


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_every_minga_keeps_its_data_in_a_volume_and_is_health_checked(name: str) -> None:
    workers = _minga_services(compose(name))
    assert workers
    for service in workers.values():
        assert service["healthcheck"]["test"][-1] == "/opt/minga/healthcheck.py"
        assert any(m.split(":")[1].startswith("/var/lib/minga/data") for m in service["volumes"])
        assert service["restart"] == "unless-stopped"


def test_postgres_workers_are_migrated_once_before_they_start_and_balanced_by_caddy() -> None:
    document = compose("compose.postgres.yml")
    services, workers = document["services"], _minga_services(document)
    assert len(workers) == 2
    assert services["migrate"]["command"] == ["db", "upgrade"]
    for service in workers.values():
        assert service["environment"]["MINGA_STORAGE__UPGRADE_AT_START"] == "false"
        assert service["environment"]["MINGA_STORAGE__DATABASE"].startswith("postgresql://")
        assert _depends_on(service) == {"migrate": "service_completed_successfully"}
    # Caddy's default upstreams are the workers, on the port the image listens on.
    caddyfile = (DOCKER / "Caddyfile").read_text("utf-8")
    [upstreams] = re.findall(r"reverse_proxy \{\$CADDY_UPSTREAMS:([^}]*)\}", caddyfile)
    port = image_environment()["MINGA_WEB__PORT"]
    assert set(upstreams.split()) == {f"{worker}:{port}" for worker in workers}
    assert re.search(r"^\s*health_uri /readyz$", caddyfile, re.MULTILINE)
    assert "/webhooks/*" in caddyfile
    caddy = services["caddy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]


def _installer_folder(tmp_path: Path) -> Path:
    """deploy/docker as a person prepares it: the compose files, config.toml and minga.env."""
    folder = tmp_path / "deploy" / "docker"
    shutil.copytree(DOCKER, folder)
    shutil.copy(ROOT / "config.example.toml", folder / "config.toml")
    (folder / "minga.env").write_text("MINGA_TELEGRAM__TOKEN=123:abc\n", "utf-8")
    return folder


@pytest.mark.skipif(
    not shutil.which("docker-compose"),
    reason="docker-compose is not installed: apt-get install docker-compose",
)
@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_docker_compose_accepts_the_files(name: str, tmp_path: Path) -> None:
    folder = _installer_folder(tmp_path)
    document = compose(name)
    # docker-compose 1.x (Debian's) predates the top-level `name` of Compose v2's files.
    assert document.pop("name").startswith("minga")
    (folder / name).write_text(yaml.safe_dump(document), "utf-8")
    result = subprocess.run(
        ["docker-compose", "-f", name, "config", "--quiet"], cwd=folder, capture_output=True,
        text=True, timeout=60, env={"PATH": "/usr/bin:/bin", **ENVIRONMENT},
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.skipif(
    not shutil.which("caddy"), reason="caddy is not installed: apt-get install caddy"
)
@pytest.mark.parametrize(
    "upstreams", [None, "127.0.0.1:8081 127.0.0.1:8082"], ids=["compose", "systemd"]
)
def test_caddy_validates_the_caddyfile(upstreams: str | None, tmp_path: Path) -> None:
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **ENVIRONMENT}
    if upstreams:
        environment["CADDY_UPSTREAMS"] = upstreams
    result = subprocess.run(
        ["caddy", "adapt", "--config", str(DOCKER / "Caddyfile"), "--validate"],
        capture_output=True, text=True, timeout=60, env=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    dials = re.findall(r'"dial":"([^"]+)"', result.stdout)
    expected = upstreams.split() if upstreams else ["minga-1:8080", "minga-2:8080"]
    assert dials == expected


@pytest.mark.skipif(
    not shutil.which("caddy"), reason="caddy is not installed: apt-get install caddy"
)
async def test_caddy_sends_traffic_only_to_a_worker_that_is_ready(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """The Caddyfile run for real on loopback: a ready worker, and one that answers every
    request 503 "not ready" (its database down). Caddy's health checks leave that one out:
    no request reaches it but the checks; /metrics is never forwarded."""
    live, front = free_port(), free_port()
    seen: list[str] = []  # the request lines the worker that is not ready received

    async def not_ready(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.split(b"\r\n")[0].decode())
        body = b"not ready: database unreachable (stub)\n"
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))  # fmt: skip
        await writer.drain()
        writer.close()

    stub = await asyncio.start_server(not_ready, "127.0.0.1", 0)
    dead = stub.sockets[0].getsockname()[1]
    environment = telegram_environment(api, tmp_path, MINGA_WEB__PORT=str(live))
    worker = await Worker(environment, tmp_path, tmp_path / "minga.log").start()
    # The same file with Caddy's admin endpoint off, so that it needs no port of its own.
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text("{\n\tadmin off\n}\n" + (DOCKER / "Caddyfile").read_text("utf-8"))
    caddy_environment = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path), "PUBLIC_DOMAIN": f"http://127.0.0.1:{front}",
        "CADDY_UPSTREAMS": f"127.0.0.1:{live} 127.0.0.1:{dead}",
    }  # fmt: skip
    with (tmp_path / "caddy.log").open("wb") as log:
        caddy = await asyncio.create_subprocess_exec(
            "caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile",
            env=caddy_environment, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        await worker.ready()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{front}", timeout=10) as client:

            async def through_caddy() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False  # Caddy not listening yet

            await wait_for(through_caddy, 30, every=0.1)
            await wait_for(lambda: bool(seen), 30)  # Caddy has checked the other one
            answers = [await client.get("/readyz") for _ in range(6)]
            assert [a.text for a in answers] == ["ready\n"] * 6
            assert (await client.get("/healthz")).json()["ok"]
            assert (await client.get("/metrics")).status_code == 404
        assert set(seen) == {"GET /readyz HTTP/1.1"}  # the health checks, nothing else
    finally:
        caddy.terminate()
        await caddy.wait()
        stub.close()
        assert await worker.stop() == 0
