"""python-telegram-bot's HTTP calls made with aiohttp instead of httpx.

Measured on this project's 2-core machine against the fake Bot API (`make bench`): httpx
spends 1.1 ms of CPU per Bot API call with 4 calls in flight and 2.5 ms with 16 (its pool
looks at every connection for every request), aiohttp 0.2 ms. Every reply, broadcast and
reminder is one such call, so this is most of what a Minga process costs per message: with
httpx one process could not keep up with the paid broadcast lane (1,000 messages/s).

PTB keeps doing everything else (parameters, the answer's JSON, its errors): this class only
moves bytes, as `telegram.request.BaseRequest.do_request` asks.
"""

from typing import Any, cast

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT_SECONDS = 5.0  # as PTB's HTTPXRequest: connect, read and write
DEFAULT_POOL_TIMEOUT_SECONDS = 1.0  # waiting for a free connection
_DEFAULT = type(BaseRequest.DEFAULT_NONE)  # PTB's "not set" marker class (its module is private)


def _seconds(value: object, default: float | None) -> float | None:
    """A timeout PTB passed, or ours when it passed BaseRequest.DEFAULT_NONE."""
    if isinstance(value, _DEFAULT):  # what PTB passes for "not set"
        return default
    assert value is None or isinstance(value, int | float), value  # else PTB's ODVInput[float]
    return value


class JsonParameters:
    """A call's parameters already in the Bot API's JSON form, without files: for the calls
    made for every message (a reply, a button's answer), which skip python-telegram-bot's
    conversion of each parameter (`Bot._post`: defaults, RequestParameter, to_dict), about a
    fifth of what such a call cost in the bench's profile. What reaches the server is the same
    JSON document; the answer and its errors are read by `BaseRequest.post` as for any call.

    It stands in for PTB's RequestData (final, and made by PTB only), whose two attributes
    `_body` reads: PTB hands it to `do_request` untouched, and only this module reads it
    (tests/bot/channels/telegram/test_http.py holds both)."""

    __slots__ = ("parameters",)
    contains_files = False

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters

    def as_request_data(self) -> RequestData:
        """For `BaseRequest.post`, which is typed for PTB's own class (see above)."""
        return cast(RequestData, self)


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session with at most `connections` at once."""

    def __init__(
        self,
        connections: int = 16,
        *,
        read_timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT_SECONDS,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        # aiohttp's `connect` covers waiting for a pooled connection and opening it; it has
        # no write timeout (a request body is small, or a file upload that may take long).
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=_seconds(read_timeout, self._read_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's own time-outs are TimeoutErrors too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> aiohttp.FormData | aiohttp.JsonPayload | None:
    """The parameters as one JSON document (which the Bot API takes, and costs less to build
    than a form); a multipart form when files go too."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return aiohttp.JsonPayload(request_data.parameters)
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
