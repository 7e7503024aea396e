"""The fake Bot API server and its simulated residents, in a process of their own.

python -m bench.server_process --port P --spec JSON --out FILE
It serves until killed; once the scenario is done it writes the results to FILE.
"""

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench.residents import Replies, run_residents
from tests.fakes.telegram_api import FakeBotApi

WARMUP_USER = 1
WARM_PAUSE_SECONDS = 0.25  # between start-up's reply and the residents' first updates


def warm_marker(out: Path) -> Path:
    """The file written once the bot's start-up is over (before the residents start)."""
    return out.with_name(out.name + ".warm")


async def main(port: int, spec: dict, out: Path) -> None:
    api = FakeBotApi()
    api.keep_sent = False
    replies = Replies(complete=spec["complete"])
    api.on_send = replies.on_send
    await api.start(port)
    # The first resident writes before the bot has started: start-up ends with this reply.
    answered = replies.expect(WARMUP_USER)
    await api.send_text(WARMUP_USER, "/start")
    first_reply_at = await answered
    # Start-up is over: the harness reads the bot's CPU time now (it looks every 0.05 s), so
    # that CPU per update counts the residents' updates only.
    await asyncio.to_thread(write_whole, warm_marker(out), "")
    await asyncio.sleep(WARM_PAUSE_SECONDS)
    results = await run_residents(
        api, replies, residents=spec["residents"], steps=spec["steps"], rate=spec.get("rate")
    )
    results["first_reply_at"] = first_reply_at
    results["api_calls"] = dict(Counter(method for method, _ in api.calls))
    results["finished_at"] = time.monotonic()
    await asyncio.to_thread(write_whole, out, json.dumps(results))
    await asyncio.Event().wait()  # keep serving the bot until the harness stops us


def write_whole(out: Path, text: str) -> None:
    """Write `out` in one step: the harness reads it as soon as it exists (a rename is atomic,
    a write_text is seen empty or half written)."""
    partial = out.with_name(out.name + ".partial")
    partial.write_text(text, "utf-8")
    partial.replace(out)


def serve(scenario: Callable[[int, dict[str, Any], Path], Coroutine[Any, Any, None]]) -> None:
    """A server process's command line: --port P --spec JSON --out FILE."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(scenario(args.port, json.loads(args.spec), args.out))


if __name__ == "__main__":
    serve(main)
