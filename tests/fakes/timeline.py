"""Virtual monotonic time for pacing tests: sleeping moves the clock, nobody waits."""

import asyncio


class Timeline:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)  # first let what was just woken run at the current time
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)
