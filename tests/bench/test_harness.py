"""The benchmark harness still works end to end (no timings are checked here)."""

from bench.harness import run_bot
from bench.residents import INTAKE
from bench.storage_bench import run as run_storage


def test_minga_and_the_echo_bot_complete_the_scripted_intake() -> None:
    for bot in ("minga", "echo"):
        result = run_bot(bot, residents=3, steps=len(INTAKE))
        assert result["failures"] == 0, bot
        assert result["updates"] == 3 * len(INTAKE), bot
        assert result["bot_rss_kib"] > 0


def test_the_storage_benchmark_answers_its_queries() -> None:
    result = run_storage(2_000)
    assert result["last_24h_rows"] >= 1
    assert result["inserts_per_second"] > 0


def test_the_doctor_benchmark_passes_every_check() -> None:
    import asyncio

    from bench.doctor_bench import _measure

    result = asyncio.run(_measure(1))
    assert result["exit_statuses"] == [0] and result["not_ok"] == []
