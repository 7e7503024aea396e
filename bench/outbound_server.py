"""The fake Bot API server for the outbound benchmarks, in a process of its own.

python -m bench.outbound_server --port P --spec JSON --out FILE
It enforces Telegram's flood control (`limit` messages a second, one second of burst, or
`window` messages in any one second, no burst),
records when each bulk message (one whose text or caption contains `marker`) arrives, lets
paced residents do the intake meanwhile (`chatters`), and writes the results once `expect`
bulk messages have arrived and the residents are done.
"""

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from bench.residents import Replies, run_residents
from bench.server_process import serve, write_whole
from tests.fakes.telegram_api import FakeBotApi, SlidingWindow, TokenBucket


async def main(port: int, spec: dict[str, Any], out: Path) -> None:
    api = FakeBotApi()
    api.keep_sent = False
    if spec.get("window"):  # stricter: no more than `window` in any one second, no burst
        api.limiter = SlidingWindow(spec["window"])
    elif spec.get("limit"):
        api.limiter = TokenBucket(spec["limit"])
    replies = Replies(complete="markup")
    arrivals: list[float] = []
    others: list[float] = []  # every other message: replies to the paced residents
    everything = asyncio.Event()
    if spec["expect"] == 0:
        everything.set()

    def on_send(chat_id: int, message: dict[str, Any]) -> None:
        if spec["marker"] in (message.get("text") or message.get("caption") or ""):
            arrivals.append(time.time())
            if len(arrivals) >= spec["expect"]:
                everything.set()
        else:
            others.append(time.time())
            replies.on_send(chat_id, message)

    api.on_send = on_send
    await api.start(port)
    chat: dict[str, Any] = {}
    if spec.get("chatters"):
        await asyncio.sleep(spec.get("chat_after", 0))
        chat = await run_residents(api, replies, residents=spec["chatters"], steps=10,
                                   rate=spec["chat_rate"])  # fmt: skip
    await everything.wait()
    results = {"arrivals": arrivals, "others": others, "rate_limited": api.rate_limited,
               "chat": chat,
               "paid": sum(1 for m, p in api.calls if p.get("allow_paid_broadcast"))}  # fmt: skip
    await asyncio.to_thread(write_whole, out, json.dumps(results))
    await asyncio.Event().wait()


if __name__ == "__main__":
    serve(main)
