"""The report's "If nations follow other rules": the comparison's ranking under the scenarios'
own rules beside its ranking under each strategy set of :mod:`sim.explore.strategy_sets`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.analysis.outcomes import OUTCOMES
from sim.analysis.results import Results
from sim.explore.robustness import finished
from sim.explore.strategy_sets import SETS, folder, ranking
from sim.report.text import num

OWN = "the scenarios' own rules"


def section(results_folder: Path, results: Results, reference: str
            ) -> tuple[list[str], pd.DataFrame, str]:
    """The rankings under the scenarios' own rules and under each strategy set whose study is
    there (finished, by this model code): words, a table (empty without any study), and one
    sentence on how much of the best scenario's difference rests on the link between the arenas
    (for the summary; empty without the ``unlinked`` study)."""
    model = results.manifest.get("model_sha256")
    tables = {OWN: ranking(results, reference)}
    for name, (words, _) in SETS.items():
        study = finished(folder(results_folder, name), model)
        if study is not None and set(study.scenarios) >= set(results.scenarios):
            tables[words] = ranking(study, reference)
    if len(tables) == 1:
        return [], pd.DataFrame(), ""
    ref = results.label(reference)
    shown = pd.DataFrame({"scenario": [results.label(s) for s in results.scenarios]})
    for words, table in tables.items():
        t = table.set_index("scenario").reindex(results.scenarios)
        shown[words] = [("reference" if s == reference else
                         f"{num(r['mean'], sign=True)} [{num(r['low'], sign=True)}, "
                         f"{num(r['high'], sign=True)}]") + f" ({_ordinal(int(r['rank']))})"
                        for s, r in t.iterrows()]
    seeds = {words: int(t["seeds"].max()) for words, t in tables.items()}
    text = [f"Which rule each nation follows is itself uncertain. The comparison was run again "
            f"under other rules ({', '.join(list(tables)[1:])}; each nation keeping its "
            f"tremble; on the first {min(seeds.values())} seeds, paired with the runs above). "
            f"The table gives each scenario's total welfare less {ref}'s (USD bn over the run, "
            "mean and 95 % interval) and its rank among the scenarios."]
    tops = {words: t.loc[t["rank"] == 1, "scenario"].tolist() for words, t in tables.items()}
    own_top = tops[OWN]
    same = [w for w in tables if w != OWN and tops[w] == own_top]
    other = {w: tops[w] for w in tables if w != OWN and tops[w] != own_top}
    best = " and ".join(results.label(s) for s in own_top)
    sentence = (f"Under the scenarios' own rules {best} ranks first; it ranks first under "
                + (", ".join(same) if same else "none of the other sets"))
    if other:
        sentence += "; " + "; ".join(f"under {w}, {' and '.join(results.label(s) for s in top)} "
                                      "does" for w, top in other.items())
    text.append(sentence + ".")
    link = _link(tables, own_top, results, ref)
    if link:
        text.append(link)
    # clear: the interval excludes 0 and is not all within the smallest difference that matters
    small = next(o.negligible for o in OUTCOMES if o.name == "welfare_total_usd_bn")
    clear = {w: t[((t["low"] > 0) | (t["high"] < 0)) & ~((t["low"] > -small) & (t["high"] < small))]
             for w, t in tables.items()}
    signs = []
    for scenario in results.scenarios:
        if scenario == reference:
            continue
        sides = {w: ("better" if c.set_index("scenario").loc[scenario, "low"] > 0 else "worse")
                 for w, c in clear.items() if scenario in set(c["scenario"])}
        if len(set(sides.values())) > 1:
            signs.append(f"{results.label(scenario)} is clearly better than {ref} under "
                         + ", ".join(w for w, s in sides.items() if s == "better")
                         + " and clearly worse under "
                         + ", ".join(w for w, s in sides.items() if s == "worse"))
    if signs:
        text.append(f"The sign itself turns on the rules (clearly: the interval excludes 0 and "
                    f"is not all within ±{num(small)} bn): " + "; ".join(signs) + ".")
    return text, shown, link


def _link(tables: dict[str, pd.DataFrame], top: list[str], results: Results, ref: str) -> str:
    """How much of the best scenario's difference rests on nations linking the arenas: its
    difference under the scenarios' own rules beside that with no nation linking them."""
    unlinked = SETS["unlinked"][0]
    if unlinked not in tables or len(top) != 1:
        return ""
    own = tables[OWN].set_index("scenario").loc[top[0]]
    alone = tables[unlinked].set_index("scenario").loc[top[0]]
    return (f"How much rests on the link between the arenas: {results.label(top[0])} is "
            f"{num(own['mean'], sign=True)} bn from {ref} under the scenarios' own rules and "
            f"{num(alone['mean'], sign=True)} bn [{num(alone['low'], sign=True)}, "
            f"{num(alone['high'], sign=True)}] with no nation linking them (the rest is what "
            "linked answers to play at the pole add or take away: rare-earth controls, "
            "retaliation, and the restraint they buy).")


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"
