"""What the engine hands a turn for similar-ideas lookups: a sentence encoder (the protocol
only; handlers/similar uses it, bot/similar.py has the real one). Here, not in
handlers/similar, because the engine never imports a flow."""

from collections.abc import Sequence
from typing import Protocol


class Encoder(Protocol):
    """Turns texts into sentence vectors (unit length), off the event loop."""

    @property
    def model(self) -> str:
        """The model's stable name: vectors are stored and looked up under it."""
        ...

    async def encode(self, texts: Sequence[str]) -> list[list[float]]: ...
