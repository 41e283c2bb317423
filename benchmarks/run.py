"""lunarsim's benchmark suite: one command, a table of ratios measured in the same run.

    python benchmarks/run.py            # everything but the 10,000-run memory sweep (minutes)
    python benchmarks/run.py --quick    # fewer repeats and a smaller comparison
    python benchmarks/run.py --memory   # also the memory sweep (benchmarks/memory.py)
    python benchmarks/run.py --sobol    # also a Sobol study's time, projected to 100,000 runs
    python benchmarks/run.py --json bench.json             # the table also as JSON, with the
                                                           # commit and the machine
    python benchmarks/run.py --against bench.json          # beside an earlier run's numbers

Absolute times depend on the machine; the ratios are what the targets are about. Each time is
the fastest of several tries (the least disturbed by the rest of the machine). Nothing here is a
test: it prints, and never fails a build.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import synthetic_scenario  # noqa: E402

from sim.economy.reference import resolve_step_reference  # noqa: E402
from sim.economy.step import resolve_step  # noqa: E402
from sim.experiment import ResultStore, load_experiment, run_experiment  # noqa: E402
from sim.experiment.executors import SINGLE_THREADED  # noqa: E402
from sim.model.model import LunarModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

ROWS: list[dict] = []


def report(measure: str, value: str, target: str, met: bool | None,
           number: float | None = None) -> None:
    """One row of the table; ``number`` is the value compared across runs (``--against``)."""
    ROWS.append({"measure": measure, "value": value, "target": target, "number": number,
                 "met": met})
    print(f"  {measure}: {value}  (target {target})", flush=True)


def machine() -> dict:
    """What the numbers were measured on and with."""
    import mesa
    import pandas

    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent, check=False).stdout.strip() or None
    return {"commit": commit, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": platform.machine(), "processor": platform.processor() or None,
            "cores": os.cpu_count(), "system": platform.platform(),
            "python": platform.python_version(), "mesa": mesa.__version__,
            "numpy": np.__version__, "pandas": pandas.__version__}


def best_of(fn, repeats: int) -> float:
    """The fastest of ``repeats`` timings (the least disturbed by the rest of the machine)."""
    return best_of_each([fn], repeats)[0]


def best_of_each(fns: list, repeats: int) -> list[float]:
    """The fastest of ``repeats`` timings of each of ``fns``, taken in turn (A B A B, not A A B
    B), so that a slow spell of a shared machine falls on both sides of a ratio."""
    def timed(fn):
        def run() -> tuple[float, None]:
            start = time.perf_counter()
            fn()
            return time.perf_counter() - start, None
        return run

    return [t for t, _ in fastest_each([timed(fn) for fn in fns], repeats)]


def mid_run_model(scenario, steps: int = 12) -> LunarModel:
    model = LunarModel(scenario, rng=1)
    for _ in range(steps):
        model.step()
    return model


def step_vs_reference(label: str, model: LunarModel, repeats: int) -> float:
    actions, trade = model.decide()
    args = (model.world, model.state, actions, model.rules, model.econ)
    fast = best_of(lambda: resolve_step(*args, np.random.default_rng(0), trade=trade), repeats * 5)
    slow = best_of(lambda: resolve_step_reference(*args, np.random.default_rng(0), trade),
                   max(1, repeats // 2))
    return slow / fast


def run_vs_bare_step(scenario, repeats: int) -> tuple[float, float]:
    """(full run time / the bare step function called as many times, seconds per run)."""
    def full() -> None:
        LunarModel(scenario, rng=2).run()

    model = mid_run_model(scenario, steps=scenario.steps // 2)
    actions, trade = model.decide()
    args = (model.world, model.state, actions, model.rules, model.econ)

    def bare() -> None:
        rng = np.random.default_rng(0)
        for _ in range(scenario.steps):
            resolve_step(*args, rng, trade=trade)

    t_full, t_bare = best_of_each([full, bare], repeats)
    return t_full / t_bare, t_full


def mesa_batch_run(experiment, workers: int) -> tuple[float, dict]:
    """The same runs through one mesa.batch_run call: every scenario, the same seeds."""
    import mesa

    from sim.experiment.design import replicate_seeds

    seeds = replicate_seeds(experiment.spec.master_seed, experiment.spec.replicates)
    scenarios = [experiment.scenario(name, {}) for name in experiment.spec.scenarios]
    params = {"scenario": scenarios}
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.4
        kwargs = {"rng": seeds}
    else:  # Mesa 3.3: the seed is one more model parameter
        params, kwargs = params | {"rng": seeds}, {}
    saved = {k: os.environ.get(k) for k in SINGLE_THREADED}
    os.environ.update(SINGLE_THREADED)  # the same BLAS threads as our workers: a fair race
    start = time.perf_counter()
    try:
        rows = mesa.batch_run(LunarModel, params, number_processes=workers,
                              data_collection_period=-1, display_progress=False,
                              max_steps=max(s.steps for s in scenarios), **kwargs)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    elapsed = time.perf_counter() - start
    seed_of = dict(enumerate(seeds))
    finals = {(row["scenario"].name, row["rng"] if "rng" in row else seed_of[row["iteration"]]):
              row["welfare_total_usd_bn"] for row in rows}
    return elapsed, finals


def ours(experiment, workers: int, backend: str = "processes") -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_experiment(experiment, workers=workers, backend=backend, out=Path(tmp) / "r",
                       series="model")
        elapsed = time.perf_counter() - start
        runs = ResultStore(Path(tmp) / "r").read("runs")
        sm = ResultStore(Path(tmp) / "r").read("series_model")
    # the value mesa.batch_run reports: the end of the run
    at = sm.merge(runs[["run", "steps"]], on="run")
    at = at[at["step"] == at["steps"]]
    return elapsed, {(r.scenario, r.seed): r.welfare_total_usd_bn for r in at.itertuples()}


SHORT_RUNS = """
name = "short_runs"
scenarios = ["two_player_pd"]
replicates = {replicates}
master_seed = 5
"""


def fastest_each(fns: list, repeats: int) -> list:
    """For each of ``fns() -> (seconds, numbers)``, (the fastest time, its numbers) of
    ``repeats`` calls, taken in turn (A B A B)."""
    results: list[list] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, seen in zip(fns, results, strict=True):
            seen.append(fn())
    return [min(seen, key=lambda result: result[0]) for seen in results]


def race(experiment, label: str, target: float, repeats: int = 2) -> None:
    (t_mesa, mesa_finals), (t_ours, our_finals) = fastest_each(
        [lambda: mesa_batch_run(experiment, workers=2), lambda: ours(experiment, workers=2)],
        repeats)
    same = our_finals.keys() == mesa_finals.keys() and all(
        mesa_finals[key] == our_finals[key] for key in our_finals)
    report(f"our processes / mesa.batch_run, {label}", f"{t_mesa / t_ours:.2f}x faster "
           f"({t_ours:.1f} s vs {t_mesa:.1f} s; same numbers: {same})", f">= {target}x",
           t_mesa / t_ours >= target, t_mesa / t_ours)


def scaling(sizes: list[int], steps: int) -> tuple[list[float], float]:
    per_step = []
    for n in sizes:
        scenario = synthetic_scenario(n, years=steps / 4)
        t = best_of(lambda s=scenario: LunarModel(s, rng=1).run(), 1 if n >= 200 else 3)
        per_step.append(t / steps)
        print(f"    {n:>4} nations: {1000 * t / steps:8.2f} ms per step ({t:.1f} s for {steps} steps)",
              flush=True)
    slope = np.polyfit(np.log(sizes), np.log(per_step), 1)[0]
    return per_step, float(slope)


def main() -> None:
    parser = argparse.ArgumentParser(description="lunarsim benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller experiments")
    parser.add_argument("--memory", action="store_true", help="also the 10,000-run memory sweep")
    parser.add_argument("--json", type=Path, help="also write the table to this JSON file")
    parser.add_argument("--against", type=Path, help="an earlier run's JSON, shown beside")
    parser.add_argument("--sensitivity", action="store_true",
                        help="also the Morris screening of every ranged parameter (~10 minutes)")
    parser.add_argument("--sobol", action="store_true",
                        help="also a Sobol study of 12 parameters at 8 base points (~800 runs), "
                        "projected to 1,024 base points (~100,000 runs)")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    print(f"lunarsim benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}")

    print("0. start-up: a command that needs no model")
    t = startup(["scenarios", "list"], 5)
    report("lunarsim scenarios list, whole process (median of 5)", f"{t:.2f} s", "< 0.8 s",
           t < 0.8, t)

    print("1. the compiled step against the loop reference")
    baseline = load_scenario("baseline")
    r = step_vs_reference("baseline", mid_run_model(baseline), repeats)
    report("step speed-up, baseline (11 nations x 10 sites)", f"{r:.0f}x", ">= 20x at 200x200", None,
           r)
    big = mid_run_model(synthetic_scenario(200, sites=200, years=5), steps=4)
    r = step_vs_reference("200x200", big, 1)
    report("step speed-up, 200 nations x 200 sites", f"{r:.0f}x", ">= 20x", r >= 20, r)

    print("2. a full run against its bare step function")
    memory_one = load_scenario("baseline", [f'nations."{n}".strategy=tit_for_tat'
                                            for n in ("United States", "China")])
    ratio, t = run_vs_bare_step(memory_one, repeats)
    report("full run / bare steps, baseline with memory-one rules", f"{ratio:.2f}x ({t:.2f} s/run)",
           "<= 1.5x", ratio <= 1.5, ratio)
    report("memory-one run (s/run)", f"{t:.3f} s", "<= 0.01 s", t <= 0.01, t)
    ratio, t = run_vs_bare_step(baseline, max(1, repeats // 2))
    report("full run / bare steps, baseline as shipped (US and China weigh counterfactuals)",
           f"{ratio:.2f}x ({t:.2f} s/run)", "<= 1.5x", ratio <= 1.5, ratio)
    report("baseline run as shipped (s/run)", f"{t:.3f} s", "<= 0.02 s", t <= 0.02, t)

    print("3. executors: ours against mesa.batch_run, the same runs and seeds, 2 processes")
    replicates = 4 if args.quick else None
    experiment = load_experiment("coop_vs_compete", replicates)
    race(experiment, f"the default comparison ({len(experiment.spec.scenarios)} "
                  "scenarios x 20 seeds, 100 steps)", 2.0)
    with tempfile.TemporaryDirectory() as tmp:
        short = Path(tmp) / "short_runs.toml"
        short.write_text(SHORT_RUNS.format(replicates=100 if args.quick else 1000))
        race(load_experiment(short), f"{'100' if args.quick else '1,000'} short runs (two players, "
             "20 steps)", 3.0)
    (t_two, _), (t_one, _) = fastest_each([lambda: ours(experiment, workers=2),
                                           lambda: ours(experiment, workers=1)], 2)
    report("2 workers / 1 worker", f"{t_one / t_two:.2f}x faster ({t_two:.1f} s vs {t_one:.1f} s)",
           ">= 1.8x", t_one / t_two >= 1.8, t_one / t_two)

    print("4. the default comparison end to end (simulation, statistics, figures), 2 workers")
    from sim.explore.robustness import POINTS, SEEDS

    def compare_job(*options: str) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sim", "compare", "--workers", "2", "--out",
                            str(Path(tmp) / "c"), *options]
                           + (["--replicates", "4"] if args.quick else []),
                           check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - start

    t = compare_job()
    report(f"lunarsim compare as shipped (robustness study {POINTS} x {SEEDS}), wall time",
           f"{t:.1f} s", "< 60 s", t < 60, t)
    if not args.quick:  # the target: a robustness study of 64 points x 3 seeds within the minute
        t = compare_job("--robustness", "64", "--robustness-seeds", "3")
        report("lunarsim compare with a robustness study of 64 x 3, wall time", f"{t:.1f} s",
               "< 60 s", t < 60, t)

    print("5. cost per step against the number of nations (synthetic worlds, 20 sites)")
    sizes = [10, 50, 200, 500]
    steps = 40 if args.quick else 100
    per_step, slope = scaling(sizes, steps)
    report("500 nations x 100 steps", f"{per_step[-1] * 100:.1f} s", "< 1 s", per_step[-1] * 100 < 1,
           per_step[-1] * 100)
    report("growth exponent of cost per step in N", f"{slope:.2f}", "<= 2 (pairs)", slope <= 2.0,
           slope)

    if args.sensitivity:
        print("7. Morris screening of every ranged parameter for the default comparison, 2 workers")
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sim", "explore", "sensitivity",
                            "coop_vs_compete", "--workers", "2", "--out", str(Path(tmp) / "m")],
                           check=True, stdout=subprocess.DEVNULL)
            t = time.perf_counter() - start
        report("lunarsim explore sensitivity (Morris, 10 trajectories), wall time",
               f"{t / 60:.1f} min", "< 15 min on 2 cores", t < 15 * 60, t)

    if args.sobol:
        print("8. a Sobol study of the default comparison, 2 workers: 8 and 16 base points, "
              "projected")
        per = (len(SOBOL_PARAMETERS) + 2) * len(experiment.spec.scenarios)  # runs a base point
        times = {}
        for size in (8, 16):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "sim", "explore", "sensitivity",
                                "coop_vs_compete", "--method", "sobol", "--size", str(size),
                                "--workers", "2", "--out", str(Path(tmp) / "s"),
                                *(x for p in SOBOL_PARAMETERS for x in ("-p", p))],
                               check=True, stdout=subprocess.DEVNULL)
                times[size] = time.perf_counter() - start
        # a line through the two: a fixed part (start, analysis) and a part per base point
        slope = (times[16] - times[8]) / 8
        projected = (times[8] + slope * (1024 - 8)) / 3600
        report(f"Sobol study at N = 1,024 ({per * 1024:,} runs), projected from N = 8 and 16 "
               f"({times[8]:.0f} s, {times[16]:.0f} s; {slope / per * 1000:.0f} ms a run)",
               f"{projected:.2f} h", "< 1 h on 2 cores", projected < 1.0, projected)

    if args.memory:
        print("6. peak memory of a 10,000-run sweep")
        subprocess.run([sys.executable, str(Path(__file__).parent / "memory.py")], check=True)

    earlier = {}
    if args.against:
        earlier = {r["measure"]: r for r in json.loads(args.against.read_text())["rows"]}
    print()
    print(table(ROWS, earlier))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": ROWS}, indent=2) + "\n")
        print(f"wrote {args.json}")


# A Sobol study's parameters: 12 of the calibration's ranged ones, so that N = 1,024 base points
# make 1,024 x 14 x 7 = 100,352 runs of the default comparison, the "about 100,000"
SOBOL_PARAMETERS = [
    "economics.propellant_value_usd_per_kg", "economics.race_advantage", "economics.interference",
    "economics.synergy", "economics.incident_rate_per_year", "economics.discount_rate_per_year",
    "market.ree_price_usd_per_kg", "market.control_severity", "market.coercion_weight",
    "trust.learning_rate", "strategy.forward_looking.discount_per_year",
    "strategy.forward_looking.prior_conditional"]


def startup(command: list[str], repeats: int) -> float:
    """Median wall time of the whole ``lunarsim`` process for ``command``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", *command], check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def table(rows: list[dict], earlier: dict[str, dict]) -> str:
    """The rows as a Markdown table (the README's benchmark section shows it), with an earlier
    run's value beside each where one is given."""
    head = ["measure", "value", "target", "met"] + (["earlier"] if earlier else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        met = "-" if r["met"] is None else ("yes" if r["met"] else "**no**")
        cells = [r["measure"], r["value"], r["target"], met]
        if earlier:
            cells.append(earlier[r["measure"]]["value"] if r["measure"] in earlier else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
