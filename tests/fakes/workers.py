"""`minga run` as real processes, as an operator starts several workers: each with its own
environment, against the fake platforms served by the test's own event loop (so the process
is awaited, never waited for in a blocking call)."""

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.fakes.telegram_api import TOKEN, FakeBotApi
from tests.fakes.wait import wait_for

ROOT = Path(__file__).resolve().parents[2]


def telegram_environment(api: FakeBotApi, folder: Path, **extra: str) -> dict[str, str]:
    """MINGA_* variables for a polling worker on the fake Bot API, storing in `folder`; the
    caller's own MINGA_* variables are left out."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment.update(
        MINGA_TELEGRAM__TOKEN=TOKEN,
        MINGA_TELEGRAM__BASE_URL=api.base_url,
        MINGA_TELEGRAM__BASE_FILE_URL=api.base_file_url,
        MINGA_TELEGRAM__POLL_TIMEOUT_SECONDS="1",
        MINGA_STORAGE__DATABASE=str(folder / "minga.sqlite3"),
        MINGA_STORAGE__MEDIA_DIR=str(folder / "media"),
        PYTHONPATH=str(ROOT),
    )
    environment.update(extra)
    return environment


async def minga(*args: str, environment: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run a `minga` command to its end: (exit status, what it wrote to stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=environment,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, err.decode()


class Worker:
    """One `minga run` process; its stderr goes to a file in the test's folder."""

    def __init__(self, environment: dict[str, str], cwd: Path, log: Path) -> None:
        self.environment = environment
        self.cwd = cwd
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.environment["MINGA_WEB__PORT"])

    async def start(self) -> "Worker":
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.cwd, env=self.environment,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        return self

    async def get(self, path: str) -> httpx.Response | None:
        """A GET on this worker's web server (None: not listening)."""
        try:
            async with httpx.AsyncClient() as client:
                return await client.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)
        except httpx.TransportError:
            return None

    async def ready(self, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Until /readyz answers 200 (a worker that exits meanwhile fails the test)."""

        async def answered() -> bool:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"minga run exited: {self.log.read_text()[-2000:]}")
            answer = await self.get("/readyz")
            return answer is not None and answer.status_code == 200

        await wait_for(answered, timeout, every=0.1)

    async def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send `signum` and wait for the process to end; its exit status."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signum)
        return await asyncio.wait_for(self.process.wait(), 30)
