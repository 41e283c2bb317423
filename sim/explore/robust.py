"""Robust decision making: which arrangement should be chosen when we do not know which of the
plausible worlds we are in? (Lempert, Popper & Bankes 2003; Lempert et al. 2006; Kwakkel 2017.)

The frame (XLRM), written out in ``docs/robust.md``:

* **X, uncertainties**: every parameter of ``sim/scenario/calibration.toml`` with a range but the
  regimes' own (those are levers), and which rule the nations follow (their own, or everyone
  one of the strategy sets of :mod:`sim.scenario.rules`), sampled together as a Latin
  hypercube of *worlds*;
* **L, levers**: the candidate policies, the scenarios of an experiment (a regime, or a great
  power's policy, with its design);
* **R, relationships**: the model;
* **M, measures**: each actor's welfare (the US, China, each bloc's other members, the world),
  incidents, and importers' dependence on the rare-earth holder.

Every policy runs in every world on the same seeds (paired, as everything else here); a policy's
performance in a world is the mean over its seeds there. The robustness metrics are those of
Herman et al. (2015) and McPhail et al. (2018), each computed per measure:

* **mean** and **spread** (standard deviation) over worlds;
* **10th percentile**: the performance a policy reaches or exceeds in 90 % of worlds (for a
  measure where lower is better, the 90th percentile of its values);
* **regret** (type II, "regret from the best"): in each world, how far a policy falls short of
  the best policy in that world; its **maximum** over worlds (minimax regret, Savage 1951), its
  **90th percentile** and mean;
* **satisficing**: the share of worlds in which a policy meets a threshold. By default the
  threshold is the reference policy's performance in the same world ("no worse off than under
  open access", by more than a negligible difference), which the reference meets by definition
  (it is the yardstick: not ranked); ``thresholds`` sets absolute ones instead. Beside it,
  **gains**: the share of worlds in which the policy passes the threshold by more than the
  negligible difference (a policy that changes nothing satisfices everywhere and gains nowhere).
  "Every actor" is the share of worlds in which all actors' welfare meets its threshold at
  once, strictly (no actor worse off at all: negligible losses of each actor may add up to a
  loss of the world's that is not negligible), and in which all gain.

Ranks are 1 for the best policy under a metric; policies closer than the measure's negligible
difference share a rank (:func:`rank`). Where the metrics pick different best policies for a
measure, :func:`disagreements` says which picks which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.results import Results
from sim.base.errors import UserError
from sim.base.words import listed
from sim.experiment.spec import MAX_RUNS, Experiment
from sim.scenario import calibration, rules
from sim.scenario.calibration import Parameter

WORLDS = 500
WORLD = "the world"
EVERY = "every actor"
LEADERS = ("United States", "China")
BLOC_WORDS = {"artemis": "Artemis partners", "ilrs": "ILRS partners",
              "nonaligned": "non-aligned nations"}
# metric -> in words: the ranked metrics, in the tables' order. Mean and percentile are better
# in the measure's direction, regret lower, satisficing higher.
METRICS = {
    "mean": "mean",
    "p10": "10th percentile",
    "regret_max": "maximum regret",
    "regret_p90": "90th-percentile regret",
    "satisficing": "satisficing",
}
SHOWN = {"std": "spread (sd)", "regret_mean": "mean regret", "gains": "gains"}  # not ranked
TOLERANCE = 1e-9  # a policy within this of an absolute threshold (the measure's unit) meets it


@dataclass(frozen=True)
class Measure:
    key: str  # column group of the performance table
    label: str  # in words: an actor, or what is measured
    unit: str
    higher_is_better: bool
    actor: bool  # an actor's welfare (the satisficing of every actor combines these)
    negligible: float  # a smaller difference does not separate two policies' ranks


def uncertainties() -> list[Parameter]:
    """X: every ranged parameter but the regimes' own, which are levers."""
    return [p for p in calibration.ranged() if p.kind != "regime"]


def design(base: Experiment, worlds: int = WORLDS, seeds: int = 1, seed: int | None = None,
           sample_rules: bool = True) -> Experiment:
    """Every policy (scenario) of ``base`` in ``worlds`` worlds, a Latin hypercube over the
    uncertainties, on ``seeds`` seeds shared by all (replicates 0..seeds-1 of ``base``). With
    ``sample_rules``, one more dimension of the hypercube chooses the strategy set of each
    world, each in an equal share of them; else every nation keeps its own rule."""
    from scipy.stats import qmc

    from sim.explore.sensitivity import points

    for option, value in (("--worlds", worlds), ("--seeds", seeds)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise UserError(f"{option} {value!r}: expected a whole number of at least 1")
    if worlds < 2:
        raise UserError(f"--worlds {worlds}: robustness compares worlds; sample two or more")
    runs = worlds * seeds * len(base.spec.scenarios)
    if runs > MAX_RUNS:
        raise UserError(f"--worlds {worlds} --seeds {seeds}: {runs:,} runs; at most {MAX_RUNS:,}")
    if len(base.spec.scenarios) < 2:
        raise UserError(f"{base.label}: robust decision making chooses between policies; this "
                        f"experiment has one ({base.spec.scenarios[0]}): name two or more")
    params = uncertainties()
    seed = base.spec.master_seed if seed is None else seed
    unit = qmc.LatinHypercube(len(params) + sample_rules,
                              rng=np.random.default_rng(seed)).random(worlds)
    worlds_at = points(params, unit[:, :len(params)])
    if sample_rules:
        codes = np.floor(unit[:, -1] * len(rules.CODES)).astype(int)
        for point, code in zip(worlds_at, codes, strict=True):
            point[rules.PARAMETER] = float(code)
    what = " and the strategy sets" if sample_rules else ""
    return base.with_design(f"{base.spec.name}-rdm", worlds_at, seeds,
                            f"the policies of {base.spec.name} in {worlds} worlds (a Latin "
                            f"hypercube over {len(params)} uncertain parameters{what}), "
                            f"{seeds} seed(s) each")


def actors(nations: pd.DataFrame, reference: str) -> dict[str, list[str]]:
    """Whose welfare is followed: the US and China, each bloc's other members (their blocs as
    under the reference policy), in that order; a group with no member is left out."""
    ref = nations[nations["scenario"] == reference]
    bloc = ref.groupby("nation")["bloc"].first()
    groups = {leader: [leader] for leader in LEADERS if leader in bloc.index}
    known = [b for b in BLOC_WORDS if b in set(bloc)]
    for name in known + sorted(set(bloc) - set(known)):
        members = sorted(n for n in bloc.index[bloc == name] if n not in LEADERS)
        if members:
            groups[BLOC_WORDS.get(name, f"the {name} bloc")] = members
    return groups


def performance(results: Results) -> tuple[pd.DataFrame, list[Measure]]:
    """Each policy's performance in each world (mean over its seeds): a table indexed by world
    (design point) with columns (measure key, policy), and the measures."""
    from sim.analysis.outcomes import OUTCOMES, REE_OUTCOMES, name_holder

    runs, nations = results.runs, results.nations
    reference = results.reference()
    values = runs.set_index("run")[["scenario", "point", "welfare_total_usd_bn"]].copy()
    measures = []
    outcomes = {o.name: o for o in [*REE_OUTCOMES, *OUTCOMES]}
    tiny = outcomes["welfare_total_usd_bn"].negligible
    groups = actors(nations, reference)
    welfare = nations.pivot_table(index="run", columns="nation", values="welfare_usd_bn",
                                  aggfunc="sum")
    for k, (actor, members) in enumerate(groups.items()):
        key = f"welfare[{k}]"
        values[key] = welfare[members].sum(axis=1, min_count=len(members))
        measures.append(Measure(key, actor, "USD bn", True, True, tiny))
    measures.append(Measure("welfare_total_usd_bn", WORLD, "USD bn", True, True, tiny))
    # lower is better for both: for dependence, from the importers' side
    for name in ("incidents", "importer_dependence"):
        outcome = outcomes[name]
        values[name] = runs.set_index("run")[name]
        measures.append(Measure(name, name_holder(outcome.label, results.holder), outcome.unit,
                                False, False, outcome.negligible))
    table = values.pivot_table(index="point", columns="scenario",
                               values=[m.key for m in measures], aggfunc="mean")
    order = [(m.key, s) for m in measures for s in results.scenarios]
    return table.reindex(columns=pd.MultiIndex.from_tuples(order)), measures


def robustness(values: pd.DataFrame, higher_is_better: bool,
               threshold: pd.Series | float | None = None,
               tolerance: float = TOLERANCE) -> pd.DataFrame:
    """The metrics of one measure (module docstring), one row per policy: ``values`` is worlds x
    policies, every world complete; ``threshold`` is per world (a Series on its index) or
    absolute; None: no satisficing. A policy meets the threshold unless it falls short by more
    than ``tolerance``, and gains where it passes it by more than that."""
    if values.empty or values.isna().any().any():
        raise ValueError("robustness needs every policy's value in every world")
    sign = 1.0 if higher_is_better else -1.0
    good = sign * values.to_numpy(dtype=float)  # higher is better from here on
    regret = good.max(axis=1, keepdims=True) - good
    out = pd.DataFrame(index=values.columns)
    out["mean"] = values.mean().to_numpy()
    out["std"] = values.std(ddof=1).to_numpy() if len(values) > 1 else 0.0
    out["p10"] = sign * np.percentile(good, 10, axis=0)
    out["regret_max"] = regret.max(axis=0)
    out["regret_p90"] = np.percentile(regret, 90, axis=0)
    out["regret_mean"] = regret.mean(axis=0)
    if threshold is not None:
        bar = sign * (threshold.reindex(values.index).to_numpy(dtype=float)[:, None]
                      if isinstance(threshold, pd.Series) else float(threshold))
        out["satisficing"] = (good >= bar - tolerance).mean(axis=0)
        out["gains"] = (good > bar + tolerance).mean(axis=0)
    else:
        out["satisficing"] = np.nan
        out["gains"] = np.nan
    return out


def rank(metrics: pd.DataFrame, higher_is_better: bool, negligible: float) -> pd.DataFrame:
    """Each ranked metric's rank of each policy: 1 + the number of policies better than it by
    more than ``negligible`` (a share of worlds: by anything), so that policies whose difference
    is negligible share a rank. A policy without a value is not ranked."""
    ranks = pd.DataFrame(index=metrics.index)
    for metric in METRICS:
        higher = {"mean": higher_is_better, "p10": higher_is_better,
                  "satisficing": True}.get(metric, False)
        good = (1.0 if higher else -1.0) * metrics[metric].to_numpy(dtype=float)
        margin = 0.0 if metric == "satisficing" else negligible
        better = (good[None, :] - good[:, None] > margin).sum(axis=1)
        ranks[metric] = np.where(np.isnan(good), np.nan, 1.0 + better)
    return ranks


def check_thresholds(thresholds: dict[str, float], known: list[str], where: str) -> None:
    unknown = sorted(set(thresholds) - set(known))
    if unknown:
        raise UserError(f"--threshold: {unknown[0]!r} is not an actor of {where} (actors: "
                        f"{', '.join(known)})")


def analyse(results: Results, thresholds: dict[str, float] | None = None) -> pd.DataFrame:
    """The long table of a study: one row per (measure, policy, metric) with its value and rank.
    ``thresholds`` maps a measure's label (an actor, or "the world") to an absolute threshold;
    the others are the reference policy's performance in the same world."""
    table, measures = performance(results)
    reference = results.reference()
    thresholds = dict(thresholds or {})
    check_thresholds(thresholds, [m.label for m in measures if m.actor], str(results.folder))
    complete = table.dropna()
    if len(complete) < 2:
        raise UserError(f"{results.folder}: {len(complete)} world(s) have runs of every policy; "
                        "robustness needs two or more (finish the batch with --resume)")
    rows = []
    meets = pd.DataFrame(True, index=complete.index, columns=results.scenarios)
    gains = meets.copy()
    for measure in measures:
        values = complete[measure.key]
        absolute = measure.label in thresholds
        threshold = thresholds[measure.label] if absolute else values[reference]
        tolerance = TOLERANCE if absolute else measure.negligible
        metrics = robustness(values, measure.higher_is_better, threshold, tolerance)
        if measure.actor and measure.label != WORLD:
            bar = threshold if absolute else values[reference].to_numpy()[:, None]
            # every actor at once: strictly (each actor's small loss below the negligible one
            # can add up to a loss of the world's that is not: 0.1 USD bn is per measure)
            meets &= values.to_numpy() >= np.asarray(bar) - TOLERANCE
            gains &= values.to_numpy() > np.asarray(bar) + TOLERANCE
        if not absolute:  # the reference meets its own performance: the yardstick
            metrics.loc[reference, ["satisficing", "gains"]] = np.nan
        rows.append(_long(metrics, measure, "absolute" if absolute else reference))
    every = pd.DataFrame(index=meets.columns)
    every["satisficing"] = meets.mean().to_numpy()
    every["gains"] = gains.mean().to_numpy()
    if not any(m.label in thresholds for m in measures if m.actor and m.label != WORLD):
        every.loc[reference, ["satisficing", "gains"]] = np.nan
    rows.append(_long(every, Measure("every_actor", EVERY, "share of worlds", True, False, 0.0),
                      "each actor's"))
    long = pd.concat(rows, ignore_index=True)
    long.insert(0, "worlds", len(complete))
    split = disagreements(long)  # the table says where the metrics disagree
    long["metrics_agree"] = ~long["label"].isin(list(split))
    return long


def _long(metrics: pd.DataFrame, measure: Measure, threshold: str) -> pd.DataFrame:
    ranks = rank(metrics.reindex(columns=[*METRICS, *SHOWN]), measure.higher_is_better,
                 measure.negligible)
    rows = []
    for policy in metrics.index:
        for metric in metrics.columns:
            rows.append({"measure": measure.key, "label": measure.label, "unit": measure.unit,
                         "higher_is_better": measure.higher_is_better, "policy": policy,
                         "metric": metric, "value": metrics.at[policy, metric],
                         "rank": ranks.at[policy, metric] if metric in METRICS else np.nan,
                         "threshold": threshold if metric == "satisficing" else ""})
    return pd.DataFrame(rows)


def best(long: pd.DataFrame) -> pd.DataFrame:
    """Per measure and ranked metric, the policies ranked first (a tie lists them all)."""
    ranked = long[long["metric"].isin(list(METRICS)) & (long["rank"] == 1)]
    return (ranked.groupby(["label", "metric"], sort=False)["policy"]
            .apply(lambda s: tuple(s)).reset_index())


def disagreements(long: pd.DataFrame) -> dict[str, dict[str, tuple[str, ...]]]:
    """For each measure whose ranked metrics do not all put the same policies first: metric ->
    the policies it puts first."""
    found = {}
    for label, rows in best(long).groupby("label", sort=False):
        firsts = dict(zip(rows["metric"], rows["policy"], strict=True))
        if len(set(firsts.values())) > 1:
            found[str(label)] = firsts
    return found


def words(long: pd.DataFrame, results: Results) -> list[str]:
    """One sentence per measure: which policies each metric puts first, and whether the metrics
    agree."""
    worlds = int(long["worlds"].iloc[0])
    policies = list(dict.fromkeys(long["policy"]))
    out = []
    for label, rows in best(long).groupby("label", sort=False):
        firsts = dict(zip(rows["metric"], rows["policy"], strict=True))
        named = {m: _named(p, policies, results) for m, p in firsts.items()}
        if label == EVERY:
            share = long[(long["label"] == EVERY) & (long["metric"] == "satisficing")]
            top = share["value"].max()
            out.append(f"Every actor at once meets its threshold in the most worlds under "
                       f"{named['satisficing']} ({round(top * worlds)} of {worlds}).")
        elif len(set(firsts.values())) == 1:
            out.append(f"{label}: {next(iter(named.values()))} first under every metric, over "
                       f"{worlds} worlds.")
        else:
            by: dict[str, list[str]] = {}
            for metric, policy in named.items():
                by.setdefault(policy, []).append(METRICS[metric])
            parts = [f"by {listed(metrics)}: {policy}" for policy, metrics in by.items()]
            out.append(f"{label}: the metrics disagree over {worlds} worlds. First "
                       f"{'; '.join(parts)}.")
    return out


def _named(chosen: tuple[str, ...], policies: list[str], results: Results) -> str:
    if len(chosen) == len(policies) > 1:
        return "every policy alike"
    if len(chosen) > 2:  # (a label may hold a comma: a long list would not read)
        return f"{len(chosen)} policies alike"
    return " and ".join(results.label(p) for p in chosen) + (" alike" if len(chosen) > 1 else "")


def figure(results: Results, table: pd.DataFrame, measures: list[Measure]):  # -> Figure
    """One panel per actor: each policy's regret in every world (a box from the 10th to the
    90th percentile, its median, and its maximum as a cross)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.base.style import STYLE

    shown = [m for m in measures if m.actor]
    complete = table.dropna()
    cols = min(3, len(shown))
    rows = int(np.ceil(len(shown) / cols))
    policies = results.scenarios
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 0.45 * len(policies) * rows
                                                      + 1.4 * rows),
                                 squeeze=False, constrained_layout=True, sharey=True)
        for ax, measure in zip(axes.flat, shown, strict=False):
            values = complete[measure.key].to_numpy(dtype=float)
            regret = values.max(axis=1, keepdims=True) - values
            y = np.arange(len(policies))[::-1]
            for k, policy in enumerate(policies):
                low, mid, high = np.percentile(regret[:, k], [10, 50, 90])
                colour = results.colour(policy)
                ax.barh(y[k], high - low, left=low, height=0.55, color=colour, alpha=0.45)
                ax.plot([mid, mid], [y[k] - 0.27, y[k] + 0.27], color=colour, lw=2)
                ax.plot(regret[:, k].max(), y[k], "x", color=colour)
            ax.set_yticks(y, [results.label(p) for p in policies], fontsize=8)
            ax.set_title(measure.label, fontsize=10)
            ax.set_xlabel(f"regret, {measure.unit} (0: the best policy in that world)",
                          fontsize=8)
            ax.axvline(0, color="#444444", lw=0.8)
        for ax in list(axes.flat)[len(shown):]:
            ax.set_visible(False)
        fig.suptitle(f"Regret of each policy over {len(complete)} worlds: box from the 10th to "
                     "the 90th percentile, line at the median, x at the maximum", fontsize=10)
    return fig
