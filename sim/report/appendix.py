"""The report's closing sections: the limitations, every assumption with its source (the tables
of docs/calibration.md) and what is needed to reproduce the numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from sim.analysis.results import Results
from sim.base.shown import shown_command, shown_path

CALIBRATION = Path(__file__).resolve().parents[2] / "docs" / "calibration.md"

LIMITATIONS = [
    "It explores consequences of stated assumptions; it does not forecast. Most parameters are "
    "assumptions or low-confidence estimates (marked in the Assumptions below), and the ones "
    "that matter most are the subject of the sensitivity analysis, not of this comparison.",
    "Sites are a short, stylised list of real south-pole regions and two KREEP terrains; reserves "
    "and throughputs are assumptions. Space is not modelled beyond which site a plant is at.",
    "Nations follow fixed decision rules (forward-looking for the US and China, followers for "
    "allies, reciprocity for India); they do not learn new rules, form new blocs or negotiate.",
    "Welfare is the net product of lunar extraction plus the rare-earth costs the model "
    "represents (shortfalls, forgone sales, the premium on refining built outside {holder}); it "
    "leaves out prestige, security, science and the terms-of-trade effect of rare-earth prices.",
    "Rare earths are one good (magnet oxides); demand counts magnets but not the oxide embedded "
    "in imported goods; refining outside {holder} is capped by ore mined outside it; no refinery is "
    "announced after 2030, so later paths follow the model's own mechanisms only. Nations do "
    "not anticipate {holder_s} export controls when they choose their lunar actions.",
    "Each difference is an average over the seeds shown; with few seeds the intervals are wide, "
    "and a difference marked negligible is small against a stated threshold, not zero.",
]


def calibration_tables() -> list[tuple[str, pd.DataFrame]]:
    """The tables of docs/calibration.md, each under its heading."""
    if not CALIBRATION.is_file():
        return []
    out, heading, rows, caption = [], "", [], ""
    for line in CALIBRATION.read_text().splitlines() + [""]:
        if line.startswith("## "):
            heading, caption = line[3:].strip(), ""
        bold = re.match(r"^\*\*(.+?)\*\*", line)
        if bold:  # a table's own title inside a section ("**Refineries announced**")
            caption = bold.group(1)
        if re.match(r"^\|[\s\-:|]+\|$", line):  # the rule under a table's header
            continue
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            title = heading if not out or out[-1][0].split(": ")[0] != heading else (
                f"{heading}: {caption}" if caption else f"{heading} (continued)")
            out.append((title, pd.DataFrame(rows[1:], columns=rows[0])))
            rows = []
    return out


def reproduction(results: Results) -> dict[str, str]:
    m = results.manifest
    v = m.get("versions", {})
    return {
        "experiment": f"{m.get('experiment')} ({shown_path(m.get('experiment_file'))})",
        "experiment sha256": str(m.get("experiment_sha256")),
        "master seed": str(m.get("master_seed")),
        "replicates": str(m.get("replicates")),
        "runs": f"{len(results.runs)} of {m.get('runs_total')} analysed "
                f"({'complete' if len(results.runs) == m.get('runs_total') else 'incomplete'})",
        "git commit": str(m.get("git_commit")),
        "versions": ", ".join(f"{k} {val}" for k, val in v.items()),
        "command": shown_command(list(m.get("command", []))),
        "to reproduce": f"lunarsim batch {shown_path(m.get('experiment_file'))} --force, then "
                        f"lunarsim compare {shown_path(results.folder)}",
    }
