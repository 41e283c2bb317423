"""Does every lever move something? For each parameter with a range in docs/calibration.md, the
change in each headline outcome between the two ends of its range, on the same seeds.

    python benchmarks/levers.py                 # 4 seeds, 25-year runs, both cores
    python benchmarks/levers.py --seeds 2 --steps 40 --json levers.json

Where a parameter applies: `[economics]` and `[trust]` on the baseline world (the Artemis
Accords), `[market]` under China's export controls (`ree_export_control`), the rare-earth
transport and processing costs where transport is cheap (`cheap_transport`); a strategy's parameter on the nations that use that strategy (if no nation of
the baseline uses it, the US and China are given it); a regime's parameter on that regime's
scenario. A lever is called inert when no outcome moves by at least 1 % of its value at the low
end (or by 0.5 percentage points, for shares); docs/calibration.md says why for each.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sim.runner import run_scenario  # noqa: E402
from sim.scenario.loader import find_scenario, resolve_raw, set_path, validate  # noqa: E402
from sim.strategies import STRATEGIES  # noqa: E402

OUTCOMES = {  # name: (how it is shown, scale, is a share)
    "welfare_total_usd_bn": ("welfare, USD bn", 1.0, False),
    "cooperation_rate": ("cooperation, pp", 100.0, True),
    "incidents": ("incidents", 1.0, False),
    "best_site_depletion": ("best sites used, pp", 100.0, True),
    "leverage_index": ("leverage, pp", 100.0, True),
    "importer_dependence": ("importers' dependence, pp", 100.0, True),
    "ree_price_usd_per_kg": ("rare-earth price, USD/kg", 1.0, False),
    "us_china": ("US-China coordination, pp", 100.0, True),
}
SECTIONS = {"Economics": "economics", "Market": "market", "Trust": "trust"}
# Levers that act only where their mechanism is at work: the rare-earth market under export
# controls, and lunar rare earths where transport is cheap enough to ship them.
WHERE = {"market": "ree_export_control", "ree_return_cost_usd_per_kg": "cheap_transport",
         "ree_operating_cost_usd_per_t": "cheap_transport"}
RANGE = re.compile(r"([-+]?[\d.,]+(?:e[-+]?\d+)?)\s*[–-]\s*([-+]?[\d.,]+(?:e[-+]?\d+)?)")


@dataclass(frozen=True)
class Lever:
    name: str  # as docs/calibration.md writes it
    scenario: str
    paths: tuple[str, ...]  # the dotted paths it sets (several nations may share a strategy)
    low: float
    high: float
    switch: tuple[str, ...] = ()  # nations given the strategy first, if none of them had it


def levers() -> list[Lever]:
    """Every row of docs/calibration.md with a parameter name and a numeric range."""
    found, heading = [], ""
    base = resolve_raw(find_scenario("baseline"))
    for line in (REPO / "docs" / "calibration.md").read_text().splitlines():
        if line.startswith("## "):
            heading = line[3:].split(" (")[0].strip()
            continue
        cells = [c.strip() for c in line.strip("|").split("|")] if line.startswith("|") else []
        name = re.match(r"^`([a-z_.]+)`", cells[0]) if cells else None
        span = RANGE.search(cells[-1]) if cells else None
        if not (name and span):
            continue
        low, high = (float(v.replace(",", "")) for v in span.groups())
        key = name.group(1)
        if heading in SECTIONS:
            scenario = WHERE.get(key) or WHERE.get(SECTIONS[heading], "baseline")
            found.append(Lever(key, scenario, (f"{SECTIONS[heading]}.{key}",), low, high))
        elif heading.startswith("Strategies") and "." in key:
            found.append(_strategy_lever(base, key, low, high))
        elif heading.startswith("Regime") and "." in key:
            regime, param = key.split(".", 1)
            found.append(Lever(key, regime, (f"regime.{param}",), low, high))
    return found


def _strategy_lever(base: dict, key: str, low: float, high: float) -> Lever:
    strategy, param = key.split(".", 1)
    users = [n["name"] for n in base["nations"] if _strategy_name(n["strategy"]) == strategy]
    switch = () if users else ("United States", "China")
    paths = tuple(f'nations."{who}".strategy.{param}' for who in (users or switch))
    return Lever(key, "baseline", paths, low, high, tuple(switch))


def _strategy_name(spec: object) -> str:
    return spec if isinstance(spec, str) else spec["name"]


def outcomes_at(lever: Lever, value: float, seed: int, steps: int) -> dict[str, float]:
    raw = copy.deepcopy(resolve_raw(find_scenario(lever.scenario)))
    strategy = lever.name.split(".")[0]
    for nation in raw["nations"]:
        if nation["name"] in lever.switch:
            nation["strategy"] = {"name": strategy}
    for path in lever.paths:
        set_path(raw, path, value, f"lever {lever.name}")
    result = run_scenario(validate(raw, f"lever {lever.name}"), seed=seed, steps=steps)
    names = list(result.names)
    us, cn = names.index("United States"), names.index("China")
    out = {k: result.overall[k] for k in OUTCOMES if k in result.overall}
    out["us_china"] = float((result.pair_share[us, cn] + result.pair_share[cn, us]) / 2)
    return out


def _one(job: tuple[Lever, float, int, int]) -> dict[str, float]:
    return outcomes_at(*job)


def measure(seeds: int, steps: int, workers: int) -> list[dict]:
    found = levers()
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
    args = parser.parse_args()
    rows = measure(args.seeds, args.steps, args.workers)
    show(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    assert STRATEGIES  # the rules are registered before workers fork
    main()
