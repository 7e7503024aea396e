"""`python -m bench doctor`: how long `minga doctor` takes against the fake platforms, every
check passing (the command as an installer runs it: a fresh process, so Python's start-up and
Minga's imports count), with a few staff ids and WhatsApp templates to check."""

import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import ROOT
from bench.report import save
from bot.cli.doctor import diagnose
from storage.database import Database
from tests.fakes.graph_api import (
    ACCESS_TOKEN,
    API_VERSION,
    APP_SECRET,
    BUSINESS_ACCOUNT_ID,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraphApi,
)
from tests.fakes.telegram_api import TOKEN, FakeBotApi

STAFF = [1001, 1002, 1003, 1004, 1005]
GROUP = -100777
TEMPLATES = ("reminder", "invitation", "broadcast", "event_update", "idea_update")


def _config(folder: Path, api: FakeBotApi, graph: FakeGraphApi) -> Path:
    """An installation on which every check passes (the tests' `ready`, in TOML)."""
    templates = "\n".join(f'{purpose} = {{ es = "minga_{purpose}_es", en = "minga_{purpose}_en" }}'
                          for purpose in TEMPLATES)  # fmt: skip
    text = f"""[lab]
name = "Laboratorio de Prueba"
privacy_policy_url = "https://lab.example.org/privacidad"
[storage]
database = "{folder / "minga.sqlite3"}"
media_dir = "{folder / "media"}"
[telegram]
token = "{TOKEN}"
base_url = "{api.base_url}"
bot_username = "minga_test_bot"
[staff]
telegram_ids = {STAFF}
group_chat_id = {GROUP}
[whatsapp]
phone_number_id = "{PHONE_NUMBER_ID}"
access_token = "{ACCESS_TOKEN}"
app_secret = "{APP_SECRET}"
verify_token = "{VERIFY_TOKEN}"
api_version = "{API_VERSION}"
base_url = "{graph.base_url}"
business_account_id = "{BUSINESS_ACCOUNT_ID}"
[whatsapp.templates]
{templates}
"""
    path = folder / "config.toml"
    path.write_text(text, "utf-8")
    return path


async def _measure(runs: int) -> dict[str, Any]:
    api, graph = FakeBotApi(), FakeGraphApi()
    await api.start()
    await graph.start()
    for staff in STAFF:
        api.knows(staff)
    api.group(GROUP)
    graph.templates = [{"name": f"minga_{purpose}_{language}", "language": language,
                        "status": "APPROVED"}
                       for purpose in TEMPLATES for language in ("es", "en")]  # fmt: skip
    times, cpu, checking, statuses = [], [], [], []
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            await (await Database.open(folder / "minga.sqlite3")).close()
            (folder / "media").mkdir(mode=0o700)
            config = _config(folder, api, graph)
            environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
            for _ in range(runs):
                used = _children_cpu()
                started = time.perf_counter()
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "doctor", "--json", "--config", str(config),
                    cwd=ROOT, env=environment, stdout=asyncio.subprocess.PIPE,
                )  # fmt: skip
                out, _ = await process.communicate()
                times.append(time.perf_counter() - started)
                cpu.append(_children_cpu() - used)
                statuses.append(process.returncode)
                report = json.loads(out)
            for _ in range(runs):  # the checks alone, without Python's start and the imports
                started = time.perf_counter()
                await diagnose(str(config))
                checking.append(time.perf_counter() - started)
    finally:
        await api.stop()
        await graph.stop()
    failed = [c["name"] for c in report["checks"] if c["status"] != "ok"]
    return {"seconds": times, "cpu_seconds": cpu, "checks_seconds": checking,
            "exit_statuses": statuses, "not_ok": failed,
            "checks": len(report["checks"])}  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(runs: int = 5) -> dict[str, Any]:
    result = asyncio.run(_measure(runs))
    times = result["seconds"]
    rows = [[runs, result["checks"], round(statistics.median(times), 2), round(max(times), 2),
             round(statistics.median(result["cpu_seconds"]), 2),
             round(statistics.median(result["checks_seconds"]), 3),
             "all ok" if not result["not_ok"] else ", ".join(result["not_ok"])]]  # fmt: skip
    save(
        "doctor",
        "minga doctor against the fake platforms (a fresh process each run, 5 staff ids, "
        "10 WhatsApp templates)",
        ["runs", "checks", "median s", "max s", "CPU s", "checks alone s", "result"],
        rows, result,
    )  # fmt: skip
    return result
