"""`python -m bench.cpu_profile OUT ARGS...`: `python -m bot ARGS...` under cProfile, timed by
the process's CPU clock, its pstats written to OUT when it stops (SIGTERM, as the benchmarks
stop it).

On a machine shared with other work a sampling profiler (py-spy) counts a thread that waits
for a core as busy, and the wait lands wherever the kernel preempted it (often just after a
write to PostgreSQL's socket woke its backend); this counts only the CPU time the process used.
cProfile slows the process about twofold, so read shares, not milliseconds.
(`BENCH_CPU_PROFILE=PREFIX python -m bench workers` runs each worker so.)
"""

import cProfile
import sys
import time


def main(out: str, arguments: list[str]) -> int:
    from bot.cli.main import main as minga

    profile = cProfile.Profile(time.process_time)
    profile.enable()
    try:
        status = minga(arguments)
    finally:
        profile.disable()
        profile.dump_stats(out)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
