"""A small round-robin HTTP load balancer in front of several `minga run` workers' web ports,
for the workers' soak and benchmarks (issue 19): what Caddy does in the README's example.

It behaves as Caddy's `reverse_proxy` with `lb_policy round_robin`, `health_uri /readyz` and
`lb_try_duration` set:

- Requests go to the workers in turn, skipping those marked down. Method, path, query, body
  and headers go through unchanged (less the hop-by-hop ones), and so do the worker's status,
  headers and body on the way back.
- Active health checks: every `health_every` seconds each worker's `health_path` (/readyz) is
  asked; a 200 marks it up, anything else (or no answer) marks it down.
- A worker that refuses the connection (it is dead or not listening yet) got nothing: it is
  marked down at once (Caddy's passive health check) and the request goes to the next worker,
  for up to `try_seconds`; after that, or with no worker up, a 502.
- A worker that dies after the request was sent (mid-request) may have read and committed it:
  a POST is not idempotent, so it is not sent elsewhere (Caddy retries only requests that
  never reached an upstream, unless told `lb_retry_match`): the sender gets a 502 and sends
  again, as Telegram and Meta do with any delivery that got no 200.

Each request opens its own connection to the worker (no keep-alive): a connection pooled to a
worker that was since killed would fail after the request was written, and turn a refusal that
could safely go elsewhere into an ambiguous 502.

In-process: `async with Balancer(["127.0.0.1:8081", ...]) as balancer: balancer.url`.
As its own process: `python -m bench.balancer --port 8080 127.0.0.1:8081 127.0.0.1:8082`.
"""

import argparse
import asyncio
import contextlib
import itertools
import socket
import sys
import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

HEALTH_PATH = "/readyz"
HEALTH_EVERY_SECONDS = 1.0
TRY_SECONDS = 5.0  # how long a request looks for a worker that accepts its connection
TRY_PAUSE_SECONDS = 0.05  # between two rounds over workers that all refused
UPSTREAM_TIMEOUT_SECONDS = 60.0
# Headers about one connection, not the request (RFC 9110 7.6.1): never forwarded.
HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host", "content-length")
)  # fmt: skip


@dataclass
class Stats:
    """What the balancer did, for a run's report."""

    forwarded: int = 0  # requests a worker answered (any status)
    refused: int = 0  # connections a worker refused, the request then tried on another
    bad_gateway: int = 0  # requests answered 502: a worker died mid-request, or none was up
    by_worker: dict[str, int] = field(default_factory=dict)  # answered requests per worker


class Balancer:
    """Round-robin over `upstreams` ("host:port"), each request to the next worker that is up."""

    def __init__(
        self,
        upstreams: list[str],
        *,
        health_path: str = HEALTH_PATH,
        health_every: float | None = HEALTH_EVERY_SECONDS,
        try_seconds: float = TRY_SECONDS,
    ) -> None:
        self.upstreams = list(upstreams)
        self.health_path = health_path
        self.health_every = health_every
        self.try_seconds = try_seconds
        self.stats = Stats(by_worker={upstream: 0 for upstream in upstreams})
        self.port = 0
        self._down: set[str] = set()
        self._turn = itertools.cycle(range(len(upstreams)))
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._checker: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:`port` (0: a free one, then in `self.port`)."""
        timeout = aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT_SECONDS)
        connector = aiohttp.TCPConnector(force_close=True, limit=0)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock, backlog=1024).start()
        if self.health_every is not None:  # None: passive checks only (a refusal marks down)
            self._checker = asyncio.create_task(self._check_health())

    async def stop(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> "Balancer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _next_up(self, tried: set[str]) -> str | None:
        """The next worker in turn that is up and not yet tried for this request."""
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[next(self._turn)]
            if upstream not in self._down and upstream not in tried:
                return upstream
        return None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        deadline = time.monotonic() + self.try_seconds
        tried: set[str] = set()
        while True:
            upstream = self._next_up(tried)
            if upstream is None:
                if time.monotonic() >= deadline:
                    break
                tried.clear()  # a round over every worker up: wait a little, then again
                await asyncio.sleep(TRY_PAUSE_SECONDS)
                continue
            tried.add(upstream)
            try:
                return await self._send(upstream, request, headers, body)
            except aiohttp.ClientConnectorError:  # refused: it got nothing, another may take it
                self.stats.refused += 1
                self._down.add(upstream)
            except (aiohttp.ClientError, TimeoutError):  # sent, then no answer: not resent
                break
        self.stats.bad_gateway += 1
        return web.Response(status=502, text="bad gateway")

    async def _send(
        self, upstream: str, request: web.Request, headers: dict[str, str], body: bytes
    ) -> web.Response:
        """The request to one worker, and its answer as ours."""
        assert self._session is not None
        async with self._session.request(
            request.method, f"http://{upstream}{request.rel_url}", headers=headers, data=body,
            allow_redirects=False,
        ) as answer:  # fmt: skip
            content = await answer.read()
            self.stats.forwarded += 1
            self.stats.by_worker[upstream] += 1
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=answer.status, headers=kept, body=content)

    async def _check_health(self) -> None:
        """Every `health_every` seconds: each worker up if its health path answers 200."""
        assert self.health_every is not None
        while True:
            results = await asyncio.gather(*(self._healthy(u) for u in self.upstreams))
            for upstream, healthy in zip(self.upstreams, results, strict=True):
                if healthy:
                    self._down.discard(upstream)
                else:
                    self._down.add(upstream)
            await asyncio.sleep(self.health_every)

    async def _healthy(self, upstream: str) -> bool:
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=max(self.health_every or 0, 1.0))
        try:
            url = f"http://{upstream}{self.health_path}"
            async with self._session.get(url, timeout=timeout) as answer:
                return answer.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


async def _serve(port: int, upstreams: list[str], health_every: float, try_seconds: float) -> None:
    balancer = Balancer(upstreams, health_every=health_every, try_seconds=try_seconds)
    await balancer.start(port)
    print(f"balancer: {balancer.url} -> {', '.join(upstreams)}", file=sys.stderr)
    try:
        await asyncio.Event().wait()
    finally:
        await balancer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.balancer", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("upstreams", nargs="+", help="the workers, as host:port")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--health-every", type=float, default=HEALTH_EVERY_SECONDS)
    parser.add_argument("--try-seconds", type=float, default=TRY_SECONDS)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.upstreams, args.health_every, args.try_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
