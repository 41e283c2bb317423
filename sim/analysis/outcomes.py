"""The outcomes compared across scenarios: where each is read, its unit, and which way is better.

"Better" defines the share of seeds on which a scenario wins against the reference. Welfare,
propellant and cooperation are better higher; incidents, depletion of the best sites, inequality
and the rare-earth holder's leverage (seen from the importers' side) are better lower.

Each outcome declares the smallest difference that matters (``negligible``, in its unit): a
paired difference whose whole 95 % interval lies inside ± that is reported as negligible,
however many seeds agree on its sign. The thresholds are judgements, stated here to be read and
changed: 0.1 USD bn of total welfare over the run (0.01 for one nation; the same for its lunar
part, its rare-earth costs and its discounted sum), one percentage point of a share of actions,
half a point of a share of a stock or of the regolith brought, half an incident, 500 t of
propellant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

UNNAMED_HOLDER = "the leverage holder"  # where the scenarios name different ones, or none


def holder_names(holder: str) -> dict[str, str]:
    """The words that name the rare-earth leverage holder in a text: ``{holder}``,
    ``{holder_s}`` (possessive: "China's", "the United States'") and the same capitalised to
    start a sentence (``{Holder}``, ``{Holder_s}``)."""
    possessive = holder + ("'" if holder.endswith("s") else "'s")
    return {"holder": holder, "holder_s": possessive,
            "Holder": holder[:1].upper() + holder[1:],
            "Holder_s": possessive[:1].upper() + possessive[1:]}


def name_holder(text: str, holder: str) -> str:
    """``text`` with its holder fields (:func:`holder_names`) filled; nothing else in it is read
    as a field, so a nation's name with braces in it stays as it is."""
    for field, words in holder_names(holder).items():
        text = text.replace("{" + field + "}", words)
    return text


@dataclass(frozen=True)
class Outcome:
    name: str  # column of the runs table, or "welfare: NATION" for one nation's welfare
    label: str
    unit: str
    higher_is_better: bool
    key: bool = True  # shown in the terminal table and the figures
    negligible: float = 0.0  # the smallest difference that matters, in the outcome's unit
    # False where "better" depends on whose side one takes (the holder's leverage, the price,
    # how fast the best sites are used): figures then show the change without calling it
    # better or worse; ``higher_is_better`` still orients the counts of the tables
    judged: bool = True

    def values(self, runs: pd.DataFrame, nations: pd.DataFrame) -> pd.Series:
        """This outcome per run (indexed by run id)."""
        if self.name.startswith("welfare: "):
            nation = self.name.removeprefix("welfare: ")
            rows = nations[nations["nation"] == nation]
            return rows.set_index("run")["welfare_usd_bn"]
        return runs.set_index("run")[self.name]

    def naming(self, holder: str) -> Outcome:
        """This outcome with the leverage holder named in its label."""
        return replace(self, label=name_holder(self.label, holder))


OUTCOMES = [
    Outcome("welfare_total_usd_bn", "Total welfare", "USD bn", True, negligible=0.1),
    Outcome("welfare_lunar_total_usd_bn", "Lunar welfare", "USD bn",
            True, negligible=0.1),
    Outcome("ree_costs_total_usd_bn", "Terrestrial rare-earth costs", "USD bn", False,
            negligible=0.1),
    Outcome("welfare_discounted_total_usd_bn", "Total welfare, discounted",
            "USD bn", True, negligible=0.1),
    Outcome("unworked_share", "Regolith brought, not worked", "share of regolith",
            False, negligible=0.005),
    Outcome("gross_output_usd_bn", "Gross output (before costs and capital)", "USD bn", True,
            key=False, negligible=0.1),
    Outcome("capital_usd_bn", "Capital installed at the end (book value)", "USD bn", True,
            key=False, negligible=0.1),
    Outcome("propellant_t", "Propellant made", "t", True, negligible=500.0),
    Outcome("ree_delivered_t", "Lunar rare earths delivered", "t", True, key=False,
            negligible=1.0),
    Outcome("incidents", "Incidents", "count", False, negligible=0.5),
    Outcome("cooperation_rate", "Cooperation rate", "share of actions", True, negligible=0.01),
    Outcome("best_site_depletion", "Best-site depletion", "share of reserve", False,
            negligible=0.005, judged=False),
    Outcome("leverage_index", "{Holder_s} rare-earth leverage", "share of refining", False,
            negligible=0.005, judged=False),
    Outcome("gini_welfare", "Inequality of welfare (Gini)", "index", False, negligible=0.01),
]

# The rare-earth section of the report: each compared like the rest, shown in its own table.
REE_OUTCOMES = [
    Outcome("leverage_index", "{Holder_s} share of refined supply at the end", "share of refining",
            False, key=False, negligible=0.005, judged=False),
    Outcome("importer_dependence", "Importers' use met by {holder_s} refineries, at the end",
            "share of their use", False, key=False, negligible=0.005, judged=False),
    Outcome("ree_price_usd_per_kg", "Magnet rare-earth oxide price at the end", "USD/kg", False,
            key=False, negligible=0.5, judged=False),
    Outcome("refining_built_t_per_yr", "Refining built outside {holder} (projects included)", "t/yr",
            True, key=False, negligible=100.0),
    Outcome("control_episodes", "Export-control episodes (nations hit, summed)", "count", False,
            key=False, negligible=0.5),
    Outcome("ree_shortfall_cost_usd_bn", "Cost of shortfalls under controls", "USD bn", False,
            key=False, negligible=0.01),
    Outcome("ree_delivered_t", "Lunar rare earths delivered", "t", True, key=False,
            negligible=1.0),
    Outcome("ree_break_even_usd_per_kg", "Break-even Earth-return cost of lunar rare earths",
            "USD/kg", True, key=False, negligible=1.0),
]


def outcomes_for(nations: pd.DataFrame, holder: str) -> list[Outcome]:
    """The model-level outcomes, with ``holder`` named, and one welfare outcome per nation in
    the results."""
    names = list(dict.fromkeys(nations["nation"])) if not nations.empty else []
    ree = [o for o in REE_OUTCOMES if o.name not in {x.name for x in OUTCOMES}]
    welfare = [Outcome(f"welfare: {n}", f"Welfare of {n}", "USD bn", True, key=False,
                       negligible=0.01) for n in names]
    return [o.naming(holder) for o in OUTCOMES + ree] + welfare
