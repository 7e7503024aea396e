"""The workers' benchmark (`python -m bench workers`) end to end at a tiny size: one and two
`minga run` workers on PostgreSQL in webhook mode behind the balancer, residents posting
their intake to it. No timing is asserted: only that every update was answered and that
the figures the table is made of were measured."""

from bench.residents import INTAKE
from bench.workers_bench import Setup, run, table_rows

RESIDENTS = 20
PACED = 10


def test_one_and_two_postgres_workers_answer_every_update_and_are_measured(
    postgres_dsn: str,
) -> None:
    setups = (Setup("postgres", 1), Setup("postgres", 2))
    found = run(residents=RESIDENTS, paced_residents=PACED, rate=50, setups=setups,
                dsn=postgres_dsn)  # fmt: skip
    for setup in setups:
        result = found[setup.label]["median"]
        closed, paced = result["closed"], result["paced"]
        assert (closed["updates"], closed["failures"]) == (RESIDENTS * len(INTAKE), 0), result
        assert (paced["updates"], paced["failures"]) == (PACED * len(INTAKE), 0), result
        assert result["retried"] == 0, result  # every delivery got its 200 the first time
        cpu = closed["cpu_ms_per_update"]
        for group in ("workers", "postgres", "balancer", "server"):
            assert cpu[group] > 0, (group, cpu)
        # Measured at all. Not ">= 1 a turn": PostgreSQL's backends report their counts at most
        # once a second (after 10 s when idle), so a run this short undercounts its last ones.
        assert cpu["transactions_per_update"] > 0, cpu
        # Each worker was measured over the phase.
        spent = [closed["cpu_seconds"][f"worker {n}"] for n in range(setup.workers)]
        assert len(spent) == setup.workers and all(seconds > 0 for seconds in spent), spent
    rows = table_rows(found)
    assert [row[0] for row in rows] == [setup.label for setup in setups]
