"""The report's section on the stage game: the United States and China under each scenario of
a results folder, on the first replicate's seed."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sim.base.errors import UserError
from sim.explore.game.figure import games_figure
from sim.explore.game.stage import DEFAULT_PAIR, StageGame, _frame, _games
from sim.explore.game.words import describe


def section_scenarios(results) -> tuple[dict, int, list[str]]:
    """What the report's stage-game section runs: (the scenarios, rebuilt, by name; the first
    replicate's seed; a note). No scenarios where they cannot be rebuilt exactly as they were
    run (a design varies them; a scenario file changed since, which the note says)."""
    from sim.base.shown import found_path
    from sim.experiment import load_experiment
    from sim.scenario import content_hash

    manifest = results.manifest
    if results.parameters or not manifest.get("experiment_file"):
        return {}, 0, []
    source = found_path(manifest["experiment_file"])
    if source is None:
        return {}, 0, []
    try:
        experiment = load_experiment(source)
        built = {name: experiment.scenario(name, {}) for name in results.scenarios}
    except UserError:
        return {}, 0, []
    recorded = manifest.get("scenarios", {})
    if any(recorded.get(n, {}).get("sha256") != content_hash(s) for n, s in built.items()):
        return {}, 0, ["The stage game is not shown: a scenario file has changed since these runs."]
    first = next(iter(built.values()))
    if not set(DEFAULT_PAIR) <= {n.name for n in first.nations}:
        return {}, 0, []
    return built, int(manifest["seeds"][0][1]), []


def section_games(scenarios: dict, seed: int) -> dict[str, list[StageGame]]:
    """One run of each scenario on ``seed``: the stage game of the United States and China at
    every step (the section's slow part: ``compare`` computes it in a second process)."""
    return {name: list(_games(scenario, None, None, seed, None, None))
            for name, scenario in scenarios.items()}


def report_section(results, games: dict[str, list[StageGame]] | None = None
                   ) -> tuple[list[str], pd.DataFrame, Figure | None]:
    """The stage game of the United States and China under each scenario of a results folder,
    on the first replicate's seed: a paragraph per scenario (at the middle year shown), a table
    of the class at three years, and the class over the run as a figure. Empty where
    :func:`section_scenarios` finds nothing to run. ``games`` may pass in
    :func:`section_games`'s result for them."""
    built, seed, note = section_scenarios(results)
    if not built:
        return note, pd.DataFrame(), None
    if games is None:
        games = section_games(built, seed)
    first = next(iter(built.values()))
    start, span = first.time.start_year, first.time.horizon_years
    years = [round(start + k * span, 2) for k in (0.2, 0.6, 0.96)]  # 2031, 2041, 2050 in 25
    rows, words, paths = [], [], {}
    for name, scenario in built.items():  # one run each: every step's game
        paths[name] = _frame(scenario, seed, games[name])
        shown = [next(g for g in reversed(games[name]) if g.year <= year) for year in years]
        rows.append({"scenario": results.label(name)} | {
            f"{year:g}": f"{g.kind}: {', '.join(str(e) for e in g.equilibria)}"
            for year, g in zip(years, shown, strict=True)})
        words.append((results.label(name), describe(shown[len(shown) // 2])))
    alike: dict[str, list[str]] = {}  # scenarios whose game reads the same, said once
    for label, text in words:
        alike.setdefault(text, []).append(label)
    words = [f"{', '.join(labels)}: {text}" for text, labels in alike.items()]
    labels = {name: results.label(name) for name in paths}
    return words, pd.DataFrame(rows), games_figure(paths, labels)
