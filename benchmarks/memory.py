"""Peak memory of a large sweep, and whether it grows with the number of runs.

Runs `lunarsim batch` on a sweep of the two-player scenario with 1,000 and 10,000 runs (2
workers, every series kept) and samples the resident memory of the whole process tree (the
batch and its workers) every 0.1 s. Prints the peaks and their ratio; flat means a ratio near 1.

    python benchmarks/memory.py [--runs 1000 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP = """
name = "memory_sweep"
scenarios = ["two_player_pd"]
replicates = {replicates}
master_seed = 1
horizon_years = 5

[sweep]
"economics.synergy" = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]
"""


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def peak_memory(runs: int, workers: int, folder: Path) -> tuple[int, float]:
    experiment = folder / f"sweep_{runs}.toml"
    experiment.write_text(SWEEP.format(replicates=runs // 10))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sim", "batch", str(experiment), "--workers",
                             str(workers), "--out", str(folder / f"out_{runs}")],
                            stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_bytes(proc.pid))
        time.sleep(0.1)
    if proc.returncode != 0:
        raise SystemExit(f"batch of {runs} runs failed with exit code {proc.returncode}")
    return peak, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [(runs, *peak_memory(runs, args.workers, Path(tmp))) for runs in args.runs]
    print(f"{'runs':>8} {'peak MB':>9} {'seconds':>8}")
    for runs, peak, seconds in rows:
        print(f"{runs:>8} {peak / 2**20:>9.0f} {seconds:>8.1f}")
    (small, p_small, _), (large, p_large, _) = rows[0], rows[-1]
    print(f"peak memory ratio {large}/{small} runs: {p_large / p_small:.2f} "
          f"(target: about 1, and under 1 GB: {'yes' if p_large < 2**30 else 'NO'})")


if __name__ == "__main__":
    main()
