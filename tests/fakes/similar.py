"""Similar ideas in tests: a deterministic encoder, and earlier ideas filed with their vector."""

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from handlers.similar.match import Encoder
from handlers.similar.vectors import pack
from storage.database import Database
from storage.models import Focus, IdeaStatus, NewIdea, Publish, Role

EARLIER_AT = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)

# What the keyword encoder reads: a text with one of these words points along that axis.
TOPICS: tuple[frozenset[str], ...] = (
    frozenset(("hueco", "huecos", "bache", "baches", "pozo", "pothole", "potholes")),
    frozenset(("basura", "rubbish", "garbage")),
)


class KeywordEncoder:
    """Encodes a text as the unit vector of its topic (TOPICS), or of "anything else": two
    texts on the same topic score 1, others 0. Records what it was asked."""

    model = "keywords"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def vector(self, text: str) -> list[float]:
        words = {word.strip(".,;:!?¿¡").casefold() for word in text.split()}
        axis = next((n for n, topic in enumerate(TOPICS) if words & topic), len(TOPICS))
        return [1.0 if n == axis else 0.0 for n in range(len(TOPICS) + 1)]

    async def encode(self, texts: Sequence[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return [self.vector(text) for text in texts]


async def file_earlier(
    database: Database,
    encoder: Encoder,
    problem: str,
    *,
    user: str = "neighbour",
    channel: str = "test",
    category: str = "mobility",
    place: str | None = "La Flora",
    point: tuple[float, float] | None = None,
    publish: Publish = Publish.TEXT,
    status: IdeaStatus | None = None,
) -> tuple[int, str]:
    """An idea another resident filed before, with its vector stored: (id, reference)."""
    [vector] = await encoder.encode([problem])
    async with database.transaction() as repos:
        author = await repos.residents.get_or_create(channel, user, EARLIER_AT)
        idea_id, reference = await repos.ideas.create(
            NewIdea(
                resident_id=author.id, role=Role.RESIDENT, language="es", problem=problem,
                idea=None, category=category, focus=Focus.EXTERNAL, anonymous=False,
                contact_name="Rosa Pérez", contact="rosa@example.org", location_text=place,
                latitude=point[0] if point else None, longitude=point[1] if point else None,
                publish=publish,
            ),
            prefix="MNG", year=2026, now=EARLIER_AT,
        )  # fmt: skip
        await repos.similar.save_vector(idea_id, encoder.model, pack(vector))
        if status is not None:
            await repos.ideas.set_status(idea_id, status, actor="cli", reason=None, now=EARLIER_AT)
    return idea_id, reference


PAIRS = Path(__file__).parents[1] / "similar" / "pairs.toml"


@dataclass(frozen=True, slots=True)
class Side:
    category: str
    point: tuple[float, float]
    text: str


def same_pair(kind: str = "paraphrase") -> tuple[Side, Side]:
    """The first pair of the labelled set (tests/similar/pairs.toml) that tells the same
    problem in other words, both sides at a point: (the earlier idea, the new one)."""
    labelled = tomllib.loads(PAIRS.read_text(encoding="utf-8"))
    places = labelled["places"]
    for pair in labelled["pairs"]:
        sides = [pair["a"], pair["b"]]
        if pair["kind"] != kind or not pair["same"]:
            continue
        if all("lat" in places[place] for _, place, _ in sides):
            a, b = (
                Side(category, (places[place]["lat"], places[place]["lon"]), text)
                for category, place, text in sides
            )
            return a, b
    raise AssertionError(f"no {kind} pair labelled the same in {PAIRS}")
