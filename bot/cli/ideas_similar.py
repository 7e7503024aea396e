"""`minga ideas similar --text "..."`: the earlier ideas the matcher finds for a text, with
their score and why, for triage and for checking the matcher (the intake's own lookup)."""

import argparse
import io
import math
import sys
from typing import Any

from bot.app import Runtime
from bot.cli.output import NotDone, UsageError, counted, emit
from bot.config import Settings
from bot.similar import E5Encoder
from handlers.engine.settings import SimilarSettings
from handlers.engine.textinput import short
from handlers.similar.lookup import look_up
from handlers.similar.match import Match
from storage.similar import Place

MAX_LIMIT = 100
PROBLEM_WORDS = 60  # characters of the problem shown in the table

DESCRIPTION = """The earlier ideas that the chat would offer a resident as "probably the same
problem", best first: the same lookup as the intake's (the meaning of the text, and the
category and place when given: near is within [similar] radius_meters of the point, or the same
neighbourhood). Without --category: every category; without a place: anywhere.
Ideas marked not viable or duplicate are never candidates. The score is the similarity in
meaning (0 to 1); only ideas scoring at least [similar] min_score are listed (--min-score
changes it for this run). Ideas filed before the matcher existed need `minga ideas reindex`."""


def add_parser(tasks: Any, parents: list[argparse.ArgumentParser]) -> None:
    task = tasks.add_parser(
        "similar", parents=parents, description=DESCRIPTION,
        help="earlier ideas that look like a text: reference, score and why",
    )  # fmt: skip
    task.add_argument("--text", required=True, help="the problem, as a resident would tell it")
    task.add_argument("--category", metavar="KEY", help="only this category (its id in the config)")
    task.add_argument("--lat", type=float, metavar="LAT", help="the place's latitude (with --lon)")
    task.add_argument("--lon", type=float, metavar="LON", help="the place's longitude (with --lat)")
    task.add_argument("--neighbourhood", metavar="NAME",
                      help="the place's neighbourhood (instead of --lat/--lon)")  # fmt: skip
    task.add_argument("--limit", type=int, metavar="N",
                      help="at most this many (default: [similar] limit)")  # fmt: skip
    task.add_argument("--min-score", type=float, metavar="SCORE",
                      help="the least score listed, 0 to 1 ([similar] min_score)")  # fmt: skip


def place_of(args: argparse.Namespace) -> Place | None:
    """The place the options give (None: anywhere); UsageError for a half or a double one."""
    lat, lon, neighbourhood = args.lat, args.lon, args.neighbourhood
    if (lat is None) != (lon is None):
        given, missing = ("--lat", "--lon") if lon is None else ("--lon", "--lat")
        raise UsageError(f"{given} needs {missing}: give both, the place's point")
    if lat is not None and neighbourhood is not None:
        raise UsageError("give --lat/--lon or --neighbourhood, not both: one place")
    if lat is not None and lon is not None:
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise UsageError(f"--lat {args.lat}: a latitude is a number from -90 to 90")
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            raise UsageError(f"--lon {args.lon}: a longitude is a number from -180 to 180")
        return Place(lat, lon)
    if neighbourhood is not None:
        if not neighbourhood.strip():
            raise UsageError("--neighbourhood is empty: give the neighbourhood's name")
        return Place(neighbourhood=neighbourhood.strip())
    return None


def options(args: argparse.Namespace, settings: Settings) -> SimilarSettings:
    """[similar] with this run's --limit and --min-score."""
    changes: dict[str, Any] = {}
    if args.limit is not None:
        if not 1 <= args.limit <= MAX_LIMIT:
            raise UsageError(f"--limit {args.limit}: give a number from 1 to {MAX_LIMIT}")
        changes["limit"] = args.limit
    if args.min_score is not None:
        if not (math.isfinite(args.min_score) and 0 <= args.min_score <= 1):
            raise UsageError(f"--min-score {args.min_score}: give a number from 0 to 1")
        changes["min_score"] = args.min_score
    return settings.similar.model_copy(update=changes)


def check_category(category: str | None, settings: Settings) -> None:
    keys = [c.id for c in settings.lab.categories]
    if category is not None and category not in keys:
        raise UsageError(f"--category {category!r} is not one of this lab's categories; "
                         f"use one of: {', '.join(keys)}")  # fmt: skip


def check(args: argparse.Namespace, settings: Settings) -> None:
    """Every option, before anything is opened or encoded."""
    if not args.text.strip():
        raise UsageError("--text is empty: give the problem, as a resident would tell it")
    check_category(args.category, settings)
    place_of(args)
    options(args, settings)


def why(match: Match, place: Place | None) -> str:
    """How near: meters away, the same neighbourhood, or (no place asked) where it is."""
    if match.distance_meters is not None:
        return f"{match.distance_meters:.0f} m away"
    if place is not None:
        return "same neighbourhood"
    where = match.candidate.place
    if where.neighbourhood:
        return where.neighbourhood
    if where.has_point:
        return f"{where.latitude:.5f}, {where.longitude:.5f}"
    return "-"


def document(match: Match) -> dict[str, Any]:
    candidate = match.candidate
    distance = match.distance_meters
    return {
        "reference": candidate.reference,
        "score": round(match.score, 4),
        "distance_meters": None if distance is None else round(distance, 1),
        "category": candidate.category,
        "status": candidate.status.value,
        "neighbourhood": candidate.place.neighbourhood,
        "problem": candidate.problem,
    }


def table(matches: list[Match], place: Place | None) -> str:
    """The matches as a small table (rich; the ideas' words are data, never markup)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    shown = Table(box=None, pad_edge=False)
    for name in ("reference", "score", "status", "category", "where", "problem"):
        shown.add_column(name, justify="right" if name == "score" else "left",
                         no_wrap=name != "problem")  # fmt: skip
    for match in matches:
        candidate = match.candidate
        shown.add_row(
            Text(candidate.reference), f"{match.score:.3f}", Text(candidate.status.value),
            Text(candidate.category), Text(why(match, place)),
            Text(short(candidate.problem, PROBLEM_WORDS)),
        )  # fmt: skip
    # Plain text, as wide as needed for the short columns: the same in a terminal, a pipe
    # or a cron job's mail.
    text = io.StringIO()
    Console(file=text, width=140, color_system=None).print(shown)
    return "\n".join(line.rstrip() for line in text.getvalue().rstrip().splitlines())


async def run(args: argparse.Namespace, runtime: Runtime) -> None:
    settings = runtime.settings
    check(args, settings)
    place, similar = place_of(args), options(args, settings)
    reader = runtime.database.reader()
    encoder = runtime.lookups or E5Encoder()
    indexed = await reader.similar.count_vectors(encoder.model)
    missing = await reader.similar.count_without_vector(encoder.model)
    if indexed == 0 and missing:
        raise NotDone(f"no idea can be matched yet ({counted(missing, 'idea')} without a "
                      "vector): run `minga ideas reindex` first")  # fmt: skip
    if missing:  # compared with the rest; said on stderr so that --json stays one document
        print(f"note: {counted(missing, 'idea')} not compared (no vector yet): "
              "`minga ideas reindex` computes the missing vectors", file=sys.stderr)  # fmt: skip
    found = await look_up(reader, encoder, similar, args.text, category=args.category,
                          place=place)  # fmt: skip
    matches = found.matches
    none = f"none: no idea scores {similar.min_score:.2f} or more (--min-score lowers it)"
    human = table(matches, place) if matches else none
    emit(args, [document(match) for match in matches], human)
