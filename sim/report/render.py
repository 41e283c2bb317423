"""The comparison's report: one self-contained HTML page (figures embedded) and the same in
Markdown, with the question, the scenarios, the table, the figures, the assumptions with their
sources, and what is needed to reproduce the numbers. This module lays the sections out; their
words come from :mod:`.summary`, :mod:`.rare_earths`, :mod:`.games` (through :class:`Sure`) and
:mod:`.appendix`."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

import pandas as pd

from sim.analysis.outcomes import UNNAMED_HOLDER, holder_names
from sim.analysis.results import Results
from sim.base.shown import shown_path
from sim.explore.robustness import finished, folder_for
from sim.report.appendix import LIMITATIONS, calibration_tables, reproduction
from sim.report.bottom_line import bottom_line, leaders_cooperate, welfare_best, why_negative
from sim.report.membership import TEXT as MEMBERSHIP_TEXT
from sim.report.rare_earths import REE_TEXT, rare_earth_section
from sim.report.summary import (
    CHANNELS_TEXT,
    QUESTION,
    channels_table,
    key_table,
    reading_guide,
    summary,
    unchanged_channels,
    welfare_split,
    who_gains,
)
from sim.report.text import bold, code, num


def render_reports(results: Results, comparison: pd.DataFrame, levels: pd.DataFrame,
                   figures: dict[str, bytes], reference: str,
                   decomposition: pd.DataFrame | None = None,
                   sure: Sure | None = None,
                   members: tuple[list[str], pd.DataFrame] | None = None,
                   suffix: str = "") -> tuple[str, str]:
    """The report as Markdown (figures linked from ``figures/``) and as a self-contained HTML
    page (figures embedded); ``members`` is :func:`sim.report.membership.section`'s words and
    table; ``suffix`` what the figures' file names carry (an analysis against another
    reference)."""
    table = key_table(comparison, results)
    scenarios = pd.DataFrame({
        "scenario": [results.label(s) for s in results.scenarios],
        "file": [shown_path(results.manifest.get("scenarios", {}).get(s, {}).get("file"))
                 for s in results.scenarios],
        "description": [results.manifest.get("scenarios", {}).get(s, {}).get("description", "")
                        for s in results.scenarios],
    })
    poa = levels[levels["outcome"] == "price_of_anarchy"]
    poa = pd.DataFrame({"scenario": poa["scenario"].map(results.label),
                        "price of anarchy [95% CI]": [f"{m:.2f} [{lo:.2f}, {hi:.2f}]" for m, lo, hi
                                                      in zip(poa["mean"], poa["ci_low"], poa["ci_high"], strict=True)]})
    poa_text = ("Price of anarchy: the best total welfare any scenario reached on the same seed, "
                "over this scenario's (1 is best).")
    if poa.empty:  # a ratio of welfare means nothing where welfare is not positive
        poa_text = ("Price of anarchy: not defined here, since total welfare is not positive in "
                    "every scenario on any seed (it is a ratio of positive welfares).")
    welfare = comparison[comparison["outcome"] == "welfare_total_usd_bn"]
    value = "; ".join(f"{results.label(r.scenario)} {num(r.mean_difference, sign=True)} "
                      f"[{num(r.ci_low, sign=True)}, {num(r.ci_high, sign=True)}]"
                      for r in welfare.itertuples())
    value = (f"Value of cooperation (total welfare over {results.label(reference)} on the same "
             f"seeds, USD bn, 95% CI): {value}.")
    title = f"{results.name}: cooperative against competitive rule sets"
    names = holder_names(results.holder)
    limitations = [x.format(**names) for x in LIMITATIONS]
    intro = (f"{QUESTION.format(**names)} Reference: **{results.label(reference)}**. "
             f"{results.runs['replicate'].nunique()} seeds per scenario.")
    calibration = calibration_tables()
    repro = reproduction(results)
    pooled = {"runs": "the runs of every seed and design point", "run": "run (seed and design "
              "point)"} if results.parameters else {"runs": "the seeds", "run": "seed"}

    answer = summary(comparison, decomposition, results, reference)
    split = welfare_split(levels, results, reference)
    level = (split + " " + why_negative(levels)).strip() if split else ""
    robust = finished(folder_for(results.folder, "robustness"),
                      results.manifest.get("model_sha256"), failures_ok=True)  # for each actor
    actors = bottom_line(results, reference, robust=robust)
    best = welfare_best(comparison)
    pair = leaders_cooperate(results.pairs, best, reference, results.label) \
        if actors and best and not results.pairs.empty else ""
    if sure is not None and sure.headline:
        answer += f" How far that carries: {sure.headline.rstrip('.')} (see How sure are we?)."
    if sure is not None and sure.link:
        answer += " " + sure.link
    md = [f"# {title}", "", results.manifest.get("description", ""), "", intro, "",
          "## Summary", "", *([level, ""] if level else []),
          *(["Bottom line, actor by actor (paired by seed; USD bn over the run, 95 % "
             "intervals):", "", *(f"- {line}" for line in actors), ""] if actors else []),
          *([pair, ""] if pair else []),
          answer, "",
          "## Scenarios compared", "", scenarios.to_markdown(index=False), "",
          "## Results", "", table.to_markdown(index=False), "", reading_guide(results.holder), "", value, "",
          poa_text, "", *([poa.to_markdown(index=False), ""] if not poa.empty else []),
          "All outcomes, per-nation welfare included: `comparison.csv` and `levels.csv`.", ""]
    gains = who_gains(comparison, results)
    gains_text = (f"Each nation's welfare under each scenario less under {results.label(reference)} "
                  "on the same seed (USD bn over the run, mean and 95% interval; negligible: "
                  "the whole interval within ±0.01 bn; comparison.csv has every number).")
    if not gains.empty:
        md += ["## Who gains", "", gains_text, "", gains.to_markdown(index=False), ""]
    channels = channels_table(decomposition, results, reference)
    zeros = unchanged_channels(decomposition)
    if not channels.empty:
        md += ["## Why welfare differs", "", CHANNELS_TEXT.format(ref=results.label(reference)),
               "", channels.to_markdown(index=False), ""]
        md += [zeros, ""] if zeros else []
    member_words, member_table = members or ([], pd.DataFrame())
    member_text = MEMBERSHIP_TEXT.format(**pooled)
    if member_words:
        md += ["## Who is in, and why", "", member_text, ""] + [x + "\n" for x in member_words]
        md += [member_table.to_markdown(index=False), ""] if not member_table.empty else []
    sure = sure or Sure([], pd.DataFrame(), [], [], pd.DataFrame())
    if sure.words:
        md += ["## How sure are we?", ""] + [x + "\n" for x in sure.words]
        md += [sure.counts.to_markdown(index=False), ""] if not sure.counts.empty else []
        md += [x + "\n" for x in sure.drivers]
    if sure.rule_words:
        md += ["### If nations follow other rules", ""] + [x + "\n" for x in sure.rule_words]
        md += [sure.rules.to_markdown(index=False), ""]
    if sure.game_words:
        md += ["### Why cooperation does or does not emerge: the stage game", "", GAME_TEXT, ""]
        md += [x + "\n" for x in sure.game_words]
        md += [sure.games.to_markdown(index=False), ""] if not sure.games.empty else []
    ree = rare_earth_section(comparison, levels, results, reference)
    ree_text = REE_TEXT.format(ref=results.label(reference), pooled=(
        " and over the design points of the swept parameters (separated in the table by swept "
        "parameter below)" if results.parameters else ""), **names)
    ree_heading = ("Rare earths and the holder's leverage" if results.holder == UNNAMED_HOLDER
                   else f"Rare earths and {names['holder_s']} leverage")
    by_point_text = ("By the swept parameters (mean over seeds: shortfall costs of all nations, "
                     f"control spells, {names['holder_s']} share of refining at the end, total "
                     "welfare):")
    by_nation_text = (f"Shortfall costs (USD bn over the run) and time under {names['holder_s']} "
                      "export controls, by nation, and the years each retaliated (mean over "
                      "seeds):")
    md += [f"## {ree_heading}", "", ree_text, ""]
    if not ree["table"].empty:
        md += [ree["table"].to_markdown(index=False), ""]
    md += [x + "\n" for x in (ree["why"], ree["path"], ree["same"], ree["break_even"]) if x]
    if not ree["arenas"].empty:
        md += [ARENAS_TEXT, "", ree["arenas"].to_markdown(index=False), ""]
    if not ree["by_point"].empty:
        md += [by_point_text, "", ree["by_point"].to_markdown(index=False), ""]
    if not ree["nations"].empty:
        md += [by_nation_text, "", ree["nations"].to_markdown(index=False), ""]
    md += ["## Figures", ""]
    captions = {name: CAPTIONS.get(name, name).format(**pooled, **names) for name in figures}
    md += [f"![{name}](figures/{name}{suffix}.png)\n\n*{captions[name]}*\n" for name in figures]
    md += ["", "## Assumptions", "", "Every default and its source, from `docs/calibration.md`.", ""]
    for heading, frame in calibration:
        md += [f"### {heading}", "", frame.to_markdown(index=False), ""]
    md += ["## Limitations", ""] + [f"- {x}" for x in limitations] + [""]
    md += ["## Reproduction", ""] + [f"- **{k}**: `{v}`" for k, v in repro.items()]

    page = [f"<h1>{html.escape(title)}</h1>",
            f"<p>{html.escape(results.manifest.get('description', ''))}</p>",
            f"<p>{html.escape(intro).replace('**', '')}</p>",
            "<h2>Summary</h2>", *([f"<p>{html.escape(level)}</p>"] if level else []),
            *([("<p>Bottom line, actor by actor (paired by seed; USD bn over the run, 95 % "
                "intervals):</p><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in actors)
                + "</ul>")] if actors else []),
            *([f"<p>{html.escape(pair)}</p>"] if pair else []),
            f"<p>{html.escape(answer)}</p>",
            "<h2>Scenarios compared</h2>", scenarios.to_html(index=False, border=0),
            "<h2>Results</h2>", table.to_html(index=False, border=0),
            f"<p>{bold(html.escape(reading_guide(results.holder)))}</p>",
            f"<p>{html.escape(value)}</p>",
            f"<p>{html.escape(poa_text)}</p>",
            *([poa.to_html(index=False, border=0)] if not poa.empty else []),
            "<p>All outcomes, per-nation welfare included: <code>comparison.csv</code> and "
            "<code>levels.csv</code>.</p>"]
    if not gains.empty:
        page += ["<h2>Who gains</h2>", f"<p>{html.escape(gains_text)}</p>",
                 gains.to_html(index=False, border=0)]
    if not channels.empty:
        page += ["<h2>Why welfare differs</h2>",
                 f"<p>{code(html.escape(CHANNELS_TEXT.format(ref=results.label(reference))))}</p>",
                 channels.to_html(index=False, border=0)]
        page += [f"<p>{html.escape(zeros)}</p>"] if zeros else []
    if member_words:
        page += ["<h2>Who is in, and why</h2>", f"<p>{html.escape(member_text)}</p>"]
        page += [f"<p>{html.escape(x)}</p>" for x in member_words]
        page += [member_table.to_html(index=False, border=0)] if not member_table.empty else []
    if sure.words:
        page += ["<h2>How sure are we?</h2>"]
        page += [f"<p>{code(html.escape(x))}</p>" for x in sure.words]
        page += [sure.counts.to_html(index=False, border=0)] if not sure.counts.empty else []
        page += [f"<p>{code(html.escape(x))}</p>" for x in sure.drivers]
    if sure.rule_words:
        page += ["<h3>If nations follow other rules</h3>"]
        page += [f"<p>{html.escape(x)}</p>" for x in sure.rule_words]
        page += [sure.rules.to_html(index=False, border=0)]
    if sure.game_words:
        page += ["<h3>Why cooperation does or does not emerge: the stage game</h3>",
                 f"<p>{html.escape(GAME_TEXT)}</p>"]
        page += [f"<p>{html.escape(x)}</p>" for x in sure.game_words]
        page += [sure.games.to_html(index=False, border=0)] if not sure.games.empty else []
    page += [f"<h2>{html.escape(ree_heading)}</h2>", f"<p>{html.escape(ree_text)}</p>"]
    if not ree["table"].empty:
        page.append(ree["table"].to_html(index=False, border=0))
    page += [f"<p>{html.escape(x)}</p>" for x in (ree["why"], ree["path"], ree["same"],
                                                    ree["break_even"]) if x]
    if not ree["arenas"].empty:
        page += [f"<p>{html.escape(ARENAS_TEXT)}</p>", ree["arenas"].to_html(index=False, border=0)]
    if not ree["by_point"].empty:
        page += [f"<p>{html.escape(by_point_text)}</p>",
                 ree["by_point"].to_html(index=False, border=0)]
    if not ree["nations"].empty:
        page += [f"<p>{html.escape(by_nation_text)}</p>",
                 ree["nations"].to_html(index=False, border=0)]
    page += ["<h2>Figures</h2>"]
    for name, png in figures.items():
        data = base64.b64encode(png).decode()
        page.append(f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(captions[name])}</figcaption></figure>")
    page += ["<h2>Assumptions</h2>", "<p>Every default and its source, from "
             "<code>docs/calibration.md</code>.</p>"]
    for heading, frame in calibration:
        page += [f"<h3>{code(html.escape(heading))}</h3>", code(frame.to_html(index=False, border=0))]
    page += ["<h2>Limitations</h2>", "<ul>"] + [f"<li>{html.escape(x)}</li>" for x in limitations] + [
        "</ul>"]
    page += ["<h2>Reproduction</h2>", "<dl>"] + [
        f"<dt>{html.escape(k)}</dt><dd><code>{html.escape(v)}</code></dd>" for k, v in repro.items()
    ] + ["</dl>"]
    return "\n".join(md) + "\n", page_html(title, "\n".join(page))


@dataclass(frozen=True)
class Sure:
    """What the section "How sure are we?" shows: the robustness study in words and counts,
    the parameters that matter most, and the stage game under each scenario in words and a
    table."""

    words: list[str]
    counts: pd.DataFrame
    drivers: list[str]
    game_words: list[str]
    games: pd.DataFrame
    headline: str = ""  # how far the best gain at the defaults carries, for the summary
    rule_words: list[str] = field(default_factory=list)  # the ranking under other rules
    rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    link: str = ""  # how much of the best difference rests on linking the arenas


GAME_TEXT = (
    "At every step each pair of nations plays a one-shot game whose payoffs the step's own "
    "economics give: what each would earn this step if it coordinated (C) or raced (D) toward "
    "the other, everyone else acting as in the last step. Classed by the order of its payoffs "
    "(T: racing a cooperator, R: mutual cooperation, P: mutual racing, S: cooperating with a "
    "racer; Rapoport & Guyer 1966), with its Nash equilibria (nashpy), for the United States "
    "and China on the first seed. A prisoner's dilemma (T > R > P > S) is where reciprocity can "
    "make cooperation pay over time; in deadlock (T > P > R > S) nothing can, and in harmony "
    "cooperation pays at once.")

ARENAS_TEXT = ("Each nation's welfare by arena (USD bn over the run, mean over seeds): lunar "
               "welfare / terrestrial rare-earth costs (shortfalls under controls, sales "
               "forgone, retaliation, the premium on refining of its own); the two add up to "
               "its welfare. Nations with a rare-earth cost in some scenario:")

CAPTIONS = {  # {runs}: the seeds, or the seeds and design points pooled; {run}: one of them
    "timeseries": "Each scenario over time: median over {runs} (line) and the middle half of "
                  "them (band).",
    "differences": "Each scenario's paired difference from the reference, one point per {run}; "
                   "the box holds the middle half, the line is the median.",
    "nations": "Each nation's cumulative welfare under each scenario: mean over {runs} (dot) and "
               "5-95 % range.",
    "channels": "Why total welfare differs from the reference: the mean paired difference split "
                "into the channels that add up to it.",
    "cooperation": "Who cooperates with whom: the share of steps each nation (row) played C "
                   "toward each other (column), mean over {runs}.",
    "leverage": "{Holder_s} share of refined rare-earth supply, the importers' dependence on it, "
                "the price, and how many nations its export controls hit, over time.",
    "heatmap": "Over the two swept parameters: each scenario's mean paired difference from the "
               "reference.",
    "membership": "Who is in each regime whose members choose: the share of {runs} in which each "
                  "nation was a member, year by year.",
    "games": "The stage game of the United States and China over a run of each scenario (first "
             "seed): the upper half of a band is the game the United States sees, the lower "
             "half China's.",
}


def page_html(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }}
th, td {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
img {{ max-width: 100%; }}
figure {{ margin: 1em 0 2em; }}
figcaption {{ color: #666; font-size: 0.85em; }}
code {{ font-size: 0.85em; }}
dt {{ font-weight: 600; margin-top: 0.4em; }}
</style></head><body>
{body}
</body></html>
"""
