"""What the engine hands a turn for similar-ideas lookups: a sentence encoder. Declared here
because the engine never imports a flow (tests/test_architecture.py); handlers.similar.match
re-exports it for the similar-ideas code."""

from collections.abc import Sequence
from typing import Protocol


class EncoderBusy(Exception):
    """The encoder has more texts waiting than a resident should wait for: the lookup is
    skipped (the intake goes on without an offer) rather than make a crowd wait in line."""


class Encoder(Protocol):
    """Turns texts into sentence vectors (unit length), off the event loop."""

    @property
    def model(self) -> str:
        """The model's stable name: vectors are stored and looked up under it."""
        ...

    async def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """The texts' vectors; may raise EncoderBusy instead of queueing behind too many."""
        ...
