"""Several `minga run` workers on PostgreSQL against one on SQLite (issue 19; `python -m bench
workers`).

Each configuration, in the same run and the same harness: the workers in Telegram webhook mode
behind the round-robin balancer (bench/balancer.py, its own process), the fake Bot API and the
residents in another process (bench/webhook_residents.py) posting each update to the balancer
with the secret header. SQLite runs one worker in webhook mode too, so that the four differ
only in the database and the number of workers (polling's figure is `python -m bench
throughput`'s). Two phases on the same workers: N residents doing the whole intake at once
(closed loop: throughput), then residents paced to a steady rate (reply p50/p99).

CPU time is measured over each phase for each group of processes (the workers, PostgreSQL's
server and its backends, the balancer, the fake and the residents) and for the whole machine,
and divided by the updates handled: on a machine shared with other work it moves much less
than updates/s does.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import ROOT, free_port
from bench.residents import INTAKE
from tests.fakes.postgres import (
    HOW_TO_GET,
    created_database,
    drop_database,
    find_bindir,
    throwaway_postgres,
)
from tests.fakes.telegram_api import TOKEN

SECRET = "bench-workers-webhook-secret"
START_SECONDS = 60  # for every worker to answer /readyz
WAIT_SECONDS = 1800  # for a configuration's two phases
# The pace must not bind (the fake has no flood control): each worker paces at its share.
UNBOUND_RATE = 1000
IDLE_SECONDS = 5  # measured before the traffic: what the processes spend doing nothing
GROUPS = ("workers", "postgres", "balancer", "server")  # whose CPU is measured


@dataclass(frozen=True)
class Setup:
    """One configuration: the database kind and how many workers."""

    database: str  # "sqlite" or "postgres"
    workers: int

    @property
    def label(self) -> str:
        name = "SQLite" if self.database == "sqlite" else "PostgreSQL"
        return f"{name}, {self.workers} worker{'s' if self.workers > 1 else ''}"


SETUPS = (Setup("sqlite", 1), Setup("postgres", 1), Setup("postgres", 2), Setup("postgres", 3))


def _config(folder: Path, database: str, base_url: str) -> Path:
    """One config file for all the workers (each gets its port from MINGA_WEB__PORT)."""
    path = folder / "config.toml"
    path.write_text(
        f"""[telegram]
token = "{TOKEN}"
base_url = "{base_url}"
mode = "webhook"
webhook_url = "https://minga.example.org/webhooks/telegram"
webhook_secret = "{SECRET}"
max_messages_per_second = {UNBOUND_RATE}
[web]
port = 0
[storage]
database = "{database}"
media_dir = "{folder / "media"}"
upgrade_at_start = false
[log]
level = "WARNING"
""",
        "utf-8",
    )
    return path


def _environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment["PYTHONPATH"] = str(ROOT)
    return environment


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _wait_ready(ports: list[int], processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    waiting = list(ports)
    while waiting:
        _running(processes, log)
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers on {waiting} not ready in {START_SECONDS} s: see {log}")
        waiting = [port for port in waiting if not _ready(port)]
        time.sleep(0.1)


def _running(processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    stopped = [p.returncode for p in processes if p.poll() is not None]
    if stopped:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise RuntimeError(f"a process stopped by itself (exit {stopped[0]}):\n{tail}")


def _stop(process: subprocess.Popen[bytes], how: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def _database(setup: Setup, folder: Path, dsn: str | None) -> Iterator[str]:
    """A fresh database for one configuration: a SQLite file, or one on the server at `dsn`."""
    if setup.database == "sqlite":
        yield str(folder / "minga.sqlite3")
        return
    if dsn is None:
        raise RuntimeError(f"{setup.label}: no PostgreSQL server. {HOW_TO_GET}")
    url = created_database(dsn)
    try:
        yield url
    finally:
        drop_database(dsn, url)


def postmaster_pid(dsn: str) -> int | None:
    """The server's main process, whose children are its backends: the parent of our own
    backend (None when the server runs on another machine)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute("SELECT pg_backend_pid()").fetchone()
    stat = Path(f"/proc/{row[0] if row else 0}/stat")
    if not stat.exists():
        return None
    return int(stat.read_text().rsplit(")", 1)[1].split()[1])


def _slug(setup: Setup) -> str:
    return setup.label.replace(", ", "-").replace(" ", "")


def _worker_command(config: Path, setup: Setup, number: int) -> list[str]:
    """`minga run`; with BENCH_CPU_PROFILE=PREFIX under cProfile timed by its CPU clock
    (bench/cpu_profile.py: PREFIX.<configuration>.<n>.pstats)."""
    prefix = os.environ.get("BENCH_CPU_PROFILE")
    if prefix:
        out = f"{prefix}.{_slug(setup)}.{number}.pstats"
        return [sys.executable, "-m", "bench.cpu_profile", out, "run", "--config", str(config)]
    return [sys.executable, "-m", "bot", "run", "--config", str(config)]


def _profilers(
    workers: list[subprocess.Popen[bytes]], setup: Setup
) -> list[subprocess.Popen[bytes]]:
    """With BENCH_PROFILE=PREFIX: py-spy attached to each worker (raw folded stacks in
    PREFIX.<configuration>.<n>.txt). Attached, not as the parent, so that its own CPU is not
    counted as the worker's."""
    prefix = os.environ.get("BENCH_PROFILE")
    if not prefix:
        return []
    slug = _slug(setup)
    return [
        subprocess.Popen(["py-spy", "record", "--nonblocking", "-r", "100", "-f", "raw",
                          "-o", f"{prefix}.{slug}.{n}.txt", "--pid", str(worker.pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for n, worker in enumerate(workers)
    ]  # fmt: skip


def run_setup(
    setup: Setup, *, residents: int, paced_residents: int, rate: float,
    dsn: str | None, steps: int = len(INTAKE),
) -> dict[str, Any]:  # fmt: skip
    """One configuration's two phases, everything started and stopped here."""
    environment = _environment()
    with tempfile.TemporaryDirectory(prefix="minga-bench-workers-") as name:
        folder = Path(name)
        log = folder / "processes.log"
        with _database(setup, folder, dsn) as database, log.open("ab") as out:
            api_port, balancer_port = free_port(), free_port()
            config = _config(folder, database, f"http://127.0.0.1:{api_port}/bot")
            subprocess.run([sys.executable, "-m", "bot", "db", "upgrade", "--config", str(config)],
                           cwd=ROOT, env=environment, stdout=out, stderr=out,
                           check=True)  # fmt: skip
            go, results = folder / "go.json", folder / "results.json"
            spec = {"residents": residents, "steps": steps, "paced_residents": paced_residents,
                    "rate": rate, "warmup": 4 * setup.workers, "go": str(go),
                    "idle_seconds": IDLE_SECONDS,
                    "webhook_url": f"http://127.0.0.1:{balancer_port}/webhooks/telegram",
                    "secret": SECRET}  # fmt: skip
            started: list[subprocess.Popen[bytes]] = []
            profilers: list[subprocess.Popen[bytes]] = []
            try:
                started.append(subprocess.Popen(
                    [sys.executable, "-m", "bench.webhook_residents", "--port", str(api_port),
                     "--spec", json.dumps(spec), "--out", str(results)],
                    cwd=ROOT, env=environment, stdout=out, stderr=out,
                ))  # fmt: skip
                ports = [free_port() for _ in range(setup.workers)]
                workers = [
                    subprocess.Popen(_worker_command(config, setup, n), cwd=ROOT, stdout=out,
                                     stderr=out, env=environment | {"MINGA_WEB__PORT": str(port)})
                    for n, port in enumerate(ports)
                ]  # fmt: skip
                started += workers
                balancer = subprocess.Popen(
                    [sys.executable, "-m", "bench.balancer", "--port", str(balancer_port),
                     *(f"127.0.0.1:{port}" for port in ports)],
                    cwd=ROOT, env=environment, stdout=out, stderr=out,
                )  # fmt: skip
                started.append(balancer)
                _wait_ready([*ports, balancer_port], started, log)
                profilers = _profilers(workers, setup)
                found_pid = postmaster_pid(dsn) if dsn and setup.database == "postgres" else None
                postgres = [found_pid] if found_pid else []
                groups = {"workers": [w.pid for w in workers], "balancer": [balancer.pid],
                          "postgres": postgres}  # fmt: skip
                counted = database if setup.database == "postgres" else None
                watch = {"processes": groups, "database": counted}
                go.write_text(json.dumps(watch), "utf-8")
                deadline = time.monotonic() + WAIT_SECONDS
                while not results.exists():
                    _running(started, log)
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{setup.label}: not done in {WAIT_SECONDS} s")
                    time.sleep(0.2)
                found: dict[str, Any] = json.loads(results.read_text())
            finally:
                for profiler in profilers:  # py-spy writes its profile on SIGINT
                    _stop(profiler, signal.SIGINT)
                for process in reversed(started):
                    _stop(process)
    found["setup"] = {"database": setup.database, "workers": setup.workers}
    return found


def per_update(phase: dict[str, Any]) -> dict[str, float]:
    """CPU milliseconds per update handled, by group, their sum ("ours"), and the machine's
    busy cores over the phase (all users: the other engineers' work too)."""
    updates = max(1, phase["updates"])
    cpu = phase["cpu_seconds"]
    shares = {group: cpu.get(group, 0.0) * 1000 / updates for group in GROUPS}
    shares["ours"] = sum(shares.values())
    shares["machine_busy_cores"] = cpu["machine"] / phase["wall_seconds"]
    shares["ours_cores"] = sum(cpu.get(g, 0.0) for g in GROUPS) / phase["wall_seconds"]
    if phase.get("database_counts"):  # PostgreSQL's transactions (and rows) per update
        for name, count in phase["database_counts"].items():
            shares[name.removeprefix("pg_") + "_per_update"] = count / updates
    return shares


def idle_cores(idle: dict[str, float]) -> dict[str, float]:
    """Cores each group used with no traffic at all (all workers together; PostgreSQL)."""
    wall = idle.get("at") or 1.0
    return {group: idle.get(group, 0.0) / wall for group in ("workers", "postgres")}


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median closed-loop updates/s (the lower middle of an even count)."""
    ordered = sorted(runs, key=lambda run: run["closed"]["updates_per_second"])
    return ordered[(len(ordered) - 1) // 2]


def run(
    *, residents: int = 1000, paced_residents: int = 200, rate: float = 100.0, rounds: int = 1,
    setups: tuple[Setup, ...] = SETUPS, dsn: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Every configuration `rounds` times, alternating; for each, the run with the median
    throughput and all the runs' figures."""
    runs: dict[str, list[dict[str, Any]]] = {setup.label: [] for setup in setups}
    for _ in range(rounds):
        for setup in setups:
            result = run_setup(setup, residents=residents, paced_residents=paced_residents,
                               rate=rate, dsn=dsn)  # fmt: skip
            for phase in ("closed", "paced"):
                if result.get(phase):
                    result[phase]["cpu_ms_per_update"] = per_update(result[phase])
            result["idle_cores"] = idle_cores(result["idle_cpu_seconds"])
            runs[setup.label].append(result)
    return {label: {"median": _median_run(found), "runs": found} for label, found in runs.items()}


def _row(label: str, median: dict[str, Any], base: float, all_rates: list[float]) -> list[Any]:
    closed, paced = median["closed"], median["paced"]
    cpu = closed["cpu_ms_per_update"]
    rates = ", ".join(str(round(r)) for r in all_rates)
    return [
        label, round(closed["updates_per_second"]) if len(all_rates) == 1 else
        f"{round(closed['updates_per_second'])} ({rates})",
        round(closed["updates_per_second"] / base, 2),
        round(paced["updates_per_second"]) if paced else "-",
        round(paced["p50_ms"], 1) if paced else "-",
        round(paced["p99_ms"], 1) if paced else "-",
        round(cpu["workers"], 2), round(cpu["postgres"], 2), round(cpu["balancer"], 2),
        round(cpu["server"], 2), round(cpu["ours"], 2),
        f"{cpu['ours_cores']:.2f} / {cpu['machine_busy_cores']:.2f}",
        closed["failures"] + (paced["failures"] if paced else 0) + median["retried"],
    ]  # fmt: skip


HEADER = [
    "configuration", "upd/s closed loop", "/ SQLite 1", "upd/s paced", "p50 ms at rate",
    "p99 ms at rate", "CPU ms/upd workers", "PostgreSQL", "balancer", "fake+residents",
    "all ours", "cores ours / machine", "failures+resent",
]  # fmt: skip


def table_rows(found: dict[str, Any]) -> list[list[Any]]:
    labels = list(found)
    base_label = Setup("sqlite", 1).label
    base_run = found.get(base_label, found[labels[0]])["median"]
    base = base_run["closed"]["updates_per_second"]
    return [
        _row(label, found[label]["median"], base,
             [r["closed"]["updates_per_second"] for r in found[label]["runs"]])
        for label in labels
    ]  # fmt: skip


def title(residents: int, paced_residents: int, rate: float, rounds: int) -> str:
    rounds_said = f"the median of {rounds} alternating rounds" if rounds > 1 else "one round"
    return (
        f"Workers: {residents:,} residents doing the intake at once over webhooks (closed loop), "
        f"then {paced_residents} paced to {rate:g} updates/s; each configuration's workers "
        f"behind bench/balancer.py; {rounds_said}; CPU ms per update of the closed loop, by "
        "process group"
    )


@contextlib.contextmanager
def postgres_server() -> Iterator[str | None]:
    """A throwaway PostgreSQL for the run (its address); None where none is installed."""
    if find_bindir() is None:
        yield None
        return
    with throwaway_postgres() as server:
        yield server.dsn


def main(residents: int, paced_residents: int, rate: float, rounds: int) -> None:
    """`python -m bench workers`: the four configurations, the table, the raw figures."""
    from bench.report import save

    with postgres_server() as server:
        setups = SETUPS if server is not None else SETUPS[:1]
        if server is None:
            print(f"workers: PostgreSQL configurations skipped. {HOW_TO_GET}", file=sys.stderr)
        found = run(residents=residents, paced_residents=paced_residents, rate=rate,
                    rounds=rounds, setups=setups, dsn=server)  # fmt: skip
    save(
        "workers", title(residents, paced_residents, rate, rounds), HEADER, table_rows(found),
        {"residents": residents, "paced_residents": paced_residents, "rate": rate,
         "rounds": rounds, "configurations": found},
    )  # fmt: skip


def _setup(text: str) -> Setup:
    """ "sqlite:1", "postgres:3"."""
    database, _, workers = text.partition(":")
    if database not in ("sqlite", "postgres") or not workers.isdigit() or int(workers) < 1:
        raise ValueError(f"not a configuration: {text!r} (e.g. sqlite:1, postgres:3)")
    return Setup(database, int(workers))


def _main() -> int:
    """`python -m bench.workers_bench [sqlite:1 postgres:2 ...]`: chosen configurations, the
    table printed (not saved), the median runs' figures as JSON."""
    import argparse

    from bench.report import table

    parser = argparse.ArgumentParser(
        prog="python -m bench.workers_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "setups", nargs="*", type=_setup, default=list(SETUPS),
        help="configurations, e.g. sqlite:1 postgres:2 (default: the four)",
    )  # fmt: skip
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--paced-residents", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=1)
    arguments = parser.parse_args()
    with postgres_server() as postgres:
        if postgres is None and any(s.database == "postgres" for s in arguments.setups):
            print(HOW_TO_GET, file=sys.stderr)
            return 1
        results = run(
            residents=arguments.residents, paced_residents=arguments.paced_residents,
            rate=arguments.rate, rounds=arguments.rounds, setups=tuple(arguments.setups),
            dsn=postgres,
        )  # fmt: skip
    heading = title(arguments.residents, arguments.paced_residents, arguments.rate,
                    arguments.rounds)  # fmt: skip
    print(table(heading, HEADER, table_rows(results)))
    print(json.dumps({k: v["median"] for k, v in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
