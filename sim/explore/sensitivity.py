"""Global sensitivity of the comparison's outcomes to every ranged parameter (SALib).

Which assumptions do the conclusions rest on? Each parameter of ``sim/scenario/calibration.toml``
with a range is varied over it (on a log scale where the range spans decades), all at once:

- **Morris elementary effects** screen every parameter: ``trajectories`` random one-at-a-time
  paths of D + 1 points on a ``levels``-level grid of the unit cube, so r (D + 1) design points.
  The effect of a step is the change in an output over the change in the parameter, in units
  of its whole range; μ* (the mean absolute effect, in the output's unit per range) ranks
  influence, σ (their spread) flags interactions or a non-linear response, and μ*'s bootstrap
  interval says how sure the ranking is (Morris 1991; Campolongo, Cariboni & Saltelli 2007).
- **Sobol indices** (Saltelli's scheme, N (D + 2) points): the share of an output's variance a
  parameter explains alone (S1) and with its interactions (ST), with bootstrap intervals
  (Saltelli et al. 2010), for the parameters the screening found to matter.

The design points run through the batch engine as an experiment of their own (parallel,
resumable, on Dask if asked), every scenario of the experiment at every point on the same seeds
(replicate k's seed everywhere): the differences between scenarios that the outputs include are
paired, and so are neighbouring points of a trajectory. An output at a point is the mean over
its replicates.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.analysis.outcomes import name_holder
from sim.analysis.results import Results
from sim.analysis.stats import PAIR_KEYS
from sim.base.errors import UserError
from sim.experiment.spec import MAX_DESIGN_POINTS, MAX_RUNS, Experiment
from sim.scenario import calibration
from sim.scenario.calibration import Parameter

Method = Literal["morris", "sobol"]
PAIRS = ("United States", "China")  # whose welfare the outputs follow under each regime


INTERVAL_NOTE = {  # said under the table: what the interval is, and why it is cut
    "morris": "μ*: the mean absolute elementary effect, never below 0; its 95 % bootstrap "
              "interval is cut at 0.",
    "sobol": "ST: the share of the output's variance a parameter accounts for, with all its "
             "interactions; estimates outside 0 to 1 are sampling noise (more samples, --size, "
             "narrow them), so the 95 % interval is cut to that range.",
}


def interval(value: float, half_width: float, share: bool) -> tuple[float, float]:
    """A 95 % interval of a Morris μ* (never below 0) or a Sobol index (a share of variance,
    0 to 1), from SALib's estimate and half-width, cut to the range the quantity can take."""
    low, high = max(0.0, value - half_width), value + half_width
    return (min(low, 1.0), min(high, 1.0)) if share else (low, high)


def select(patterns: list[str] | None) -> list[Parameter]:
    """The ranged parameters named by ``patterns`` (names or shell patterns such as
    ``market.*``); all of them if None."""
    ranged = calibration.ranged()
    if not patterns:
        return ranged
    chosen: list[Parameter] = []
    for pattern in patterns:
        found = [p for p in ranged if fnmatch.fnmatchcase(p.name, pattern)]
        if not found:
            raise UserError(f"--parameter: {pattern!r} names no parameter with a range in "
                            "sim/scenario/calibration.toml (see docs/calibration.md)")
        chosen += [p for p in found if p not in chosen]
    if len(chosen) < 2:
        raise UserError("--parameter: sensitivity analysis needs at least two parameters")
    return chosen


def _problem(params: list[Parameter]) -> dict[str, Any]:
    """SALib's problem on the unit cube: each parameter's range is mapped onto [0, 1]."""
    return {"num_vars": len(params), "names": [p.name for p in params],
            "bounds": [[0.0, 1.0]] * len(params)}


def unit_design(method: Method, params: list[Parameter], size: int, seed: int,
                levels: int = 4) -> np.ndarray:
    """The design in the unit cube: Morris trajectories (``size`` of them) or Saltelli's
    sample of ``size`` base points (a power of 2)."""
    problem = _problem(params)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, size, num_levels=levels, seed=seed)
    from SALib.sample import sobol

    if size < 2 or size & (size - 1):
        raise UserError(f"--size {size}: Sobol needs a power of 2 base points (64, 128, ...)")
    return sobol.sample(problem, size, calc_second_order=False, seed=seed)


def check_design(method: Method, params: list[Parameter], size: int, levels: int,
                 replicates: int, scenarios: int) -> None:
    """Refuse, before anything is sampled, a design the batch engine would refuse or that
    SALib would sample badly: an odd number of Morris levels (its grid steps by levels / 2,
    Morris 1991), a Sobol size that is not a power of 2, more design points or runs than an
    experiment may hold."""
    for option, value in (("--size", size), ("--replicates", replicates), ("--levels", levels)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise UserError(f"{option} {value!r}: expected a whole number of at least 1")
    if method == "morris" and levels % 2:
        raise UserError(f"--levels {levels}: Morris needs an even number of grid levels "
                        "(its steps span half the grid; 4 is usual)")
    if method == "sobol" and (size < 2 or size & (size - 1)):
        raise UserError(f"--size {size}: Sobol needs a power of 2 base points (64, 128, ...)")
    per = len(params) + (1 if method == "morris" else 2)
    design, runs = size * per, size * per * scenarios * replicates
    what = (f"{size:,} trajectories of {per} points" if method == "morris"
            else f"{size:,} base points times {per}")
    if design > MAX_DESIGN_POINTS:
        raise UserError(f"--size {size}: {what} is {design:,} design points; at most "
                        f"{MAX_DESIGN_POINTS:,} (fewer parameters or a smaller --size)")
    if runs > MAX_RUNS:
        raise UserError(f"--size {size} --replicates {replicates}: {design:,} design points x "
                        f"{scenarios} scenarios x {replicates:,} replicates is {runs:,} runs; at "
                        f"most {MAX_RUNS:,}")


def points(params: list[Parameter], unit: np.ndarray) -> list[dict[str, float]]:
    """Design points as parameter values."""
    columns = [p.scale(unit[:, k]) for k, p in enumerate(params)]
    return [{p.name: float(c[i]) for p, c in zip(params, columns, strict=True)}
            for i in range(unit.shape[0])]


def study(base: Experiment, method: Method, params: list[Parameter], unit: np.ndarray,
          replicates: int) -> Experiment:
    """The experiment that runs the design: the base experiment's scenarios, seeds and horizon
    at every design point, named ``<experiment>-<method>``."""
    return base.with_design(f"{base.spec.name}-{method}", points(params, unit), replicates,
                            f"{method} sensitivity of {base.spec.name}: {len(params)} "
                            f"parameters, {unit.shape[0]} design points")


@dataclass(frozen=True)
class Output:
    key: str  # column of the outputs table
    label: str  # in words
    unit: str
    headline: bool  # one panel of the figures


def outputs(results: Results) -> tuple[pd.DataFrame, list[Output]]:
    """Per design point (mean over replicates): each scenario's total welfare; each scenario's
    paired difference from the reference in total welfare, in the US's and China's welfare,
    in incidents and in the leverage holder's rare-earth leverage."""
    runs, nations = results.runs, results.nations
    reference = results.reference()
    welfare = nations.pivot_table(index="run", columns="nation", values="welfare_usd_bn")
    values = runs.set_index("run")[["scenario", *PAIR_KEYS, "welfare_total_usd_bn", "incidents",
                                    "leverage_index"]]
    for nation in PAIRS:
        if nation in welfare.columns:
            values[f"welfare: {nation}"] = welfare[nation]
    wide = values.pivot_table(index=PAIR_KEYS, columns="scenario",
                              values=[c for c in values.columns if c not in ("scenario", *PAIR_KEYS)])
    table, found = {}, []
    ref = results.label(reference)
    for scenario in results.scenarios:
        key = f"welfare_total_usd_bn[{scenario}]"
        table[key] = wide[("welfare_total_usd_bn", scenario)]
        found.append(Output(key, f"{results.label(scenario)}: total welfare", "USD bn", False))
    measures = [("welfare_total_usd_bn", "total welfare", "USD bn", 1.0, True),
                *((f"welfare: {n}", f"{n}'s welfare", "USD bn", 1.0, False) for n in PAIRS
                  if f"welfare: {n}" in values.columns),
                ("incidents", "incidents", "count", 1.0, False),
                ("leverage_index", name_holder("{holder_s} rare-earth leverage", results.holder),
                 "pp", 100.0, False)]
    for scenario in results.scenarios:
        if scenario == reference:
            continue
        for column, words, unit, scale, headline in measures:
            key = f"{column}[{scenario}-{reference}]"
            table[key] = scale * (wide[(column, scenario)] - wide[(column, reference)])
            found.append(Output(key, f"{results.label(scenario)} − {ref}: {words}", unit,
                                headline))
    frame = pd.DataFrame(table).groupby(level="point").mean().sort_index()
    return frame, found


def analyse(results: Results, method: Method, params: list[Parameter], unit: np.ndarray,
            levels: int = 4, resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per (output, parameter): Morris μ, μ*, σ and μ*'s 95 % interval, or Sobol S1
    and ST with their 95 % intervals. Outputs are per design point; a design point whose runs
    are missing (failed) makes the analysis refuse, since the methods need every point."""
    frame, found = outputs(results)
    if len(frame) != unit.shape[0] or frame.isna().any().any():
        missing = unit.shape[0] - int(frame.notna().all(axis=1).sum())
        raise UserError(f"{results.folder}: {missing} of {unit.shape[0]} design points lack "
                        "runs of every scenario; finish the batch (--resume) first")
    problem = _problem(params)
    rows = []
    for output in found:
        y = frame[output.key].to_numpy(dtype=float)
        rows += [{"output": output.key, "label": output.label, "unit": output.unit,
                  "headline": output.headline} | r
                 for r in _indices(method, problem, unit, y, levels, resamples, seed)]
    table = pd.DataFrame(rows)
    labels = {p.name: p.label for p in params}
    table.insert(table.columns.get_loc("parameter") + 1, "parameter_label",
                 table["parameter"].map(labels))
    return table


def _indices(method: Method, problem: dict[str, Any], unit: np.ndarray, y: np.ndarray,
             levels: int, resamples: int, seed: int) -> list[dict[str, Any]]:
    names = problem["names"]
    if np.ptp(y) == 0:  # the output does not move at all: every index is 0
        zero = {"mu": 0.0, "mu_star": 0.0, "sigma": 0.0, "mu_star_conf": 0.0} \
            if method == "morris" else {"S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0}
        return [{"parameter": n, "note": "constant in every run"} | zero for n in names]
    note = ""
    if method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, unit, y, num_resamples=resamples, num_levels=levels,
                             seed=seed)
        keys = ("mu", "mu_star", "sigma", "mu_star_conf")
    else:
        import warnings

        from SALib.analyze import sobol

        # SALib warns, and sets the index to 0, where the base sample's values (or a bootstrap
        # resample of them) are all equal while the output moves elsewhere: said in the table,
        # not as a warning on the terminal
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples,
                                seed=seed)
        for w in caught:
            if "Constant values encountered" in str(w.message):
                note = ("equal values in the base sample or its resamples: indices set to 0 "
                        "there (SALib); more base points (--size) resolve it")
            else:  # any other warning is the user's to see
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    return [{"parameter": n, "note": note} | {k: float(res[k][i]) for k in keys}
            for i, n in enumerate(names)]


def ranking(table: pd.DataFrame, output: str, top: int = 10) -> pd.DataFrame:
    """The parameters an output is most sensitive to, most first (by μ* or ST)."""
    by = "mu_star" if "mu_star" in table.columns else "ST"
    rows = table[table["output"] == output]
    return rows.sort_values(by, ascending=False).head(top)


def figure(table: pd.DataFrame, method: Method, top: int = 12):  # -> matplotlib Figure
    """One panel per headline output: the parameters it is most sensitive to. Morris: μ* with
    its 95 % interval as a bar, σ as a diamond; Sobol: ST (light) and S1 (dark) with their
    intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.base.style import STYLE

    heads = list(dict.fromkeys(table.loc[table["headline"], "output"]))
    cols = min(len(heads), 3)
    rows = int(np.ceil(len(heads) / cols))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 0.32 * top * rows + 1.6 * rows),
                                 squeeze=False, constrained_layout=True)
        for ax, output in zip(axes.flat, heads, strict=False):
            part = ranking(table, output, top).iloc[::-1]
            y = np.arange(len(part))
            first = part.iloc[0]
            if method == "morris":
                low = np.minimum(part["mu_star_conf"], part["mu_star"])  # μ* is never below 0
                ax.barh(y, part["mu_star"], xerr=[low, part["mu_star_conf"]], color="#0072B2",
                        alpha=0.8, error_kw={"lw": 1}, label="μ* (95 % interval)")
                ax.plot(part["sigma"], y, "D", mfc="none", mec="#D55E00", label="σ")
                ax.set_xlabel(f"effect of the whole range, {first['unit']}")
            else:
                ax.barh(y, part["ST"], xerr=[np.minimum(part["ST_conf"], part["ST"]),
                                             part["ST_conf"]],
                        color="#56B4E9", label="ST (total)", error_kw={"lw": 1})
                ax.barh(y, part["S1"], xerr=part["S1_conf"], color="#0072B2", height=0.45,
                        label="S1 (alone)", error_kw={"lw": 1})
                ax.set_xlabel("share of the output's variance")
            ax.set_yticks(y, part["parameter_label"], fontsize=8)
            ax.set_title(first["label"], fontsize=10)
            ax.axvline(0, color="#444444", lw=0.8)
        for ax in list(axes.flat)[len(heads):]:
            ax.set_visible(False)
        handles, names = axes.flat[0].get_legend_handles_labels()
        what = ("Morris screening: mean absolute effect (μ*) and its spread (σ)"
                if method == "morris" else "Sobol indices: first-order (S1) and total (ST)")
        fig.suptitle(f"{what}\nthe {top} most influential parameters of each difference",
                     fontsize=11)
        fig.legend(handles, names, loc="outside lower center", ncol=2, fontsize=9)
    return fig


STUDY_FILES = ["sensitivity.csv", "figures/sensitivity.png"]  # what a study writes


@dataclass(frozen=True)
class Study:
    folder: Any  # Path
    outcome: Any  # sim.experiment.BatchOutcome
    method: Method
    table: pd.DataFrame | None  # None until every run is done


def screened(folder: Any, share: float = 0.1, most: int = 8) -> list[str]:
    """The parameters a finished Morris study found to matter: μ* at least ``share`` of the
    largest for some headline output, at most ``most`` of them, most influential first."""
    from pathlib import Path

    path = Path(folder) / "sensitivity.csv"
    if not path.is_file():
        raise UserError(f"--parameter: name the parameters, or run 'lunarsim explore "
                        f"sensitivity --method morris' first (no {path})")
    table = read_morris_table(path)
    heads = table[table["headline"]]
    top = heads.groupby("output")["mu_star"].transform("max")
    strong = heads[heads["mu_star"] >= share * top]
    order = strong.groupby("parameter")["mu_star"].max().sort_values(ascending=False)
    found = [str(name) for name in order.index[:most]]
    known = {p.name for p in calibration.ranged()}
    unknown = [name for name in found if name not in known]
    if unknown:
        raise UserError(f"{path}: {unknown[0]!r} is not a parameter with a range in "
                        "sim/scenario/calibration.toml (a table of another lunarsim, or edited); "
                        "run 'lunarsim explore sensitivity --method morris --force' again")
    if len(found) < 2:
        raise UserError(f"{path}: the Morris study found {len(found)} parameter(s) that matter; "
                        "Sobol needs two at least: name them with --parameter")
    return found


MORRIS_COLUMNS = {"output": "object", "parameter": "object", "headline": "bool",
                  "mu_star": "float"}


def read_morris_table(path: Any) -> pd.DataFrame:
    """A Morris study's ``sensitivity.csv``, checked: readable, with its columns and their types
    and finite effects; anything else is a UserError naming the file."""
    hint = "run 'lunarsim explore sensitivity --method morris --force' again"
    try:
        table = pd.read_csv(path, encoding="utf-8")
    except (OSError, ValueError, pd.errors.ParserError) as err:  # empty, binary, not UTF-8
        raise UserError(f"{path}: not a readable table ({type(err).__name__}); {hint}") from None
    missing = [c for c in MORRIS_COLUMNS if c not in table.columns]
    if missing:
        raise UserError(f"{path}: not the table of a Morris study (no column "
                        f"{', '.join(missing)}); {hint}")
    if table.empty:
        raise UserError(f"{path}: the Morris study's table has no rows; {hint}")
    for column, kind in MORRIS_COLUMNS.items():
        values = table[column]
        fine = {"bool": pd.api.types.is_bool_dtype(values),
                "float": pd.api.types.is_numeric_dtype(values) and not
                pd.api.types.is_bool_dtype(values) and bool(np.isfinite(values).all()),
                "object": bool(values.notna().all())}[kind]
        if not fine:
            raise UserError(f"{path}: column {column} does not hold "
                            f"{'true/false' if kind == 'bool' else 'finite numbers' if kind == 'float' else 'names'}"
                            f" throughout; {hint}")
    return table


def run_study(experiment: Any, *, method: Method = "morris", parameters: list[str] | None = None,
              size: int | None = None, levels: int = 4, replicates: int = 1,
              seed: int | None = None, out: Any = None, progress: Any = None,
              **batch: Any) -> Study:
    """Design, run (through the batch engine) and analyse a sensitivity study of an experiment;
    writes ``sensitivity.csv`` and ``figures/sensitivity.png`` into the study's folder.
    ``batch`` passes on to :func:`sim.experiment.run_experiment` (workers, backend, ...)."""
    from pathlib import Path

    from sim.analysis.figures import png_bytes
    from sim.base.lock import FolderLock
    from sim.experiment import load_experiment, run_experiment
    from sim.experiment.store import analysis_files

    base = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    if len(base.spec.scenarios) < 2:
        raise UserError(f"{base.label}: a sensitivity study follows the differences between "
                        f"scenarios and their reference; this experiment has one "
                        f"({base.spec.scenarios[0]}): name two or more")
    if method == "sobol" and not parameters:
        parameters = screened(Path("results") / f"{base.spec.name}-morris")
    params = select(parameters)
    size = size or (10 if method == "morris" else 64)
    seed = base.spec.master_seed if seed is None else seed
    check_design(method, params, size, levels, replicates, len(base.spec.scenarios))
    unit = unit_design(method, params, size, seed, levels)
    plan = study(base, method, params, unit, replicates)
    folder = Path(out) if out is not None else Path("results") / plan.spec.name
    if folder.is_dir():  # what it may not write is refused before any run, not after them
        analysis_files(folder).check(STUDY_FILES)
    outcome = run_experiment(plan, out=out, series="none", progress=progress, **batch)
    if not outcome.complete:
        return Study(outcome.folder, outcome, method, None)
    with FolderLock(outcome.folder):  # no batch may change what is read and written here
        table = analyse(Results(outcome.folder), method, params, unit, levels, seed=seed)
        files = dict(zip(STUDY_FILES, (table.to_csv(index=False).encode(),
                                       png_bytes(figure(table, method))), strict=True))
        analysis_files(outcome.folder).write(files, {"sensitivity": {
            "method": method, "parameters": [p.name for p in params], "size": size,
            "levels": levels, "seed": seed}})
    return Study(outcome.folder, outcome, method, table)
