"""Issue 19's proof in the suite, smaller: a broadcast to 300 drained by three `minga run`
workers on one PostgreSQL database, one SIGKILLed halfway, against a fake Bot API that answers
429 to anything over 30 messages in a second (`make soak-postgres` runs 10,000)."""

from pathlib import Path

from bench.broadcast_workers import drain
from tests.fakes.postgres import fresh_database


async def test_three_workers_one_killed_each_recipient_once_and_no_429(
    postgres_dsn: str, tmp_path: Path
) -> None:
    with fresh_database(postgres_dsn) as url:
        report = await drain(url, recipients=300, workers=3, folder=tmp_path, timeout=300)
    assert report["killed_at_received"] >= 150  # killed halfway, with rows in its hands
    assert report["missed"] == 0, report
    # Only a row the killed worker had sent but not yet marked can go twice.
    assert report["repeats"] <= report["in_flight_at_kill"], report
    assert report["rate_limited"] == 0, report
    assert report["busiest_second"] <= 30, report
