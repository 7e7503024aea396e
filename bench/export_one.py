"""`python -m bench.export_one FORMAT`: one `minga export ideas` in this process (run in the
folder holding data/minga.sqlite3), then one JSON line: seconds and peak RSS. FORMAT "none"
only imports Minga and opens the database: the baseline a process costs anyway."""

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    started = time.perf_counter()
    fmt = sys.argv[1]
    from bot.cli.main import main as minga

    if fmt == "none":
        assert minga(["ideas", "list", "--limit", "1", "--json"]) == 0
    else:
        out = f"ideas.{fmt}"
        assert minga(["export", "ideas", "--format", fmt, "--output", out, "--json"]) == 0
    seconds = time.perf_counter() - started
    print(json.dumps({"format": fmt, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: a child started
    by fork and exec inherits its parent's ru_maxrss (the bench's, with matplotlib loaded)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


if __name__ == "__main__":
    main()
