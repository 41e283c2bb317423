"""``lunarsim brief``: a two-page policy brief from a robust decision study
(``lunarsim explore robust``), in Markdown and HTML.

The question; the most robust arrangement for each actor in plain words, with its regret and
satisficing numbers; whether the US and China can both accept one; where the recommendation
fails (the study's vulnerabilities); what would change the answer (a sensitivity study of the
same experiment, where there is one); the limitations. Every sentence that states a number or a
comparison is made here from the study's tables (:mod:`sim.explore.robust`), so that different
numbers give different words (tested).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.results import Results
from sim.base.errors import UserError
from sim.base.shown import found_path, shown_path
from sim.base.words import capitalised, listed, percent
from sim.explore.robust import EVERY, LEADERS, METRICS, WORLD, performance
from sim.explore.vulnerabilities import choice
from sim.report.text import bold, code, num

FILES = ["brief.md", "brief.html"]
RECOMMENDED_FOR = (*LEADERS, "Artemis partners", "ILRS partners", "non-aligned nations", WORLD)


@dataclass(frozen=True)
class Brief:
    markdown: str
    html: str


def _metric(long: pd.DataFrame, label: str, policy: str, metric: str) -> float:
    rows = long[(long["label"] == label) & (long["policy"] == policy) & (long["metric"] == metric)]
    return float(rows["value"].iloc[0]) if len(rows) else float("nan")


def _rank(long: pd.DataFrame, label: str, policy: str, metric: str) -> float:
    rows = long[(long["label"] == label) & (long["policy"] == policy) & (long["metric"] == metric)]
    return float(rows["rank"].iloc[0]) if len(rows) else float("nan")


ARTICLE = {"United States": "the United States", "Artemis partners": "the Artemis partners",
           "ILRS partners": "the ILRS partners", "non-aligned nations": "the non-aligned nations",
           WORLD: "the world as a whole"}


def actor(label: str) -> str:
    """An actor as a sentence names it (the United States, China, the world as a whole)."""
    return ARTICLE.get(label, label)


def _policies(chosen: list[str], name) -> str:
    """One or two arrangements by name, more by their number (a name may hold a comma)."""
    return listed([name(p) for p in chosen]) if len(chosen) <= 2 else \
        f"{len(chosen)} arrangements alike"


def recommendation(long: pd.DataFrame, label: str, name, reference: str) -> str:
    """The paragraph on one actor: its most robust policy, how often it is first, its regret,
    and (against the reference) how often the actor is no worse and better off; then what the
    metrics that put another policy first say."""
    policy = choice(long, label)
    worlds = int(long["worlds"].iloc[0])
    ranked = [m for m in METRICS if np.isfinite(_rank(long, label, policy, m))]
    firsts = [m for m in ranked if _rank(long, label, policy, m) == 1]
    p90, worst = _metric(long, label, policy, "regret_p90"), _metric(long, label, policy, "regret_max")
    unit = long.loc[long["label"] == label, "unit"].iloc[0]
    who = actor(label)
    under = "every metric" if len(firsts) == len(ranked) else \
        f"{len(firsts)} of the {len(ranked)} metrics"
    text = [f"**{capitalised(label)}.** The most robust choice is **{name(policy)}**, first under "
            f"{under}. In 90 % of the {worlds} worlds it comes within {num(p90)} {unit} of the "
            f"best arrangement for {who} in that world (at worst {num(worst)} {unit} short)."]
    sat, gain = (_metric(long, label, policy, m) for m in ("satisficing", "gains"))
    threshold = long[(long["label"] == label) & (long["metric"] == "satisficing")]["threshold"]
    if np.isfinite(sat):
        bar = "its threshold" if (threshold == "absolute").any() else f"under {name(reference)}"
        text.append(f"It leaves {who} no worse off than {bar} in {percent(sat)} of worlds, and "
                    f"better off in {percent(gain)}.")
    elif policy == reference:
        text.append(f"{name(reference)} is the yardstick: no arrangement beats it reliably.")
    rivals: dict[tuple[str, ...], list[str]] = {}  # the policies another metric puts first
    for metric in ranked:
        if metric in firsts:
            continue
        rows = long[(long["label"] == label) & (long["metric"] == metric) & (long["rank"] == 1)]
        rivals.setdefault(tuple(rows["policy"]), []).append(metric)
    for rival, metrics in rivals.items():
        lead = _policies(list(rival), name)
        verb = "would come" if len(rival) == 1 else "would share"
        place = "first" if len(rival) == 1 else "first place"
        if metrics == ["satisficing"]:
            sat, gain = (_metric(long, label, rival[0], m) for m in ("satisficing", "gains"))
            text.append(f"By satisficing alone {lead} {verb} {place} (no worse off in "
                        f"{percent(sat)} of worlds, but better off in only {percent(gain)}).")
        else:
            named = listed([METRICS[m] for m in metrics])
            text.append(f"By {named}, {lead} {verb} {place}.")
    return " ".join(text)


def both(table: pd.DataFrame, measures: list, reference: str, policies: list[str],
         labels: tuple[str, ...] = LEADERS) -> pd.DataFrame:
    """Per policy, the share of worlds in which every actor of ``labels`` is no worse off than
    under the reference (by more than a negligible difference), and better off."""
    complete = table.dropna()
    keys = [m for m in measures if m.label in labels]
    ok = np.ones((len(complete), len(policies)), dtype=bool)
    up = ok.copy()
    for measure in keys:
        values = complete[measure.key][policies].to_numpy()
        bar = complete[(measure.key, reference)].to_numpy()[:, None]
        ok &= values >= bar - measure.negligible
        up &= values > bar + measure.negligible
    return pd.DataFrame({"no_worse": ok.mean(axis=0), "better": up.mean(axis=0)}, index=policies)


def cooperate(long: pd.DataFrame, pair: pd.DataFrame, name, reference: str) -> str:
    """Should the US and China cooperate? Whether their most robust choices agree, and which
    arrangement most often leaves both better off."""
    us, china = (choice(long, label) for label in LEADERS)
    worlds = int(long["worlds"].iloc[0])
    if us == china:
        head = f"The United States' and China's most robust choices agree: **{name(us)}**."
    else:
        head = (f"The United States' and China's most robust choices differ: {name(us)} for "
                f"the US, {name(china)} for China.")
    pair = pair.drop(index=reference)
    top = pair["better"].max()
    leaders = [p for p in pair.index if pair.at[p, "better"] == top]
    lead = _policies(leaders, name)
    verb = "leaves" if len(leaders) == 1 else "leave"
    return (f"{head} Of the arrangements, {lead} most often {verb} both better off than under "
            f"{name(reference)}: in {percent(top)} of the {worlds} worlds (no worse off in "
            f"{percent(pair.at[leaders[0], 'no_worse'])}).")


def everyone(long: pd.DataFrame, name, reference: str) -> str:
    rows = long[(long["label"] == EVERY) & (long["metric"] == "satisficing")].dropna(
        subset=["value"])
    if rows.empty:
        return ""
    top = rows["value"].max()
    leaders = rows.loc[rows["value"] == top, "policy"].tolist()
    gains = long[(long["label"] == EVERY) & (long["metric"] == "gains")].set_index("policy")["value"]
    most = "most" if top > 0.5 else "half" if top == 0.5 else "fewer than half"
    return (f"No actor is worse off at all than under {name(reference)} in {most} of the "
            f"worlds under {_policies(leaders, name)} ({percent(top)}, the most of any "
            f"arrangement); every actor at once is better off in at most "
            f"{percent(gains.max())} of worlds, under any arrangement.")


def drivers(folder: Path, results: Results, policies: list[str], reference: str) -> list[str]:
    """What would change the answer: the parameters a sensitivity study of the same experiment
    (Sobol, else Morris; same model code) finds the world's gain over the reference most
    sensitive to, for the first of ``policies`` (most robust first) that the study follows;
    else how to get them."""
    from sim.explore.robustness import finished

    name = results.name.removesuffix("-rdm").removesuffix("-search")
    for method, column, what in (("sobol", "ST", "share of its variance, with interactions"),
                                 ("morris", "mu_star", "mean absolute effect of the parameter's "
                                                       "range, USD bn")):
        study = folder.with_name(f"{name}-{method}")
        path = study / "sensitivity.csv"
        if not path.is_file() or finished(study, results.manifest.get("model_sha256")) is None:
            continue
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError):
            continue
        for policy in policies:
            output = f"welfare_total_usd_bn[{policy}-{reference}]"
            if "output" not in table.columns or column not in table.columns:
                break
            rows = table[table["output"] == output].sort_values(column, ascending=False).head(3)
            if rows.empty:
                continue
            half = rows[f"{column}_conf"].to_numpy() if f"{column}_conf" in rows else 0.0 * \
                rows[column].to_numpy()
            value = rows[column].to_numpy()
            low, high = np.maximum(value - half, 0.0), value + half
            named = [f"{r.parameter_label} ({num(v)}, 95 % interval {num(lo)} to {num(hi)})"
                     for r, v, lo, hi in zip(rows.itertuples(), value, low, high, strict=True)]
            skipped = [results.label(p) for p in policies[:policies.index(policy)]]
            note = (f" ({listed(skipped)}, more robust, is not in that study)" if skipped
                    else "")
            order = ("" if low[0] > high[-1] else " Their intervals overlap: which of them "
                     "matters most is not established (a larger study, --size, narrows them).")
            return [f"For the world's gain from {results.label(policy)} over "
                    f"{results.label(reference)}{note}, a {method.capitalize()} study ranks "
                    f"first {listed(named)} ({what}; `{shown_path(study)}`).{order}"]
    return [f"No sensitivity study of this experiment by the same model code was found: "
            f"`lunarsim explore sensitivity {name}` (Morris), then `--method sobol`, name "
            "the parameters the gains depend on most, and this section then lists them."]


def searched(results: Results, long: pd.DataFrame) -> list[str]:
    """The designs found by search that are the most robust choice of some actor: for whom,
    and their levers against the library's design of the same arrangement."""
    from sim.experiment.store import analysis_files
    from sim.explore.search import Search, chosen, convergence_words
    from sim.scenario import calibration, load_scenario

    found = [p for p in results.scenarios if "_best_for_" in p]
    asked = analysis_files(results.folder).recorded("search") or {}
    path = results.folder / "search.csv"
    if not found or not path.is_file():
        return []
    pareto = pd.read_csv(path)
    levers = [c for c in pareto.columns if c.startswith("regime.")]
    policy = found[0].partition("_best_for_")[0]
    designs = chosen(Search(pareto, pd.DataFrame(), levers, [], policy), int(asked.get("keep", 4)))
    library = load_scenario(found_path(results.manifest.get("scenarios", {}).get(
        policy, {}).get("file")) or policy).regime.params
    history = results.folder / "search_convergence.csv"
    settled = convergence_words(pd.read_csv(history)) if history.is_file() else ""
    out = [f"The search varied the {len(levers)} levers of {results.label(policy)} (the "
           f"library's design: " + ", ".join(
               f"{calibration.get(k).label.removesuffix(' (multilateral)')} "
               f"{num(getattr(library, k.rsplit('.', 1)[1]))}" for k in levers) + ")"
           + (f"; {settled}." if settled else ".")]
    for key, values in designs.items():
        name = f"{policy}_best_for_{key}"
        chosen_by = [label for label in RECOMMENDED_FOR
                     if (long["label"] == label).any() and choice(long, label) == name]
        if name not in found or not chosen_by:
            continue
        changed = [f"{calibration.get(k).label.removesuffix(' (multilateral)')} {num(v)}"
                   for k, v in values.items()]
        out.append(f"{results.label(name)} is the most robust choice for "
                   f"{listed([actor(a) for a in chosen_by])}: " + ", ".join(changed) + ".")
    return out


def _by_robustness(long: pd.DataFrame, label: str) -> list[str]:
    """The policies, the most robust for ``label`` first, then by 90th-percentile regret."""
    first = choice(long, label)
    rows = long[(long["label"] == label) & (long["metric"] == "regret_p90")]
    rest = rows.sort_values("value")["policy"].tolist()
    return [first, *(p for p in rest if p != first)]


def _searched_limit(results: Results, policies: list[str]) -> str:
    """What the candidates were: the library's arrangements, and designs found by search."""
    from sim.experiment.store import analysis_files

    found = [p for p in policies if "_best_for_" in p]  # designs found by search
    library = len(policies) - len(found)
    if not found:
        return (f"Only the library's {library} arrangements are compared, each as its scenario "
                "file designs it; a better design of any of them has not been searched for "
                "(`lunarsim explore robust --search`).")
    asked = analysis_files(results.folder).recorded("search") or {}
    how = (f" ({asked['nfe']} designs evaluated, each in {asked['worlds']} "
           f"world{'' if asked['worlds'] == 1 else 's'})" if {"nfe", "worlds"} <= set(asked)
           else "")
    return (f"Besides the library's {library} arrangements, {len(found)} designs of "
            f"{results.label(found[0].partition('_best_for_')[0])} found by a many-objective "
            f"search over its regime's levers{how} are compared: the best found for each "
            "objective, not proven optima; other arrangements' levers were not searched.")


def write_brief(results: Results, long: pd.DataFrame, failures: list[str]) -> Brief:
    """The brief's Markdown and HTML from a study's results and tables."""
    reference = results.reference()
    name = results.label
    worlds = int(long["worlds"].iloc[0])
    table, measures = performance(results)
    policies = results.scenarios
    runs = len(results.runs)
    seeds = int(results.runs.groupby(["point", "scenario"]).size().max())
    per_world = "one seed" if seeds == 1 else f"{seeds} seeds"
    recorded = results.manifest.get("parameters", [])
    sections: list[tuple[str, list[str]]] = [
        ("The question", [
            f"Which arrangement for lunar water ice and rare earths should the United States, "
            f"China and their partners choose, not knowing which of the plausible worlds they "
            f"are in? {len(policies)} arrangements ({'; '.join(name(p) for p in policies)}) "
            f"were each run in the same {worlds} sampled worlds ({len(recorded)} uncertain "
            f"assumptions drawn together, the rules the nations follow among them), "
            f"{per_world} in each: {runs:,} runs of lunarsim's agent-based model. An "
            f"arrangement is robust for an actor when it comes close to the best arrangement "
            f"in every world (low regret), not when it is best in one."]),
        ("Recommendation, actor by actor", [
            recommendation(long, label, name, reference)
            for label in RECOMMENDED_FOR if (long["label"] == label).any()]),
        ("Should the US and China cooperate?", [
            cooperate(long, both(table, measures, reference, policies), name, reference),
            everyone(long, name, reference)]),
        ("Better designs found by search", searched(results, long)),
        ("When the recommendation fails", failures or [
            "The study records no vulnerabilities (run `lunarsim explore robust` again)."]),
        ("What would change the answer", drivers(results.folder, results,
                                                  _by_robustness(long, WORLD), reference)),
        ("Limitations", [
            f"A model's worlds, not forecasts: the ranges are those of docs/calibration.md, many "
            f"of them assumptions, sampled uniformly; with {per_world} in each world, what a "
            "world does is mixed with chance.",
            _searched_limit(results, policies),
            "Welfare is the net product of lunar extraction and the rare-earth costs the model "
            "represents, in USD bn over the run; it leaves out prestige, security and science. "
            "Differences below 0.1 USD bn count as none.",
        ]),
    ]
    title = "Lunar resources under uncertainty: which arrangement is robust?"
    md = [f"# {title}", "", f"*A brief from `lunarsim brief` on `{shown_path(results.folder)}`.*"]
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p><em>A brief from <code>lunarsim brief</code> on "
            f"<code>{html.escape(shown_path(results.folder))}</code>.</em></p>"]
    for heading, paragraphs in sections:
        if not any(paragraphs):
            continue
        md += ["", f"## {heading}", ""]
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for paragraph in (p for p in paragraphs if p):
            md += [paragraph, ""]
            body.append(f"<p>{code(bold(html.escape(paragraph)))}</p>")
    from sim.report.render import page_html

    return Brief("\n".join(md).rstrip() + "\n", page_html(title, "\n".join(body)))


def make_brief(folder: Path) -> Brief:
    """The brief of the robust decision study in ``folder`` (recomputed from its runs with the
    thresholds it recorded)."""
    from sim.experiment.store import analysis_files
    from sim.explore.robust import analyse
    from sim.explore.vulnerabilities import vulnerabilities

    results = Results(folder)
    record = analysis_files(folder).recorded("robust")
    if not isinstance(record, dict):
        raise UserError(f"{folder}: not a finished robust decision study (no robust.csv recorded "
                        "there); run 'lunarsim explore robust' first")
    thresholds = record.get("thresholds") or {}
    long = analyse(results, thresholds)
    try:
        failures, _ = vulnerabilities(results, long, thresholds)
    except UserError as err:
        failures = [f"Where the recommendation fails is not described: {err}."]
    return write_brief(results, long, failures)
