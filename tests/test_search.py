"""The search for better regime designs (``lunarsim explore robust --search``): it recovers the
known Pareto set of a toy problem, draws no number from the interpreter's global generator,
repeats itself on the same seed, and its designs join a robust study as scenarios of their
own."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.explore import search

runner = CliRunner()


def toy(x: float = 0.0, y: float = 0.0) -> dict[str, float]:
    """Two objectives to maximise: x and 1 - x^2 trade off (every x in [0, 1] is on the Pareto
    set), and y only costs both: the Pareto set is y = 0."""
    return {"a": x - y * y, "b": 1.0 - x * x - y * y}


LEVERS = {"x": (0.0, 1.0), "y": (-1.0, 1.0)}


def test_the_search_recovers_a_known_pareto_set_and_leaves_the_global_generator_alone():
    before = random.getstate()
    found = search.optimise(toy, LEVERS, {"a": True, "b": True}, [0.01, 0.01], 1500, seed=3)
    assert random.getstate() == before
    pareto = found.pareto
    assert len(pareto) >= 20
    assert (pareto["y"].abs() < 0.1).all()  # y = 0 on the Pareto set
    assert pareto["x"].min() < 0.2 and pareto["x"].max() > 0.9  # the whole front is spanned
    # no design found dominates another
    values = pareto[["a", "b"]].to_numpy()
    dominated = ((values[:, None, :] >= values[None, :, :]).all(axis=2)
                 & (values[:, None, :] > values[None, :, :]).any(axis=2))
    assert not dominated.any()
    # convergence: the archive improves less and less (its epsilon-progress levels off)
    progress = found.convergence["epsilon_progress"].to_numpy()
    assert (np.diff(progress) >= 0).all()
    half = len(progress) // 2
    assert progress[-1] - progress[half] < progress[half] - progress[0]
    again = search.optimise(toy, LEVERS, {"a": True, "b": True}, [0.01, 0.01], 1500, seed=3)
    assert again.pareto.equals(pareto)
    other = search.optimise(toy, LEVERS, {"a": True, "b": True}, [0.01, 0.01], 1500, seed=4)
    assert not other.pareto.equals(pareto)


def test_a_minimised_objective_is_minimised():
    found = search.optimise(lambda x=0.0: {"cost": (x - 0.3) ** 2}, {"x": (0.0, 1.0)},
                            {"cost": False}, [0.0001], 600, seed=1)
    assert found.pareto["x"].to_numpy() == pytest.approx([0.3], abs=0.02)


def test_the_best_designs_join_the_study_as_scenarios_with_their_levers(tmp_path):
    import pandas as pd

    from sim.experiment import load_experiment

    (tmp_path / "tiny.toml").write_text(TINY)
    base = load_experiment(tmp_path / "tiny.toml")
    levers = list(search.regime_levers())
    middle = {k: (low + high) / 2 for k, (low, high) in search.regime_levers().items()}
    rows = pd.DataFrame([middle | {"regime.multilateral.fine_multiple": f,
                                                        "welfare_us": u, "welfare_china": c,
                                                        "welfare_others": o, "incidents": i}
                         for f, u, c, o, i in [(1.0, 5, 1, 1, 3), (2.0, 1, 5, 1, 3),
                                               (3.0, 1, 1, 1, 1)]])
    found = search.Search(rows, pd.DataFrame(), levers, list(search.OBJECTIVES), "multilateral")
    picked = search.chosen(found)
    # the first is best for the US, the second for China, the third has the fewest incidents;
    # for the others all tie, and the first (the US's) is listed once only
    fines = {k: v["regime.multilateral.fine_multiple"] for k, v in picked.items()}
    assert fines == {"us": 1.0, "china": 2.0, "incidents": 3.0}
    plan = search.with_designs(base, "multilateral", {"us": picked["us"]})
    assert plan.spec.scenarios[-1] == "multilateral_best_for_us"
    scenario = plan.scenario("multilateral_best_for_us", {})
    assert scenario.regime.params.fine_multiple == 1.0
    assert plan.scenario("multilateral", {}).regime.params.fine_multiple != 1.0


TINY = """
name = "tiny"
scenarios = ["open_access", "multilateral"]
reference = "open_access"
replicates = 1
master_seed = 11
horizon_years = 1.0
"""


def test_the_command_searches_then_runs_the_designs_among_the_candidates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("tiny.toml").write_text(TINY)
    result = runner.invoke(app, ["explore", "robust", "tiny.toml", "--worlds", "3", "--search",
                                 "12", "--search-worlds", "1", "--search-policy", "nowhere"])
    assert result.exit_code == 2 and "--search-policy: 'nowhere' is not a scenario" in \
        result.stderr and not Path("results").exists()
    result = runner.invoke(app, ["explore", "robust", "tiny.toml", "--worlds", "3", "--search",
                                 "12", "--search-policy", "open_access"])
    assert result.exit_code == 2 and "--search-policy: open_access's regime is open_access; " \
        "the search varies the multilateral regime's levers" in result.stderr
    assert not Path("results").exists()
    result = runner.invoke(app, ["explore", "robust", "tiny.toml", "--worlds", "3", "--search",
                                 "12", "--search-worlds", "1", "--search-policy", "multilateral",
                                 "--backend", "serial"])
    assert result.exit_code == 0, result.output
    folder = Path("results/tiny-search-rdm")
    for name in search.SEARCH_FILES:
        assert (folder / name).is_file(), name
    from sim.analysis import Results

    runs = Results(folder).runs
    searched = [s for s in runs["scenario"].unique() if "_best_for_" in s]
    assert searched and set(runs["point"]) == {0, 1, 2}
    assert "Multilateral: searched, " in result.output
    result = runner.invoke(app, ["brief", str(folder)])
    assert result.exit_code == 0, result.output
    text = (folder / "brief.md").read_text()
    assert "designs of Multilateral found by a many-objective search over its regime's levers " \
           "(12 designs evaluated, each in 1 world)" in text


def test_more_designs_of_the_pareto_set_are_chosen_to_spread_its_trade_offs():
    import pandas as pd

    levers = ["x"]
    # a front along a line, US gain against China gain; incidents and the others equal
    us = np.linspace(0.0, 10.0, 11)
    rows = pd.DataFrame({"x": us, "welfare_us": us, "welfare_china": 10.0 - us,
                         "welfare_others": 1.0, "incidents": 2.0})
    found = search.Search(rows, pd.DataFrame(), levers, list(search.OBJECTIVES), "p")
    two = search.chosen(found, keep=2)
    assert {k: v["x"] for k, v in two.items()} == {"us": 10.0, "china": 0.0}
    three = search.chosen(found, keep=3)
    assert three["pareto3"]["x"] == 5.0  # the middle of the front is farthest from both ends
    assert len(search.chosen(found, keep=0)) == 11  # the whole set, each once
    assert len({v["x"] for v in search.chosen(found, keep=0).values()}) == 11


def test_a_pareto_set_that_ties_on_every_objective_gives_one_design():
    import pandas as pd

    rows = pd.DataFrame({"x": [0.2, 0.4], "welfare_us": 1.0, "welfare_china": 1.0,
                         "welfare_others": 1.0, "incidents": 0.0})
    found = search.Search(rows, pd.DataFrame(), ["x"], list(search.OBJECTIVES), "p")
    assert list(search.chosen(found, keep=1)) == ["pareto1"]
    assert len(search.chosen(found, keep=4)) == 2


def test_the_words_say_whether_the_search_had_settled():
    import pandas as pd

    rising = pd.DataFrame({"nfe": [0, 50, 100, 150, 200], "epsilon_progress": [0, 10, 20, 30, 33]})
    said = search.convergence_words(rising)
    assert said.startswith("it had not settled: 3 better design(s) were kept over the last fifth "
                           "of the 200")
    flat = rising.assign(epsilon_progress=[0, 10, 20, 30, 30])
    assert search.convergence_words(flat).startswith("it had settled")
