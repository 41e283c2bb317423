"""A results folder, read once for analysis: its manifest and tables, and how to show each
scenario (label in words, colour) the same way in every table and figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from sim.analysis.outcomes import UNNAMED_HOLDER
from sim.base.columns import parameter_column
from sim.base.errors import UserError
from sim.experiment.store import ResultStore

# Okabe & Ito (2008) colour-blind-safe palette; each regime keeps its colour in every figure.
SCENARIO_STYLE = {
    "open_access": ("Open access", "#000000"),  # the usual reference: black
    "artemis_accords": ("Artemis Accords", "#0072B2"),
    "baseline": ("Artemis Accords (baseline)", "#0072B2"),
    "rival_blocs": ("Rival blocs", "#E69F00"),
    "multilateral": ("Multilateral", "#009E73"),
    "multilateral_inclusive": ("Multilateral, US and China in", "#661100"),
    "us_china_cooperation": ("US-China cooperation", "#CC79A7"),
    "us_china_linked": ("US-China linked", "#332288"),
    "ree_export_control": ("Export controls", "#56B4E9"),
    "cheap_transport": ("Cheap transport", "#44AA99"),
    "two_player_pd": ("Two players, a prisoner's dilemma", "#999933"),
}
# what a design found by search (sim.explore.search) was best for, in words
SEARCHED = {"us": "best for the US", "china": "best for China", "others": "best for the others",
            "incidents": "fewest incidents"}
# vermillion last: beside the orange of rival blocs it is hard to tell apart
SPARE_COLOURS = ["#56B4E9", "#999999", "#882255", "#44AA99", "#F0E442", "#000000", "#D55E00"]


def scenario_styles(scenarios: list[str]) -> dict[str, tuple[str, str]]:
    """Each scenario's (label in words, colour), the same in every table and figure: the
    library's own, else the name in words; a colour another scenario has taken gives way to a
    spare one."""
    out, spare = {}, iter(SPARE_COLOURS)
    used = set()
    stems = [Path(name).stem for name in scenarios]
    for name in scenarios:
        stem = Path(name).stem  # a scenario file the experiment names: its name, if no other's
        words = stem if name.endswith(".toml") and stems.count(stem) == 1 else name
        label, colour = SCENARIO_STYLE.get(name, (words.replace("_", " ").capitalize(), None))
        policy, found, best = name.partition("_best_for_")  # a design found by search
        if found and policy in SCENARIO_STYLE:
            what = SEARCHED.get(best, best.replace("pareto", "Pareto design "))
            label = f"{SCENARIO_STYLE[policy][0]}: searched, {what}"
            colour = None
        if colour is None or colour in used:
            colour = next(c for c in spare if c not in used)
        used.add(colour)
        out[name] = (label, colour)
    return out


def by_label(name: str, scenarios: list[str]) -> str:
    """``name`` as one of ``scenarios``: itself if it is one, else the one whose label (as the
    report shows it) it is, in any case; unchanged if none or several are."""
    if name in scenarios:
        return name
    styles = scenario_styles(scenarios)
    found = [s for s in scenarios if styles[s][0].casefold() == name.casefold()]
    return found[0] if len(found) == 1 else name


@dataclass
class Results:
    folder: Path
    store: ResultStore = field(init=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.store = ResultStore(self.folder)
        if not self.store.exists():
            raise UserError(self.store.missing_manifest())
        self.manifest  # noqa: B018  (a run folder's or a damaged manifest is refused here)
        if self.runs.empty:
            raise UserError(f"{self.folder}: no finished runs to analyse")

    @cached_property
    def manifest(self) -> dict:
        return self.store.manifest()

    @cached_property
    def runs(self) -> pd.DataFrame:
        return self.store.read("runs")

    @cached_property
    def nations(self) -> pd.DataFrame:
        return self.store.read("nations")

    @cached_property
    def pairs(self) -> pd.DataFrame:
        return self.store.read("pairs")

    @cached_property
    def series_model(self) -> pd.DataFrame:
        return self.store.read("series_model")

    @cached_property
    def series_nations(self) -> pd.DataFrame:
        return self.store.read("series_nations")

    @property
    def name(self) -> str:
        return self.manifest.get("experiment", self.folder.name)

    @property
    def scenarios(self) -> list[str]:
        listed = self.manifest.get("scenario_order") or list(self.manifest.get("scenarios", {}))
        present = set(self.runs["scenario"])
        return [s for s in listed if s in present] or sorted(present)

    def reference(self, override: str | None = None) -> str:
        """The scenario to compare against: ``override`` (a scenario's name, or its label as the
        report shows it, in any case), else the experiment's own reference."""
        if override is not None:
            override = by_label(override, self.scenarios)
        ref = override or self.manifest.get("reference") or self.scenarios[0]
        if ref not in self.scenarios and override is None:
            raise UserError(f"{self.folder}: the reference scenario {ref!r} has no finished runs "
                            f"(with runs: {', '.join(self.scenarios)}); --reference chooses another")
        if ref not in self.scenarios:
            raise UserError(f"--reference: {ref!r} is not a scenario of {self.folder} with "
                            f"finished runs ({', '.join(self.scenarios)})")
        return ref

    def suffix(self, reference: str) -> str:
        """What an analysis against ``reference`` adds to its file names: nothing for the
        experiment's own reference, ``-vs-REFERENCE`` for another, so that they never replace
        each other."""
        own = self.manifest.get("reference") or self.scenarios[0]
        return "" if reference == own else f"-vs-{reference}"

    def completeness(self) -> str | None:
        """A note when the folder holds fewer finished runs than the experiment has."""
        total = self.manifest.get("runs_total")
        done = len(self.runs)
        if isinstance(total, int) and done < total:
            return (f"{self.folder}: {done} of {total} runs finished; the comparison uses those "
                    "('lunarsim batch EXPERIMENT --resume' finishes the rest)")
        return None

    @cached_property
    def nation_order(self) -> list[str]:
        """Nations grouped by bloc (largest bloc first), richest first within a bloc."""
        n = self.nations
        welfare = n.groupby("nation")["welfare_usd_bn"].mean()
        bloc = n.groupby("nation")["bloc"].first()
        bloc_size = bloc.map(bloc.value_counts())
        frame = pd.DataFrame({"welfare": welfare, "bloc": bloc, "size": bloc_size})
        return list(frame.sort_values(["size", "bloc", "welfare"], ascending=[False, True, False]).index)

    @property
    def parameters(self) -> dict[str, str]:
        """The design's parameters: their column in the runs table -> their dotted path."""
        return {parameter_column(p): p for p in self.manifest.get("parameters", [])}

    @cached_property
    def style(self) -> dict[str, tuple[str, str]]:
        """scenario -> (label in words, colour)."""
        return scenario_styles(self.scenarios)

    @cached_property
    def holder(self) -> str:
        """The rare-earth leverage holder as the report names it: the nation every scenario
        names (``market.leverage_holder``), or "the leverage holder" where they differ, name
        none, or the folder does not say (one written before lunarsim recorded it)."""
        recorded = self.manifest.get("scenarios", {})
        named = {recorded.get(s, {}).get("leverage_holder") for s in self.scenarios}
        return named.pop() if len(named) == 1 and None not in named else UNNAMED_HOLDER

    def label(self, scenario: str) -> str:
        return self.style[scenario][0]

    def colour(self, scenario: str) -> str:
        return self.style[scenario][1]
