"""A fake platform server on its own event loop, in a thread: what it sees arrive is timed by
its own loop, as a real server's is, not by when the bot's busy loop gets round to it."""

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any


class InThread:
    """Runs `server` (with async start() and stop()) on a loop of its own; `remote` calls its
    coroutine methods there and awaits them from the test's loop."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def __aenter__(self) -> "InThread":
        self._thread.start()
        await self._call(self.server.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._call(self.server.stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(method(*args, **kwargs), self._loop)
        return await asyncio.wrap_future(future)

    def __getattr__(self, name: str) -> Any:
        """The server's attribute; a coroutine method runs on the server's loop."""
        value = getattr(self.server, name)
        if inspect.iscoroutinefunction(value):
            return lambda *args, **kwargs: self._call(value, *args, **kwargs)
        return value
