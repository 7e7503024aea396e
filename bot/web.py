"""Minga's one web server (starlette on uvicorn): the webhooks of the channels that use them,
/healthz (is the process alive) and /readyz (may it get traffic) for whoever watches it, and
/metrics when [metrics] is enabled (or a second one, for /metrics alone)."""

import asyncio
import contextlib
import hmac
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.config import ConfigError, WebSettings
from bot.metrics import Metrics
from storage.database import Database

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
Health = Callable[[], Awaitable[dict[str, Any]]]
# Why the worker should get no traffic now, in a few words; None when it may.
Ready = Callable[[], Awaitable[str | None]]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # `minga run` handles SIGINT and SIGTERM itself, and stops this server in its turn.
        yield


class WebServer:
    def __init__(
        self,
        settings: WebSettings,
        routes: list[Route],
        health: Health,
        *,
        ready: Ready,
        section: str = "[web]",
    ) -> None:
        self._settings = settings
        self._section = section  # where its host and port are set, for the error
        self._health = health
        self._ready = ready
        self.app = Starlette(
            routes=[*routes, Route(HEALTH_PATH, self._healthz), Route(READY_PATH, self._readyz)]
        )
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = settings.port

    async def _healthz(self, request: Request) -> Response:
        """The process is alive and its channels run (the database is not asked: a worker
        restarted because its database is down would come back no better)."""
        try:
            report = await self._health()
        except Exception as error:
            log.exception("health check failed")
            return JSONResponse({"ok": False, "error": type(error).__name__}, 503)
        return JSONResponse(report, 200 if report.get("ok") else 503)

    async def _readyz(self, request: Request) -> Response:
        """200 "ready", or 503 with the reason in one plain line: for a load balancer."""
        try:
            reason = await self._ready()
        except Exception as error:
            log.exception("readiness check failed")
            reason = f"readiness check failed ({type(error).__name__})"
        if reason is None:
            return PlainTextResponse("ready\n")
        return PlainTextResponse(f"not ready: {reason}\n", 503)

    async def start(self) -> None:
        """Listen on [web] host:port (port 0: any free port, then in `port`)."""
        family = socket.AF_INET6 if ":" in self._settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # uvicorn writes a response's head and body apart; Nagle would hold the body ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self._settings.host, self._settings.port))
        except OSError as error:
            sock.close()
            raise ConfigError(
                f"web server: cannot listen on {self._settings.host}:{self._settings.port} "
                f"({self._section} host and port): {error.strerror}"
            ) from None
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False,
                                server_header=False)  # fmt: skip
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="minga-web")
        # uvicorn offers a flag, not an event, for "listening": look at it until it is set.
        while not self._server.started and not self._task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()
        log.info("web server listening on %s:%s (%s)", self._settings.host, self.port,
                 self._section)  # fmt: skip

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await self._task


def metrics_route(metrics: Metrics, database: Database, bearer_token: str | None) -> Route:
    """GET /metrics in Prometheus' text format; with a token, only for
    `Authorization: Bearer <token>`."""

    async def scrape(request: Request) -> Response:
        if bearer_token is not None and not _authorized(request, bearer_token):
            return PlainTextResponse("unauthorized\n", 401,
                                     headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        try:
            await metrics.refresh(database)
        except Exception:  # the process's own numbers are still worth having
            log.exception("metrics: could not read the outbox backlog")
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return Route(METRICS_PATH, scrape, methods=["GET"])


def _authorized(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())  # fmt: skip
