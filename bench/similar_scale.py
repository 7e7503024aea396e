"""Similar ideas at scale (issue 21): with 1,000,000 ideas stored, the intake's lookup
(handlers.similar.lookup.look_up with the real encoder) and the added time of the turn that
shows candidates; the encoder's time per idea and memory; `minga ideas import` speed with the
vectors' computation; and, in the same run, precision and recall of the chosen matcher and of
the lexical baseline on the labelled set (bench/similar_eval.py).

The data is realistic where the lookup cares: ideas spread over the lab's categories (weighted
as residents write them) and a city-sized area (Bogotá's ~1,600 km², a 40 km square: about 40
ideas of one category within 400 m of a point), and a fifth of them with only a neighbourhood
(picked from the lab's 20, or typed), so a neighbourhood-only lookup compares thousands.
Computing a million real vectors would take hours: a few thousand variants of the labelled
set's texts are encoded for real and assigned, with their texts, across the million.

The SQLite file is kept in bench/.cache (built again when the migrations or this generator
change); PostgreSQL gets a copy of it on a throwaway server (or `--database`'s). Not a test;
nothing asserts a time.

`python -m bench similar-scale [--ideas N] [--postgres]`, or `python -m bench.similar_scale`.
"""

import argparse
import asyncio
import contextlib
import csv
import itertools
import json
import math
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.similar_eval import CHOSEN, at_default, evaluate, lexical_encoder, load_pairs
from bot.similar import MODEL, E5Encoder
from handlers.engine.catalog import Catalog
from handlers.engine.settings import FlowSettings, LabSettings, SimilarSettings
from handlers.similar.vectors import pack
from storage.database import Database
from storage.similar import Place
from storage.timefmt import to_db

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache"
VERSION = 2  # of the generator below: a change builds the file again
TARGETS = {"lookup_p99_ms": 50.0, "turn_added_p99_ms": 100.0}

# A Bogotá-sized city: a 40 km square (1,600 km²) around its centre.
CENTRE = (4.65, -74.10)
SIDE_METERS = 40_000.0
METERS_PER_DEGREE = 111_320.0
# The lab's neighbourhoods (at most 20 buttons): Bogotá's localidades, as a city lab lists.
NEIGHBOURHOODS = ("Usaquén", "Chapinero", "Santa Fe", "San Cristóbal", "Usme", "Tunjuelito",
                  "Bosa", "Kennedy", "Fontibón", "Engativá", "Suba", "Barrios Unidos",
                  "Teusaquillo", "Los Mártires", "Antonio Nariño", "Puente Aranda",
                  "La Candelaria", "Rafael Uribe Uribe", "Ciudad Bolívar", "Sumapaz")  # fmt: skip
# Typed by residents instead of picked: barrios, a long tail (the first ones most often).
TYPED = tuple(f"Barrio {name} {n}" for n in range(1, 41)
              for name in ("La Esperanza", "El Porvenir", "Villa Nidia"))  # fmt: skip
# How often each category is chosen (roughly the labelled set's, as residents write; it has
# no text of "other", so neither has the bench).
WEIGHTS = {"mobility": 0.25, "environment": 0.25, "safety": 0.15, "public_space": 0.12,
           "health": 0.07, "education": 0.07, "work": 0.045, "digital": 0.045}  # fmt: skip
POINT_SHARE = 0.80  # ideas with a shared location; the rest only a neighbourhood
BOTH_SHARE = 0.10  # of those with a point, also a neighbourhood (imported ideas carry both)
TYPED_SHARE = 0.30  # of the neighbourhood-only ideas, typed rather than picked
STATUSES = ("received", "in_review", "selected", "in_progress", "implemented", "not_selected",
            "duplicate")  # fmt: skip
STATUS_WEIGHTS = (0.45, 0.20, 0.10, 0.08, 0.07, 0.07, 0.03)
PER_RESIDENT = 5
ERASED_SHARE = 0.01  # residents who erased their data: their ideas are never offered
NOW = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
SPAN_DAYS = 730
VARIANTS = 3000  # problem texts encoded for real
PREFIXES = ("", "", "Hola, ", "Buenas tardes. ", "Por favor ayuda: ", "Quiero reportar que ",
            "Buenos días, ", "Urgente: ", "Les escribo porque ",
            "Vecinos cuentan que ")  # fmt: skip
SUFFIXES = ("", "", " Ya lo reportamos y nada.", " Desde hace meses.", " ¿Quién nos ayuda?",
            " Pasa todos los días.", " Gracias.", " Es un peligro para los niños.",
            " Nadie hace nada.", " Ojalá lo arreglen pronto.")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Query:
    """A resident's lookup: the problem they wrote, its category, where."""

    kind: str  # "point", "picked" or "typed"
    text: str
    category: str
    place: Place


def lab() -> LabSettings:
    """The bench's lab: a city's 20 localidades as its neighbourhoods."""
    return LabSettings(neighbourhoods=NEIGHBOURHOODS)


# -- texts and vectors ------------------------------------------------------------------------


def labelled_texts() -> list[tuple[str, str]]:
    """(category, text) of every side of the labelled pairs, once each."""
    seen: dict[str, str] = {}
    for pair in load_pairs():
        for side in (pair.a, pair.b):
            seen.setdefault(side.text, side.category)
    return [(category, text) for text, category in seen.items()]


def variants(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` (category, text): the labelled texts, then variants of them as residents would
    write the same problems (a greeting before, a complaint after)."""
    base = labelled_texts()
    # Category by category in turn, so that even a few texts cover every category.
    by_category: dict[str, list[tuple[str, str]]] = {}
    for category, text in base:
        by_category.setdefault(category, []).append((category, text))
    turns = itertools.zip_longest(*by_category.values())
    found = dict.fromkeys(side for row in turns for side in row if side is not None)
    while len(found) < count:
        category, text = rng.choice(base)
        found.setdefault((category, rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)))
    return list(found)[:count]


def encoded(texts: Sequence[tuple[str, str]], cache: Path | None) -> list[bytes]:
    """The texts' vectors as stored (packed), in batches of 32; kept in `cache` if given."""
    if cache is not None and cache.exists():
        kept = json.loads(cache.read_text("utf-8"))
        if kept["texts"] == [t for _, t in texts]:
            return [bytes.fromhex(v) for v in kept["vectors"]]
    encoder = E5Encoder()
    try:
        vectors = []
        for start in range(0, len(texts), 32):
            batch = [t for _, t in texts[start : start + 32]]
            vectors += [pack(v) for v in encoder.encode_now(batch)]
    finally:
        encoder.close()
    if cache is not None:
        document = {"texts": [t for _, t in texts], "vectors": [v.hex() for v in vectors]}
        cache.write_text(json.dumps(document), "utf-8")
    return vectors


# -- the database -------------------------------------------------------------------------------


def _migrations_tag() -> str:
    names = sorted(p.name for p in (ROOT / "storage" / "migrations").glob("*.sql"))
    return names[-1].split("_")[0] if names else "0"


def cached_file(folder: Path, ideas: int) -> Path:
    """Where the SQLite file of `ideas` ideas is kept between runs (its vectors are the
    model's: another model, or another text given to it, is another file)."""
    model = "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in MODEL)
    return folder / f"similar-{ideas}-m{_migrations_tag()}-{model}-v{VERSION}.sqlite3"


def random_point(rng: random.Random) -> tuple[float, float]:
    """A point anywhere in the city."""
    half = SIDE_METERS / 2 / METERS_PER_DEGREE
    lat = CENTRE[0] + rng.uniform(-half, half)
    lon = CENTRE[1] + rng.uniform(-half, half) / math.cos(math.radians(CENTRE[0]))
    return lat, lon


def _typed(rng: random.Random) -> str:
    """A typed neighbourhood: a long tail, the first names most often, any case."""
    name = TYPED[min(int(rng.expovariate(1 / 15)), len(TYPED) - 1)]
    return name.upper() if rng.random() < 0.2 else name


def _place(rng: random.Random) -> tuple[str | None, float | None, float | None]:
    if rng.random() < POINT_SHARE:
        lat, lon = random_point(rng)
        named = rng.choice(NEIGHBOURHOODS) if rng.random() < BOTH_SHARE else None
        return named, lat, lon
    if rng.random() < TYPED_SHARE:
        return _typed(rng), None, None
    return rng.choice(NEIGHBOURHOODS), None, None


def build(path: Path, ideas: int, texts: Sequence[tuple[str, str]], vectors: Sequence[bytes],
          seed: int = 21) -> None:  # fmt: skip
    """Migrate, then bulk-load residents, ideas and their vectors with plain sqlite3."""
    asyncio.run(_migrate(path))
    rng = random.Random(seed)
    by_category: dict[str, list[int]] = {}
    for index, (category, _) in enumerate(texts):
        by_category.setdefault(category, []).append(index)
    categories = [c for c in WEIGHTS if c in by_category]
    weights = [WEIGHTS[c] for c in categories]
    residents = max(1, ideas // PER_RESIDENT)
    start = NOW - timedelta(days=SPAN_DAYS)
    step = SPAN_DAYS * 86_400 / max(ideas, 1)
    chosen: list[int] = []

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(1, ideas + 1):
            category = rng.choices(categories, weights)[0]
            text = rng.choice(by_category[category])
            chosen.append(text)
            named, lat, lon = _place(rng)
            at = to_db(start + timedelta(seconds=n * step))
            status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            yield (n, f"MNG-{n:07d}", rng.randint(1, residents), texts[text][1],
                   "Arreglarlo con la comunidad y la alcaldía.", category, named, lat, lon,
                   status, at, at, rng.choice(("no", "text", "photos")))  # fmt: skip

    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.executemany(
                "INSERT INTO residents (id, channel, user_key, language, role, created_at, "
                "erased_at) VALUES (?, 'telegram', ?, 'es', 'resident', ?, ?)",
                ((i, str(1_000_000 + i), to_db(start),
                  to_db(NOW) if rng.random() < ERASED_SHARE else None)
                 for i in range(1, residents + 1)),
            )  # fmt: skip
            connection.executemany(
                "INSERT INTO ideas (id, reference, resident_id, role, language, problem, idea, "
                "category, focus, location_text, latitude, longitude, anonymous, status, "
                "created_at, updated_at, publish) VALUES (?, ?, ?, 'resident', 'es', ?, ?, ?, "
                "'external', ?, ?, ?, 1, ?, ?, ?, ?)",
                rows(),
            )
            connection.executemany(
                "INSERT INTO idea_vectors (idea_id, model, vector) VALUES (?, ?, ?)",
                ((n, MODEL, vectors[text]) for n, text in enumerate(chosen, start=1)),
            )
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def _migrate(path: Path) -> None:
    await (await Database.open(path)).close()


def prepared(ideas: int, folder: Path = CACHE, *, variants_count: int = VARIANTS) -> Path:
    """The SQLite file with `ideas` ideas kept in `folder`, built now if it is not there."""
    folder.mkdir(parents=True, exist_ok=True)
    path = cached_file(folder, ideas)
    if path.exists():
        print(f"using {path} ({path.stat().st_size / 1e6:,.0f} MB)")
        return path
    texts = variants(variants_count, random.Random(7))
    model = "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in MODEL)
    vectors = encoded(texts, folder / f"vectors-{model}-{len(texts)}-v{VERSION}.json")
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    started = time.perf_counter()
    build(building, ideas, texts, vectors)
    building.rename(path)
    print(f"built {path} ({path.stat().st_size / 1e6:,.0f} MB) in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return path


# -- the queries ---------------------------------------------------------------------------------


def queries(count: int, seed: int = 3) -> list[Query]:
    """Residents' problems from the labelled set, at places as residents give them: most a
    shared location anywhere in the city, the rest a neighbourhood picked or typed."""
    rng = random.Random(seed)
    base = labelled_texts()
    found = []
    for _ in range(count):
        category, text = rng.choice(base)
        roll = rng.random()
        if roll < 0.7:
            kind, place = "point", Place(*random_point(rng))
        elif roll < 0.9:
            kind, place = "picked", Place(neighbourhood=rng.choice(NEIGHBOURHOODS))
        else:
            kind, place = "typed", Place(neighbourhood=_typed(rng))
        found.append(Query(kind, text, category, place))
    return found


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"p50": statistics.median(values) if values else float("nan"),
            "p99": percentile(values, 0.99), "max": max(values, default=float("nan")),
            "n": len(values)}  # fmt: skip


# -- the lookup ----------------------------------------------------------------------------------


async def measure_lookups(target: str | Path, asked: Sequence[Query]) -> dict[str, Any]:
    """Each query's look_up (the real encoder), timed; then the SQL alone, and how many
    candidates and matches each had."""
    from handlers.similar.lookup import look_up

    settings = SimilarSettings()
    database = await Database.open(target)
    encoder = E5Encoder()
    try:
        repos = database.reader()
        encoder.encode_now(["calentamiento"])  # the model loads once, at start-up, in the bot
        for query in asked[:5]:  # warm the connection's statements and the page cache
            await look_up(repos, encoder, settings, query.text, category=query.category,
                          place=query.place)  # fmt: skip
        rows = []
        for query in asked:
            started = time.perf_counter()
            found = await look_up(repos, encoder, settings, query.text,
                                  category=query.category, place=query.place)  # fmt: skip
            lookup_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            candidates = await repos.similar.candidates(
                encoder.model, query.category, query.place, settings.radius_meters
            )
            sql_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            await _overlapped(repos, encoder, settings, query)
            overlapped_ms = (time.perf_counter() - started) * 1000
            rows.append({"kind": query.kind, "lookup_ms": lookup_ms, "sql_ms": sql_ms,
                         "overlapped_ms": overlapped_ms, "candidates": len(candidates),
                         "matches": len(found.matches),
                         "encoded": found.vector is not None})  # fmt: skip
        plans = await query_plans(database, asked)
    finally:
        encoder.close()
        await database.close()
    return {"rows": rows, "plans": plans}


async def _overlapped(repos: Any, encoder: E5Encoder, settings: SimilarSettings,
                      query: Query) -> int:  # fmt: skip
    """What a lookup would cost if it encoded the text while the store narrows (the model's
    thread and the database's side by side; it would then encode even with no candidates):
    for comparison only, the product's look_up encodes after. How many it matched."""
    from handlers.similar.match import rank

    candidates, (vector,) = await asyncio.gather(
        repos.similar.candidates(encoder.model, query.category, query.place,
                                 settings.radius_meters),
        encoder.encode([query.text]),
    )  # fmt: skip
    return len(rank(vector, candidates, category=query.category, place=query.place,
                    settings=settings))  # fmt: skip


class _Recorder:
    """A Db that remembers the last read it was asked (the SQL storage/similar.py sends)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.last: tuple[str, Sequence[Any]] = ("", ())

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        self.last = (sql, parameters)
        return await self.db.execute_fetchall(sql, parameters)


async def query_plans(database: Database, asked: Sequence[Query]) -> dict[str, list[str]]:
    """The database's plan for a point lookup and a neighbourhood-only one, of the
    candidates' SQL as the repository sends it (PostgreSQL's with the time it took)."""
    from storage.similar import SimilarRepository

    recorder: Any = _Recorder(database.reader().similar._db)
    repository = SimilarRepository(recorder)
    postgres = type(database).__name__.startswith("Postgres")
    plans: dict[str, list[str]] = {}
    for kind in ("point", "picked"):
        query = next((q for q in asked if q.kind == kind), None)
        if query is None:
            continue
        await repository.candidates(MODEL, query.category, query.place,
                                    SimilarSettings().radius_meters)  # fmt: skip
        sql, values = recorder.last
        explain = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        rows = await recorder.db.execute_fetchall(explain + sql, values)
        plans[kind] = [" ".join(str(v) for v in tuple(row)) for row in rows]
    return plans


# -- the turn that shows candidates ---------------------------------------------------------------


async def measure_turns(target: str | Path, asked: Sequence[Query]) -> dict[str, Any]:
    """Residents go through the intake on the real dispatcher up to the category; that
    answer's turn is timed with the encoder and without (alternating, the same problem and
    place for both), and the difference is the time the lookup adds."""
    from handlers.flows import Dispatcher
    from tests.fakes.clock import FakeClock

    database = await Database.open(target)
    encoder = E5Encoder()
    catalog, clock = Catalog.load(), FakeClock(NOW)
    settings = FlowSettings(lab=lab())
    dispatchers = {
        "encoder": Dispatcher(database, settings, catalog, clock, encoder=encoder),
        "none": Dispatcher(database, settings, catalog, clock, encoder=None),
    }
    encoder.encode_now(["calentamiento"])
    times: dict[str, list[float]] = {"encoder": [], "none": []}
    offered = 0
    run = f"bench-{uuid.uuid4().hex[:8]}"  # new residents each run: the cached file is reused
    try:
        for number, query in enumerate(asked):
            for mode in ("encoder", "none") if number % 2 else ("none", "encoder"):
                chat = _chat(dispatchers[mode], catalog, clock, f"{run}-{mode}-{number}")
                await _to_category(chat, query)
                started = time.perf_counter()
                await chat.send(choice=f"category:{query.category}")
                times[mode].append((time.perf_counter() - started) * 1000)
                if mode == "encoder" and not chat.asked("idea.ask"):
                    offered += 1  # something other than the next question: the offer
    finally:
        encoder.close()
        await database.close()
    added = [a - b for a, b in zip(times["encoder"], times["none"], strict=True)]
    return {"encoder_ms": times["encoder"], "none_ms": times["none"], "added_ms": added,
            "offered": offered}  # fmt: skip


def _chat(dispatcher: Any, catalog: Catalog, clock: Any, user: str) -> Any:
    """tests/fakes/chat.py's resident, with message ids of its own: the cached file remembers
    the ids of every run's messages, and a message seen before gets no answer."""
    from tests.fakes.chat import Chat

    class Resident(Chat):
        sent = 0

        def inbound(self, external_id: str | None = None, **said: Any) -> Any:
            self.sent += 1
            return super().inbound(external_id or f"{self.user}-{self.sent}", **said)

    return Resident(dispatcher, catalog, clock, user=user)


async def _to_category(chat: Any, query: Query) -> None:
    """Start, role, consent, the problem, the place: the intake now asks the category."""
    await chat.command("start")
    await chat.press("role.resident")
    await chat.press("consent.accept")
    await chat.say(query.text)
    place = query.place
    if place.has_point:
        await chat.location(place.latitude, place.longitude)
    elif query.kind == "picked":
        await chat.press_label(place.neighbourhood)
    else:
        await chat.say(place.neighbourhood)
    assert any(c.id.startswith("category:") for c in chat.choices), chat.text


# -- the encoder's cost, in a fresh process -------------------------------------------------------


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def encoding_cost() -> dict[str, Any]:
    """Time per idea (one at a time and in batches of 32) and memory (RSS before loading,
    after loading, after encoding; peak), measured in a fresh process."""
    code = ("import bench.similar_scale as s, json; "
            "print(json.dumps(s._encoding_cost_here()))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout  # fmt: skip
    return dict(json.loads(out.strip().splitlines()[-1]))


def _encoding_cost_here() -> dict[str, Any]:
    texts = [t for _, t in variants(160, random.Random(5))]
    before = _status("VmRSS")
    encoder = E5Encoder()
    started = time.perf_counter()
    encoder.encode_now(["calentamiento"])
    load_s = time.perf_counter() - started
    loaded = _status("VmRSS")
    singles = []
    for text in texts[:64]:
        started = time.perf_counter()
        encoder.encode_now([text])
        singles.append((time.perf_counter() - started) * 1000)
    batches = []
    for start in range(0, len(texts) - 31, 32):
        started = time.perf_counter()
        encoder.encode_now(texts[start : start + 32])
        batches.append((time.perf_counter() - started) * 1000 / 32)
    encoder.close()
    return {"load_s": load_s, "rss_before_mib": before, "rss_loaded_mib": loaded,
            "rss_after_mib": _status("VmRSS"), "peak_rss_mib": _status("VmHWM"),
            "single_ms": summary(singles), "batch32_ms_per_text": summary(batches)}  # fmt: skip


# -- the import -----------------------------------------------------------------------------------

IMPORT_HEADER = ["external_id", "created_at", "status", "category", "place", "latitude",
                 "longitude", "problem", "idea", "anonymous", "publish"]  # fmt: skip


def import_file(path: Path, rows: int, seed: int = 11) -> Path:
    """A CSV with the export's columns: problems as residents write them, places as above."""
    rng = random.Random(seed)
    texts = variants(VARIANTS, random.Random(7))
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(IMPORT_HEADER)
        for n in range(rows):
            category, text = rng.choice(texts)
            named, lat, lon = _place(rng)
            writer.writerow([f"paper-{n}", "2025-03-02", "received", category, named or "",
                             f"{lat:.6f}" if lat is not None else "",
                             f"{lon:.6f}" if lon is not None else "", text,
                             "Arreglarlo con la comunidad.", "yes", "text"])  # fmt: skip
    return path


def measure_import(rows: int, postgres: str | None) -> dict[str, Any]:
    """`minga ideas import` of `rows` rows into an empty database, the vectors' computation
    included, as a person runs it (its own process: start-up and model loading included); and
    `--dry-run` (reading and checking only) of the same file, the baseline."""
    with tempfile.TemporaryDirectory(prefix="minga-import-") as name:
        folder = Path(name)
        path = import_file(folder / "ideas.csv", rows)
        with _import_target(folder, postgres) as target:
            asyncio.run(_count_vectors(target))  # creates the schema, as `minga db upgrade`
            environment = {**os.environ, "MINGA_STORAGE__DATABASE": str(target),
                           "PYTHONPATH": str(ROOT)}  # fmt: skip
            command = [sys.executable, "-m", "bot", "ideas", "import", str(path), "--quiet",
                       "--json"]  # fmt: skip
            dry = _timed_run([*command, "--dry-run"], folder, environment)
            wet = _timed_run(command, folder, environment)
            indexed = asyncio.run(_count_vectors(target))
    return {"rows": rows, "dry_run_s": dry[0], "import_s": wet[0],
            "imported": len(wet[1]["imported"]), "vectors": indexed}  # fmt: skip


@contextlib.contextmanager
def _import_target(folder: Path, postgres: str | None) -> Iterator[str | Path]:
    if postgres is None:
        yield folder / "data" / "minga.sqlite3"
        return
    from tests.fakes.postgres import fresh_database

    with fresh_database(postgres) as url:
        yield url


def _timed_run(command: list[str], folder: Path, environment: dict[str, str]) -> tuple[float, Any]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} failed: {done.stderr or done.stdout}")
    return seconds, json.loads(done.stdout)


async def _count_vectors(target: str | Path) -> int:
    database = await Database.open(target)
    try:
        return await database.reader().similar.count_vectors(MODEL)
    finally:
        await database.close()


# -- quality on the labelled set (bench/similar_eval.py) ------------------------------------------


def quality() -> dict[str, Any]:
    """The chosen matcher as the product runs it (int8, the place filter, [similar]
    min_score) and the lexical baseline (its best threshold, the same filter)."""
    pairs = load_pairs()
    corpus = [p.a.text for p in pairs] + [p.b.text for p in pairs]
    lexical = evaluate(lexical_encoder(corpus), pairs)["filtered"]
    encoder = E5Encoder()
    try:
        product = at_default(encoder.encode_now, pairs)
    finally:
        encoder.close()
    return {"pairs": len(pairs), "product": product,
            "lexical": [lexical.threshold, lexical.precision, lexical.recall,
                        lexical.f1]}  # fmt: skip


# -- the run --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _store(path: Path, postgres: str | None) -> Iterator[str | Path]:
    """The SQLite file itself, or a copy of it in a new database of the PostgreSQL server."""
    if postgres is None:
        yield path
        return
    from storage.sqlite_to_postgres import copy_sqlite_to_postgres
    from tests.fakes.postgres import fresh_database

    with fresh_database(postgres) as url:
        started = time.perf_counter()
        asyncio.run(copy_sqlite_to_postgres(path, url))
        _analyze(url)  # a running server's autovacuum would have: plans need the statistics
        print(f"copied to PostgreSQL in {time.perf_counter() - started:.0f} s")
        yield url


def _analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")


def run(ideas: int, *, postgres: str | None = None, lookups: int = 400, turns: int = 100,
        import_rows: int = 2000, cache: Path = CACHE,
        variants_count: int = VARIANTS) -> dict[str, Any]:  # fmt: skip
    """Every measure, in one run; each table printed and saved (bench/results/) as soon as it
    is measured. The SQLite file is kept in `cache`."""
    path = prepared(ideas, cache, variants_count=variants_count)
    result: dict[str, Any] = {"ideas": ideas, "database": "postgresql" if postgres else "sqlite"}
    with _store(path, postgres) as target:
        result["lookups"] = asyncio.run(measure_lookups(target, queries(lookups)))
        report_lookups(result)
        result["turns"] = asyncio.run(measure_turns(target, queries(turns, seed=5)))
        report_turns(result)
    result["cost"] = encoding_cost()
    result["import"] = measure_import(import_rows, postgres)
    report_cost(result)
    result["quality"] = quality()
    report_quality(result)
    return result


def _ms(values: Sequence[float]) -> list[Any]:
    s = summary(values)
    return [round(s["p50"], 1), round(s["p99"], 1), round(s["max"], 1)]


def _names(result: dict[str, Any]) -> tuple[str, str]:
    """The store's name in titles, and the results' suffix."""
    if result["database"] == "postgresql":
        return "PostgreSQL", "-postgresql"
    return "SQLite", ""


def report_lookups(result: dict[str, Any]) -> None:
    from bench.report import save

    store, suffix = _names(result)
    rows = result["lookups"]["rows"]
    table = []
    for kind in ("point", "picked", "typed", "all"):
        mine = [r for r in rows if kind in ("all", r["kind"])]
        if not mine:
            continue
        p99 = percentile([r["lookup_ms"] for r in mine], 0.99)
        candidates = [r["candidates"] for r in mine]
        overlapped = [r["overlapped_ms"] for r in mine if "overlapped_ms" in r]
        table.append([kind, len(mine), *_ms([r["lookup_ms"] for r in mine]),
                      *_ms([r["sql_ms"] for r in mine])[:2], *_ms(overlapped)[:2],
                      round(statistics.median(candidates)),
                      max(candidates), sum(r["matches"] > 0 for r in mine),
                      "yes" if p99 <= TARGETS["lookup_p99_ms"] else "NO"])  # fmt: skip
    save(f"similar_scale{suffix}",
         f"Similar-ideas lookup with {result['ideas']:,} ideas ({store}; look_up with the real "
         "encoder; point = a shared location, picked/typed = a neighbourhood only)",
         ["place", "lookups", "p50 ms", "p99 ms", "max ms", "SQL p50 ms", "SQL p99 ms",
          "if overlapped p50 ms", "p99 ms", "candidates p50", "candidates max",
          "with matches", "p99 <= 50 ms"], table,
         result["lookups"])  # fmt: skip


def report_turns(result: dict[str, Any]) -> None:
    from bench.report import save

    store, suffix = _names(result)
    turns = result["turns"]
    added = percentile(turns["added_ms"], 0.99)
    save(f"similar_scale_turn{suffix}",
         f"The category answer's turn (the one that shows candidates), real dispatcher, "
         f"{result['ideas']:,} ideas ({store}), {len(turns['added_ms'])} residents each way; "
         f"{turns['offered']} turns offered something",
         ["turn", "p50 ms", "p99 ms", "max ms", "p99 <= 100 ms"],
         [["with the encoder", *_ms(turns["encoder_ms"]), "-"],
          ["encoder=None", *_ms(turns["none_ms"]), "-"],
          ["added (difference per pair)", *_ms(turns["added_ms"]),
           "yes" if added <= TARGETS["turn_added_p99_ms"] else "NO"]], turns)  # fmt: skip


def report_cost(result: dict[str, Any]) -> None:
    from bench.report import save

    store, suffix = _names(result)
    cost, imported = result["cost"], result["import"]
    single, batch = cost["single_ms"], cost["batch32_ms_per_text"]
    save(f"similar_scale_cost{suffix}",
         "Encoding (multilingual-e5-small 4-bit, one thread, a fresh process) and "
         f"`minga ideas import` of {imported['rows']:,} rows into an empty {store} database",
         ["measure", "value"],
         [["model load s", round(cost["load_s"], 2)],
          ["ms per idea, one at a time (p50 / p99)",
           f"{single['p50']:.1f} / {single['p99']:.1f}"],
          ["ms per idea, batches of 32 (p50 / p99)", f"{batch['p50']:.1f} / {batch['p99']:.1f}"],
          ["RSS MiB before loading / loaded / after encoding / peak",
           f"{cost['rss_before_mib']:.0f} / {cost['rss_loaded_mib']:.0f} / "
           f"{cost['rss_after_mib']:.0f} / {cost['peak_rss_mib']:.0f}"],
          ["import s (the command, vectors included) / ideas per s",
           f"{imported['import_s']:.1f} / {imported['rows'] / imported['import_s']:.0f}"],
          ["--dry-run s (reading and checking only, the baseline)",
           f"{imported['dry_run_s']:.1f}"],
          ["ideas imported / vectors stored", f"{imported['imported']} / {imported['vectors']}"]],
         {"cost": cost, "import": imported})  # fmt: skip


def report_quality(result: dict[str, Any]) -> None:
    from bench.report import save

    _, suffix = _names(result)
    q = result["quality"]
    lexical = q["lexical"]
    save(f"similar_scale_quality{suffix}",
         f"On the labelled set ({q['pairs']} pairs), the place and category filter on",
         ["matcher", "threshold", "precision", "recall", "F1"],
         [[f"{CHOSEN} int8 at [similar] min_score", q["product"][2], *q["product"][3:6]],
          ["lexical (Snowball + TF-IDF), best threshold", round(lexical[0], 3),
           round(lexical[1], 3), round(lexical[2], 3), round(lexical[3], 3)]], q)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", action="store_true",
        help="on a throwaway PostgreSQL 15 (a copy of the SQLite file)",
    )  # fmt: skip
    parser.add_argument(
        "--database", metavar="URL",
        help="on this PostgreSQL server (a new database, dropped after)",
    )  # fmt: skip
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.database or not args.postgres:
        from_args(args, args.database)
        return
    from tests.fakes.postgres import throwaway_postgres

    with throwaway_postgres() as server:
        from_args(args, server.dsn)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lookups", type=int, default=400, help="similar-scale: lookups timed")
    parser.add_argument("--turns", type=int, default=100,
                        help="similar-scale: residents each way (encoder, none)")  # fmt: skip
    parser.add_argument("--import-rows", type=int, default=2000,
                        help="similar-scale: rows of the imported CSV")  # fmt: skip


def from_args(args: argparse.Namespace, postgres: str | None = None) -> None:
    run(args.ideas, postgres=postgres, lookups=args.lookups,
        turns=args.turns, import_rows=args.import_rows)  # fmt: skip


if __name__ == "__main__":
    main()
