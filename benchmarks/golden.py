"""A golden set of runs: every library scenario × 3 seeds, the state at the end of each run.

    python benchmarks/golden.py save golden.npz          # this code's numbers
    python benchmarks/golden.py compare benchmarks/golden-numpy-5efaf8e.npz

``compare`` prints the largest relative difference (scaled by max(|x|, 1)) of each run against
a saved set and the worst overall. ``benchmarks/golden-numpy-5efaf8e.npz`` holds the numbers of
the last numpy step (commit 5efaf8e), which the compiled step (issue 25) agrees with to about
1e-14. Each run keeps every nation's welfare, propellant, rare earths mined and capacity, the
rare-earth price and the trust matrix. Prints; never fails a build.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from sim.model.model import LunarModel
from sim.scenario import load_scenario

LIBRARY = Path(__file__).resolve().parents[1] / "scenarios"
SEEDS = range(3)


def golden() -> dict[str, np.ndarray]:
    runs = {}
    for path in sorted(LIBRARY.glob("*.toml")):
        scenario = load_scenario(path)
        for seed in SEEDS:
            s = LunarModel(scenario, rng=seed).run().state
            runs[f"{path.stem}/{seed}"] = np.concatenate([
                s.welfare_usd_bn, s.propellant_t, s.ree_mined_t, [s.ree_price_usd_per_kg],
                s.trust.ravel(), s.capacity_t_per_yr])
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["save", "compare"])
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    runs = golden()
    if args.action == "save":
        np.savez_compressed(args.file, **runs)
        print(f"wrote {len(runs)} runs to {args.file}")
        return
    saved = np.load(args.file)
    worst = 0.0
    for key, now in runs.items():
        if key not in saved:
            print(f"{key}: not in {args.file}")
            continue
        then = saved[key]
        diff = float(np.max(np.abs(now - then) / np.maximum(np.abs(then), 1.0)))
        worst = max(worst, diff)
        print(f"{key}: {diff:.1e}")
    print(f"worst relative difference over {len(runs)} runs: {worst:.1e}")


if __name__ == "__main__":
    main()
