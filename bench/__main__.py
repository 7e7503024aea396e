"""`python -m bench [NAME ...]`: run benchmarks (all by default) and print their tables.

Names: throughput, latency, memory, storage, startup. Results go to bench/results/.
"""

import argparse
import statistics
import sys

from bench import storage_bench
from bench.harness import run_bot
from bench.report import save
from bench.residents import INTAKE

TARGETS = {
    "ratio": 0.70,  # Minga's intake throughput / the echo bot's
    "p99_ms_at_100": 50.0,
    "kib_per_conversation": 10.0,
    "my_ideas_ms": 20.0,
    "last_24h_ms": 100.0,
    "startup_seconds": 1.5,
}


def _mark(ok: bool) -> str:
    return "yes" if ok else "NO"


def throughput(residents: list[int]) -> None:
    rows, raw = [], []
    for count in residents:
        echo = run_bot("echo", residents=count, steps=len(INTAKE))
        minga = run_bot("minga", residents=count, steps=len(INTAKE))
        ratio = minga["updates_per_second"] / echo["updates_per_second"]
        rows.append([
            count, minga["updates"], round(minga["updates_per_second"]),
            round(echo["updates_per_second"]), round(ratio, 2), _mark(ratio >= TARGETS["ratio"]),
            round(minga["p50_ms"]), round(minga["p99_ms"]), round(echo["p50_ms"]),
            round(echo["p99_ms"]), minga["failures"] + echo["failures"],
        ])  # fmt: skip
        raw.append({"residents": count, "minga": minga, "echo": echo})
    save(
        "throughput",
        "Intake throughput: residents complete the whole intake at once (closed loop)",
        ["residents", "updates", "Minga upd/s", "echo upd/s", "Minga/echo", ">= 0.70",
         "Minga p50 ms", "Minga p99 ms", "echo p50 ms", "echo p99 ms", "failures"],
        rows, raw,
    )  # fmt: skip


def latency(rate: float, residents: int) -> None:
    rows, raw = [], {}
    for bot in ("minga", "echo", "echo-defaults"):
        result = run_bot(bot, residents=residents, steps=len(INTAKE), rate=rate)
        raw[bot] = result
        ok = result["p99_ms"] <= TARGETS["p99_ms_at_100"] if bot == "minga" else "-"
        rows.append([bot, rate, result["updates"], round(result["updates_per_second"]),
                     round(result["p50_ms"], 1), round(result["p99_ms"], 1),
                     _mark(ok) if ok != "-" else "-"])  # fmt: skip
    save(
        "latency",
        f"Reply time at a steady {rate:g} updates/s ({residents} residents, paced)",
        ["bot", "target upd/s", "updates", "upd/s", "p50 ms", "p99 ms", "p99 <= 50 ms"],
        rows, raw,
    )  # fmt: skip


def memory(conversations: int) -> None:
    idle = run_bot("minga", residents=1, steps=1)
    busy = run_bot("minga", residents=conversations, steps=4)  # all stop at "where?"
    per = (busy["bot_rss_kib"] - idle["bot_rss_kib"]) / conversations
    save(
        "memory",
        f"Memory: RSS of `minga run` with {conversations:,} conversations in progress",
        ["RSS idle KiB", f"RSS with {conversations:,} KiB", "KiB per conversation", "<= 10"],
        [[idle["bot_rss_kib"], busy["bot_rss_kib"], round(per, 2),
          _mark(per <= TARGETS["kib_per_conversation"])]],
        {"idle": idle, "busy": busy},
    )  # fmt: skip


def storage(ideas: int) -> None:
    result = storage_bench.run(ideas)
    mine, day = result["my_ideas_ms"], result["last_24h_ms"]
    baseline = result["select_one_ms"][0]
    save(
        "storage",
        f"Storage with {ideas:,} ideas (baseline: one trivial query through aiosqlite)",
        ["measure", "median", "p99", "baseline median", "target", "met"],
        [
            ["idea inserts/s (repository, 1 transaction each)",
             round(result["inserts_per_second"]), "-",
             f'{round(result["raw_sqlite_inserts_per_second"])} (plain sqlite3)', "-", "-"],
            ['"my ideas" ms', round(mine[0], 2), round(mine[1], 2), round(baseline, 2),
             "<= 20", _mark(mine[0] <= TARGETS["my_ideas_ms"])],
            [f'last 24 h ms ({result["last_24h_rows"]} ideas)', round(day[0], 2),
             round(day[1], 2), round(baseline, 2), "<= 100",
             _mark(day[0] <= TARGETS["last_24h_ms"])],
        ],
        result,
    )  # fmt: skip


def startup(runs: int) -> None:
    rows, raw = [], {}
    for bot in ("minga", "echo"):
        times = [run_bot(bot, residents=1, steps=1)["startup_seconds"] for _ in range(runs)]
        raw[bot] = times
        median = statistics.median(times)
        ok = _mark(median <= TARGETS["startup_seconds"]) if bot == "minga" else "-"
        rows.append([bot, runs, round(median, 2), round(max(times), 2), ok])
    save(
        "startup",
        "Start-up: from process start to the first reply",
        ["bot", "runs", "median s", "max s", "<= 1.5 s"],
        rows, raw,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", default=["storage", "startup", "latency",
                        "memory", "throughput"])  # fmt: skip
    parser.add_argument("--residents", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--paced-residents", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--ideas", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    for name in args.names:
        if name == "throughput":
            throughput(args.residents)
        elif name == "latency":
            latency(args.rate, args.paced_residents)
        elif name == "memory":
            memory(args.conversations)
        elif name == "storage":
            storage(args.ideas)
        elif name == "startup":
            startup(args.runs)
        else:
            parser.error(f"unknown benchmark {name!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
