"""What the dispatcher tells whoever watches it (bot/metrics.py): channel-agnostic, so that
handlers/ knows nothing of Prometheus or the web."""

from typing import Protocol


class TurnObserver(Protocol):
    def handled(self, channel: str, outcome: str, seconds: float | None) -> None:
        """A message was handled: outcome ok, failed, duplicate, outsider or flooded;
        `seconds` is its turn's time (None when it had no turn)."""
        ...
