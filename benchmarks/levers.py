"""Does every lever move something? For each parameter with a range in sim/scenario/calibration.toml
(the tables of docs/calibration.md), the change in each headline outcome between the two ends of
its range, on the same seeds.

    python benchmarks/levers.py                 # 4 seeds, 25-year runs, both cores
    python benchmarks/levers.py --seeds 2 --steps 40 --json levers.json
    python benchmarks/levers.py --only regime.       # one family of levers

Where a parameter applies is its `where` in sim/scenario/calibration.toml: `[economics]`, `[trust]`
and `[market]` on the baseline world (the Artemis Accords, where China's export controls come
from play), the rare-earth transport and processing costs where transport is cheap
(`cheap_transport`), a regime's parameter on that regime's scenario (the multilateral regime's on
the inclusive one, whose members stay some years at the defaults); a strategy's parameter on
the nations that use that strategy (if no nation of the baseline uses it, the US and China are
given it). "years in the regime" is the mean over nations of the years each was a member. A lever is
called inert when no outcome moves by at least 1 % of its value at the low
end (or by 0.5 percentage points, for shares); docs/calibration.md says why for each.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sim.experiment.run import run_scenario  # noqa: E402
from sim.rules.strategies import STRATEGIES  # noqa: E402
from sim.scenario.calibration import Parameter, ranged  # noqa: E402
from sim.scenario.loader import find_scenario, resolve_raw, validate  # noqa: E402

OUTCOMES = {  # name: (how it is shown, scale, is a share)
    "welfare_total_usd_bn": ("welfare, USD bn", 1.0, False),
    "cooperation_rate": ("cooperation, pp", 100.0, True),
    "incidents": ("incidents", 1.0, False),
    "best_site_depletion": ("best sites used, pp", 100.0, True),
    "leverage_index": ("leverage, pp", 100.0, True),
    "importer_dependence": ("importers' dependence, pp", 100.0, True),
    "ree_price_usd_per_kg": ("rare-earth price, USD/kg", 1.0, False),
    "us_china": ("US-China coordination, pp", 100.0, True),
    "member_years": ("years in the regime", 1.0, False),
    "ree_costs_total_usd_bn": ("rare-earth costs, USD bn", 1.0, False),
    "control_episodes": ("control episodes", 1.0, False),
}


@dataclass(frozen=True)
class Lever:
    parameter: Parameter
    switch: tuple[str, ...] = ()  # nations given the strategy first, if none of them had it

    @property
    def name(self) -> str:
        return self.parameter.name

    @property
    def scenario(self) -> str:
        return self.parameter.where

    @property
    def low(self) -> float:
        return self.parameter.range[0]

    @property
    def high(self) -> float:
        return self.parameter.range[1]


def levers() -> list[Lever]:
    """Every parameter of sim/scenario/calibration.toml with a range. A strategy's parameter acts on the
    nations that play it; if none in its scenario does, the US and China are given it."""
    found = []
    for p in ranged():
        table = resolve_raw(find_scenario(p.where))
        switch = ()
        if p.kind == "strategy" and not p.apply(copy.deepcopy(table), p.range[0]):
            switch = ("United States", "China")
        found.append(Lever(p, switch))
    return found


def outcomes_at(lever: Lever, value: float, seed: int, steps: int) -> dict[str, float]:
    raw = copy.deepcopy(resolve_raw(find_scenario(lever.scenario)))
    for nation in raw["nations"]:
        if nation["name"] in lever.switch:
            nation["strategy"] = {"name": lever.parameter.parts[1]}
    lever.parameter.apply(raw, value)
    result = run_scenario(validate(raw, f"lever {lever.name}"), seed=seed, steps=steps)
    names = list(result.names)
    us, cn = names.index("United States"), names.index("China")
    out = {k: result.overall[k] for k in OUTCOMES if k in result.overall}
    out["us_china"] = float((result.pair_share[us, cn] + result.pair_share[cn, us]) / 2)
    summary = result.nation_summary_columns()
    out["member_years"] = float(summary["member_years"].mean())
    out["control_episodes"] = float(summary["control_episodes"].sum())
    return out


def _one(job: tuple[Lever, float, int, int]) -> dict[str, float]:
    return outcomes_at(*job)


def measure(seeds: int, steps: int, workers: int, only: str = "") -> list[dict]:
    found = [lever for lever in levers() if lever.name.startswith(only)]
    jobs = [(lever, end, seed, steps) for lever in found for end in (lever.low, lever.high)
            for seed in range(seeds)]
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_one, jobs, chunksize=4))
    rows, k = [], 0
    for lever in found:
        ends = []
        for _ in (lever.low, lever.high):
            ends.append({o: float(np.mean([results[k + s][o] for s in range(seeds)])) for o in OUTCOMES})
            k += seeds
        change = {o: ends[1][o] - ends[0][o] for o in OUTCOMES}
        moved = [o for o in OUTCOMES if _measurable(change[o], ends[0][o], OUTCOMES[o][2])]
        rows.append({"lever": lever.name, "scenario": lever.scenario, "low": lever.low,
                     "high": lever.high, "change": change, "moves": moved})
    return rows


def _measurable(change: float, at_low: float, share: bool) -> bool:
    if share:
        return abs(change) >= 0.005
    return abs(change) >= max(0.01 * abs(at_low), 1e-9)


def show(rows: list[dict]) -> None:
    heads = [label for label, _, _ in OUTCOMES.values()]
    print(f"{'lever':44s} {'range':>17s} " + " ".join(f"{h:>14.14s}" for h in heads) + "  verdict")
    for r in rows:
        cells = [f"{r['change'][o] * OUTCOMES[o][1]:+14.3g}" for o in OUTCOMES]
        verdict = "moves " + ", ".join(r["moves"]) if r["moves"] else "INERT"
        span = f"{r['low']:g} – {r['high']:g}"
        print(f"{r['lever']:44.44s} {span:>17s} " + " ".join(cells) + f"  {verdict}")
    inert = [r["lever"] for r in rows if not r["moves"]]
    print(f"\n{len(rows)} levers; inert: {', '.join(inert) if inert else 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=None, help="default: each scenario's horizon")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--only", default="", help="the levers whose name starts with this")
    args = parser.parse_args()
    rows = measure(args.seeds, args.steps, args.workers, args.only)
    show(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    assert STRATEGIES  # the rules are registered before workers fork
    main()
