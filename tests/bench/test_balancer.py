"""The soak's load balancer does what a reverse proxy with health checks does: requests in
turn to the workers that are up, body and headers unchanged both ways; a worker that refuses
the connection is skipped (the request goes to another); one that dies mid-request gets its
sender a 502, never a copy of the request sent elsewhere."""

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bench.balancer import Balancer


class Upstream:
    """A worker's web port: it answers /readyz, records each POST, and echoes it back."""

    def __init__(self, name: str, *, hang_up: bool = False) -> None:
        self.name = name
        self.hang_up = hang_up  # read the request, then close the connection unanswered
        self.received: list[tuple[bytes, str | None]] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/readyz", self._ready)
        app.router.add_post("/webhooks/telegram", self._webhook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        self.port = int(listening.getsockname()[1])
        await web.SockSite(self._runner, listening).start()

    async def stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _ready(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.received.append((body, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        if self.hang_up:
            assert request.transport is not None
            request.transport.close()  # as a SIGKILLed worker's socket: no answer at all
        return web.Response(status=200, body=body, headers={"X-Worker": self.name})


def _refusing_address() -> str:
    """A loopback port nobody listens on: a connection there is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
async def upstreams() -> AsyncIterator[list[Upstream]]:
    servers = [Upstream("a"), Upstream("b"), Upstream("dying", hang_up=True)]
    for server in servers:
        await server.start()
    yield servers
    for server in servers:
        await server.stop()


async def _post(url: str, body: bytes) -> tuple[int, bytes, str | None]:
    async with aiohttp.ClientSession() as session, session.post(
        f"{url}/webhooks/telegram?x=1", data=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret", "content-type": "application/json"},
    ) as answer:  # fmt: skip
        return answer.status, await answer.read(), answer.headers.get("X-Worker")


async def test_requests_go_round_robin_and_unchanged_both_ways(
    upstreams: list[Upstream],
) -> None:
    a, b, _ = upstreams
    async with Balancer([f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"]) as balancer:
        answers = [await _post(balancer.url, f'{{"n": {n}}}'.encode()) for n in range(4)]
    assert [status for status, _, _ in answers] == [200] * 4
    assert [body for _, body, _ in answers] == [f'{{"n": {n}}}'.encode() for n in range(4)]
    assert sorted(worker or "" for _, _, worker in answers) == ["a", "a", "b", "b"]
    assert all(secret == "s3cret" for _, secret in a.received + b.received)


async def test_a_refused_connection_goes_to_the_next_worker(upstreams: list[Upstream]) -> None:
    a, _, _ = upstreams
    dead = _refusing_address()
    # No active checks: the dead worker is found out by its refusal, not by a check.
    async with Balancer([dead, f"127.0.0.1:{a.port}"], health_every=None) as balancer:
        answers = [await _post(balancer.url, b"{}") for _ in range(3)]
        assert balancer.stats.refused == 1  # then marked down, and skipped
        assert balancer.stats.bad_gateway == 0
    assert [status for status, _, _ in answers] == [200] * 3
    assert len(a.received) == 3


async def test_a_worker_dying_mid_request_gets_a_502_and_no_copy_elsewhere(
    upstreams: list[Upstream],
) -> None:
    a, _, dying = upstreams
    async with Balancer([f"127.0.0.1:{dying.port}", f"127.0.0.1:{a.port}"]) as balancer:
        status, _, _ = await _post(balancer.url, b'{"update_id": 1}')
        assert balancer.stats.bad_gateway == 1
    assert status == 502
    assert dying.received == [(b'{"update_id": 1}', "s3cret")]
    assert a.received == []  # the sender sends again; the balancer never does


async def test_with_no_worker_up_the_sender_gets_a_502() -> None:
    async with Balancer([_refusing_address()], try_seconds=0.2) as balancer:
        status, _, _ = await _post(balancer.url, b"{}")
    assert status == 502
