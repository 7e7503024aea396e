"""The benchmark harness still works end to end (no timings are checked here)."""

import json
from pathlib import Path

import pytest

from bench import report
from bench.__main__ import main
from bench.harness import run_bot
from bench.residents import INTAKE
from bench.storage_bench import run as run_storage


def test_minga_and_the_echo_bot_complete_the_scripted_intake() -> None:
    for bot in ("minga", "echo"):
        result = run_bot(bot, residents=3, steps=len(INTAKE))
        assert result["failures"] == 0, bot
        assert result["updates"] == 3 * len(INTAKE), bot
        assert 0 < result["bot_rss_kib"] <= result["bot_peak_rss_kib"]


def test_the_storage_benchmark_answers_its_queries() -> None:
    result = run_storage(2_000)
    assert result["last_24h_rows"] >= 1
    assert result["inserts_per_second"] > 0


def test_the_rss_benchmark_reports_peak_memory_idle_and_through_the_intake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "RESULTS", tmp_path)  # not over the real results
    assert main(["rss", "--residents", "3"]) == 0
    document = json.loads((tmp_path / "rss.json").read_text())
    idle, intake = document["raw"]["idle"], document["raw"]["intake"]["3"]
    assert intake["updates"] == 3 * len(INTAKE) and intake["failures"] == 0
    # The peak is what the process reached, so never below what it holds at the end.
    for run in (idle, intake):
        assert 0 < run["bot_rss_kib"] <= run["bot_peak_rss_kib"]
    assert len(document["table"]["rows"]) == 2


def test_the_doctor_benchmark_passes_every_check() -> None:
    import asyncio

    from bench.doctor_bench import _measure

    result = asyncio.run(_measure(1))
    assert result["exit_statuses"] == [0] and result["not_ok"] == []
