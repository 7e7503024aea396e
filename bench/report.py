"""Printing a benchmark's table and keeping it as JSON in bench/results/."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    cells = [header, *[[_cell(value) for value in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [f"### {title}", ""]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def save(name: str, title: str, header: list[str], rows: list[list[Any]], raw: Any) -> None:
    """Print the table and write bench/results/<name>.json (table and raw figures)."""
    text = table(title, header, rows)
    print(text, flush=True)
    print(flush=True)
    RESULTS.mkdir(exist_ok=True)
    document = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "table": {"title": title, "header": header, "rows": rows},
        "raw": raw,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=2), "utf-8")
    (RESULTS / f"{name}.md").write_text(text + "\n", "utf-8")


def _cpus() -> int:
    return len(os.sched_getaffinity(0))
