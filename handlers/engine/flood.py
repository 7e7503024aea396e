"""Flood control: one person sending more messages than a person can type or tap.

Counted per person and channel, in this process's memory (a flood is over in seconds; a restart
forgets it at no cost). Counting happens before the person's place in line, so a flood never
queues up work, and nobody else waits for it."""

from collections import deque
from collections.abc import Hashable
from datetime import datetime, timedelta
from enum import Enum

# How often (in messages seen) people who went quiet are forgotten.
SWEEP_EVERY = 1_000


class Verdict(Enum):
    TAKE = "take"
    WARN = "warn"  # the first message over the limit: answered "please slow down"
    DROP = "drop"  # the ones after it, until the person slows down


class FloodGate:
    def __init__(self, max_messages: int, window_seconds: float) -> None:
        self._max = max_messages
        self._window = timedelta(seconds=window_seconds)
        self._seen: dict[Hashable, deque[datetime]] = {}
        self._warned: set[Hashable] = set()
        self._since_sweep = 0

    def admit(self, key: Hashable, now: datetime) -> Verdict:
        self._sweep(now)
        recent = self._seen.setdefault(key, deque())
        while recent and now - recent[0] >= self._window:
            recent.popleft()
        if len(recent) >= self._max:
            # Dropped messages are not counted: a person who keeps going is heard again as
            # soon as their window has room, not only after they stop completely.
            if key in self._warned:
                return Verdict.DROP
            self._warned.add(key)
            return Verdict.WARN
        self._warned.discard(key)
        recent.append(now)
        return Verdict.TAKE

    def _sweep(self, now: datetime) -> None:
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        window = self._window
        quiet = [key for key, times in self._seen.items() if not times or now - times[-1] >= window]
        for key in quiet:
            del self._seen[key]
            self._warned.discard(key)

    def __len__(self) -> int:
        return len(self._seen)
