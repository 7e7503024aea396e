"""What the engine hands a turn for similar-ideas lookups: a sentence encoder, as the engine
sees it. Declared here because the engine never imports a flow (tests/test_architecture.py);
handlers.similar.match.Encoder is the same protocol (structural: any encoder fits both)."""

from collections.abc import Sequence
from typing import Protocol


class Encoder(Protocol):
    """Turns texts into sentence vectors (unit length), off the event loop."""

    @property
    def model(self) -> str:
        """The model's stable name: vectors are stored and looked up under it."""
        ...

    async def encode(self, texts: Sequence[str]) -> list[list[float]]: ...
