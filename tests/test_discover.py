"""Scenario discovery (sim/explore/discover/): the condition language against hand
calculations on a hand-made runs table, PRIM on a planted box, and a tiny real experiment."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.base.errors import UserError
from sim.explore.discover import (
    Discovery,
    discover,
    discover_points,
    discovery_figure,
    holds,
    parse,
)

# --- a hand-made results table -----------------------------------------------------------------
# Two design points, three replicates, three scenarios. Per scenario: point -> one value per
# replicate. The expected shares below are worked out by hand from these numbers.
OA, ML, UC = "open_access", "multilateral", "us_china_cooperation"
WELFARE = {OA: {0: [1, 2, 3], 1: [0, 0, 0]},
           ML: {0: [2, 1, 4], 1: [1, 0, -1]},
           UC: {0: [0, 5, 3], 1: [1, -1, 2]}}
INCIDENTS = {OA: {0: [3, 2, 4], 1: [1, 1, 1]},
             ML: {0: [0, 2, 1], 1: [1, 0, 2]},
             UC: {0: [1, 2, 0], 1: [0, 0, 0]}}
CHINA = {OA: {0: [1, 1, 1], 1: [1, 1, 1]},
         ML: {0: [0, 0, 0], 1: [0, 0, 0]},
         UC: {0: [2, 0, 2], 1: [2, 2, 0]}}
SYNERGY = {0: 0.1, 1: 0.3}


def hand_results(drop: tuple[str, int, int] | None = None) -> SimpleNamespace:
    """A Results-like object: runs and nations tables, parameters and scenarios."""
    runs, nations = [], []
    for scenario in (OA, ML, UC):
        for point in (0, 1):
            for replicate in range(3):
                if (scenario, point, replicate) == drop:
                    continue  # a run that failed
                run = len(runs)
                w = float(WELFARE[scenario][point][replicate])
                runs.append({"run": run, "scenario": scenario, "point": point,
                             "seed": 100 + replicate, "replicate": replicate,
                             "economics__synergy": SYNERGY[point],
                             "welfare_total_usd_bn": w,
                             "incidents": INCIDENTS[scenario][point][replicate],
                             "investment_usd_bn": 1.0})
                for nation, value in (("United States", w / 2),
                                      ("China", float(CHINA[scenario][point][replicate]))):
                    nations.append({"run": run, "scenario": scenario, "point": point,
                                    "seed": 100 + replicate, "nation": nation, "bloc": "x",
                                    "welfare_usd_bn": value, "incidents": 0})
    return SimpleNamespace(runs=pd.DataFrame(runs), nations=pd.DataFrame(nations),
                           parameters={"economics__synergy": "economics.synergy"},
                           scenarios=[OA, ML, UC], folder="hand")


def shares(condition: str, results=None) -> list[float]:
    table = holds(results or hand_results(), condition)
    assert list(table["point"]) == [0, 1]
    assert list(table["economics__synergy"]) == [0.1, 0.3]
    return list(table["share"])


US = 'welfare["United States"]'
CASES = [
    # a total outcome of two scenarios: p0 [T, F, T], p1 [T, F, F]
    (f"welfare_total_usd_bn[{ML}] > welfare_total_usd_bn[{OA}]", [2 / 3, 1 / 3]),
    # a difference: ML - OA is p0 [1, -1, 1], p1 [1, 0, -1]
    (f"welfare_total_usd_bn[{ML}] - welfare_total_usd_bn[{OA}] >= 1", [2 / 3, 1 / 3]),
    # precedence: 2 * OA + 1 (not 2 * (OA + 1), which would hold everywhere)
    (f"2 * welfare_total_usd_bn[{OA}] + 1 > welfare_total_usd_bn[{UC}]", [2 / 3, 1 / 3]),
    (f"-welfare_total_usd_bn[{UC}] < -2", [2 / 3, 0.0]),
    (f"welfare_total_usd_bn[{UC}] <= 1.0e0", [1 / 3, 2 / 3]),
    (f"incidents[{UC}] == 0", [1 / 3, 1.0]),
    (f"incidents[{UC}] != 0", [2 / 3, 0.0]),
    # one nation's welfare, a quoted name with a space, and a bare one
    (f"{US}[{UC}] > {US}[{OA}] and welfare[China][{UC}] > welfare[China][{OA}]", [0.0, 1 / 3]),
    (f"{US}[{UC}] > {US}[{OA}] or welfare['China'][{UC}] > welfare[China][{OA}]", [1.0, 1.0]),
    (f"not ({US}[{UC}] <= {US}[{OA}])", [1 / 3, 2 / 3]),
    (f"welfare_usd_bn[China][{UC}] >= 2 and not incidents[{OA}] > 3", [1 / 3, 2 / 3]),
    # parentheses change the grouping: (A or B) and C against A or (B and C)
    (f"(incidents[{ML}] == 0 or incidents[{UC}] == 0) and welfare_total_usd_bn[{OA}] > 1",
     [1 / 3, 0.0]),
    (f"incidents[{ML}] == 0 or (incidents[{UC}] == 0 and welfare_total_usd_bn[{OA}] > 1)",
     [2 / 3, 1 / 3]),
    # best: the highest welfare, per replicate; a tie at the top is nobody's
    (f"best(welfare_total_usd_bn) == {ML}", [2 / 3, 0.0]),
    (f"best(welfare_total_usd_bn) != {ML}", [1 / 3, 1.0]),
    (f"{UC} == best(welfare_total_usd_bn)", [1 / 3, 1 / 3]),
    (f"highest(welfare_total_usd_bn) == '{UC}'", [1 / 3, 1 / 3]),
    # worst and lowest: the lowest welfare
    (f"worst(welfare_total_usd_bn) == {OA}", [0.0, 1 / 3]),
    (f"lowest(welfare_total_usd_bn) == {UC}", [1 / 3, 1 / 3]),
    # incidents: lower is better, so best is the fewest; highest is still the most
    (f"best(incidents) == {UC}", [1 / 3, 2 / 3]),
    (f"best(incidents) == {ML}", [1 / 3, 0.0]),
    (f"highest(incidents) == {OA}", [2 / 3, 1 / 3]),
    (f"worst(incidents) == {OA}", [2 / 3, 1 / 3]),
    # one nation's best
    (f"best(welfare[China]) == {UC}", [2 / 3, 2 / 3]),
]


@pytest.mark.parametrize(("condition", "expected"), CASES)
def test_each_construct_gives_the_hand_calculated_share(condition, expected):
    assert shares(condition) == pytest.approx(expected)


def test_a_point_holds_on_more_than_half_of_its_replicates():
    table = holds(hand_results(), f"welfare_total_usd_bn[{ML}] > welfare_total_usd_bn[{OA}]")
    assert list(table["holds"]) == [True, False]  # 2 of 3, 1 of 3
    assert list(table["replicates"]) == [3, 3]


def test_a_failed_run_leaves_its_replicate_unknown_and_half_does_not_hold():
    results = hand_results(drop=(UC, 0, 2))
    table = holds(results, f"welfare_total_usd_bn[{ML}] > welfare_total_usd_bn[{UC}]")
    # p0: r0 2 > 0, r1 1 > 5 false, r2 unknown: 1 of 2, which is not more than half
    assert list(table["replicates"]) == [2, 3]
    assert table["share"].iloc[0] == 0.5 and not table["holds"].iloc[0]
    # best over all scenarios is unknown where one of them has no run
    assert list(holds(results, f"best(welfare_total_usd_bn) == {ML}")["replicates"]) == [2, 3]


def test_unknown_follows_three_valued_logic():
    ratio = f"welfare_total_usd_bn[{UC}] / welfare_total_usd_bn[{OA}] > 1"  # p1: x / 0
    table = holds(hand_results(), ratio)
    assert list(table["replicates"]) == [3, 0] and np.isnan(table["share"].iloc[1])
    assert not table["holds"].iloc[1]
    # unknown or true is true; unknown and true is unknown; unknown and false is false
    assert holds(hand_results(), f"{ratio} or incidents[{UC}] == 0")["share"].iloc[1] == 1.0
    assert holds(hand_results(), f"{ratio} and incidents[{UC}] == 0")["replicates"].iloc[1] == 0
    table = holds(hand_results(), f"{ratio} and incidents[{OA}] == 0")
    assert table["replicates"].iloc[1] == 3 and table["share"].iloc[1] == 0.0


ERRORS = [
    ("welfare_totl_usd_bn[multilateral] > 0", ["unknown outcome", "column 1",
                                               "'welfare_total_usd_bn'"]),
    ("welfare_total_usd_bn[multilat] > 0", ["unknown scenario", "column 22", "'multilat'",
                                            "'multilateral'"]),
    ('welfare["Untied States"][open_access] > 0', ["unknown nation", '"Untied States"',
                                                  "'United States'"]),
    ('welfare[open_access]["United States"] > 0', ["'open_access'", "not a nation"]),
    ("welfare[multilateral] > 0", ["'welfare'", "NATION"]),
    ("investment_usd_bn[China][open_access] > 0", ["'investment_usd_bn'", "whole run"]),
    ("economics__synergy[open_access] > 0.1", ["economics.synergy", "design parameter"]),
    ("welfare_total_usd_bn > 1", ["'welfare_total_usd_bn'", "column 1", "[SCENARIO]"]),
    ("welfare_total_usd_bn[open_access]", ["number, not a condition"]),
    ("welfare_total_usd_bn[open_access] > ", ["at the end"]),
    ("welfare_total_usd_bn[open_access] = 1", ["column 35", "'=='"]),
    ("(welfare_total_usd_bn[open_access] > 1", ["at the end", "')'"]),
    ("welfare_total_usd_bn[open_access] > 1)", ["column 38", "closes no '('"]),
    ("1 < welfare_total_usd_bn[open_access] < 2", ["do not chain", "column 39"]),
    ("incidents[open_access] > 1 && incidents[multilateral] < 1", ["'and'", "column 28"]),
    ("incidents[open_access] > 1 AND incidents[multilateral] < 1", ["'AND'", "lower case"]),
    ("incidents[open_access] > 1 and 2", ["'and'", "number"]),
    ("incidents[open_access] + (1 > 0) > 2", ["'+'", "needs numbers"]),
    ("best(investment_usd_bn) == open_access", ["'investment_usd_bn'", "highest"]),
    ("best(welfare_total_usd_bn) > open_access", ["'>'", "== or !="]),
    ("best(welfare_total_usd_bn) == nowhere", ["unknown scenario", "'nowhere'"]),
    ("best(welfare_total_usd_bn[open_access]) == multilateral", ["'open_access'",
                                                                 "takes no scenario"]),
    ("best(welfare_total_usd_bn) == 3", ["'3'", "scenario name"]),
    ("__import__('os').system('true')", ["'__import__'", "column 1", "unknown function"]),
    ("incidents[open_access] > 1 or x.y", ["column 32", "'.'"]),
    ('"open_access > 1', ["column 1", "never closed"]),
    ("incidents[open_access] ≥ 1", ["'≥'", "'>='"]),
    ("", ["empty"]),
    ("(" * 60 + "1 > 0" + ")" * 60, ["nested"]),
]


@pytest.mark.parametrize(("condition", "fragments"), ERRORS)
def test_every_mistake_is_one_line_naming_the_culprit(condition, fragments):
    with pytest.raises(UserError) as caught:
        holds(hand_results(), condition)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("condition")
    for fragment in fragments:
        assert fragment in message, message


def test_nation_outcomes_other_than_welfare_are_read_from_the_nations_table():
    # "incidents" is both a run outcome and a nation outcome: two subscripts pick the nation's
    assert shares(f"incidents[China][{OA}] == 0") == [1.0, 1.0]
    assert shares(f"incidents[{OA}] == 0") == [0.0, 0.0]


def test_parse_checks_syntax_without_results_and_never_evaluates_python():
    assert parse(" best(incidents) == open_access ").text == "best(incidents) == open_access"
    for text in ["1 > 0 )", "import os", "lambda: 1", "x[a].y > 0", "x[a][b][c] > 0"]:
        with pytest.raises(UserError):
            parse(text)


# --- discovery's refusals ----------------------------------------------------------------------


def grid_results(points: int, welfare, parameters=True) -> SimpleNamespace:
    """``points`` design points, one replicate, two scenarios; open access has welfare 0 and
    multilateral ``welfare(synergy)``."""
    synergy = np.linspace(0.0, 1.0, points)
    runs = []
    for scenario in (OA, ML):
        for p, s in enumerate(synergy):
            runs.append({"run": len(runs), "scenario": scenario, "point": p, "seed": 1,
                         "replicate": 0, "economics__synergy": s,
                         "welfare_total_usd_bn": 0.0 if scenario == OA else welfare(s)})
    return SimpleNamespace(runs=pd.DataFrame(runs), nations=pd.DataFrame(),
                           parameters={"economics__synergy": "economics.synergy"} if parameters
                           else {}, scenarios=[OA, ML], folder="grid")


BETTER = f"welfare_total_usd_bn[{ML}] > welfare_total_usd_bn[{OA}]"


@pytest.mark.parametrize(("results", "fragment"), [
    (grid_results(20, lambda s: s - 0.5, parameters=False), "no sampled design"),
    (grid_results(6, lambda s: s - 0.5), "at least 10"),
    (grid_results(20, lambda s: 1.0), "holds at every one of the 20"),
    (grid_results(20, lambda s: -1.0), "holds at none of the 20"),
])
def test_discover_refuses_what_it_cannot_describe(results, fragment):
    with pytest.raises(UserError) as caught:
        discover(results, BETTER)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_discover_on_a_one_parameter_threshold_finds_it():
    found = discover(grid_results(41, lambda s: s - 0.62), BETTER)
    row = found.boxes.iloc[0]
    assert row["parameter"] == "economics.synergy" and row["restricted"]
    # the box's edge lies between the last point that fails (0.6) and the first that holds
    assert 0.6 < row["low"] <= 0.625 and row["high"] == 1.0
    assert row["coverage"] == 1.0 and row["density"] == 1.0
    assert found.cart_accuracy == 1.0 and "economics.synergy >  0.6" in found.cart


# --- PRIM on a planted box ---------------------------------------------------------------------


def planted(seed: int, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["a", "b", "c"])
    return x, ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()


@pytest.mark.parametrize("seed", [1, 2])
def test_prim_finds_a_planted_box(seed):
    x, y = planted(seed)
    found = discover_points(x, y, parameters={"a": "p.a", "b": "p.b", "c": "p.c"})
    box = found.boxes.set_index("parameter")
    assert set(box.index[box["restricted"]]) == {"p.a", "p.b"}  # c is left alone
    assert abs(box.at["p.a", "low"] - 0.6) < 0.03 and box.at["p.a", "high"] == x["a"].max()
    assert abs(box.at["p.b", "high"] - 0.3) < 0.03 and box.at["p.b", "low"] == x["b"].min()
    assert box.at["p.a", "significant"] and box.at["p.b", "significant"]
    assert (box.at["p.c", "low"], box.at["p.c", "high"]) == (x["c"].min(), x["c"].max())
    assert box["coverage"].iloc[0] > 0.9 and box["density"].iloc[0] > 0.95
    assert box["mass"].iloc[0] == pytest.approx(box["points"].iloc[0] / len(x))
    # the chosen box obeys the stated rule: the densest with coverage >= 0.5
    t = found.trajectory
    assert t["chosen"].sum() == 1
    eligible = t[t["coverage"] >= 0.5]
    assert t.loc[t["chosen"], "density"].item() == eligible["density"].max()
    assert found.cart_accuracy > 0.97 and "p.a" in found.cart and "p.b" in found.cart


def test_threshold_picks_the_highest_coverage_box_that_is_dense_enough():
    x, y = planted(3)
    found = discover_points(x, y, threshold=0.8)
    t = found.trajectory
    chosen = t[t["chosen"]].iloc[0]
    assert chosen["density"] >= 0.8
    assert chosen["coverage"] == t.loc[t["density"] >= 0.8, "coverage"].max()
    assert found.boxes["density"].iloc[0] == chosen["density"]
    with pytest.raises(UserError, match="no PRIM box reaches density"):
        discover_points(x, np.where(np.arange(len(y)) % 2 == 0, y, ~y), threshold=0.99)


def test_a_second_box_finds_a_second_region():
    # two corners; the smaller holds 4 % of the points, so mass_min must let a box be that small
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(size=(1500, 3)), columns=["a", "b", "c"])
    y = (((x["a"] > 0.5) & (x["b"] > 0.5)) | ((x["a"] < 0.2) & (x["b"] < 0.2))).to_numpy()
    found = discover_points(x, y, max_boxes=2, threshold=0.8, mass_min=0.02)
    boxes = found.boxes.set_index(["box", "parameter"])
    assert sorted(found.boxes["box"].unique()) == [1, 2]
    assert boxes.at[(1, "a"), "low"] > 0.45 and boxes.at[(1, "b"), "low"] > 0.45
    assert boxes.at[(2, "a"), "high"] < 0.25 and boxes.at[(2, "b"), "high"] < 0.25
    assert not boxes.at[(1, "c"), "restricted"] and not boxes.at[(2, "c"), "restricted"]
    covered = found.boxes.groupby("box")["coverage"].first()
    # coverage is a share of all the cases: the big corner holds about 0.25 / 0.29 of them
    assert 0.7 < covered[1] < 0.9 and 0.05 < covered[2] < 0.2 and covered.sum() > 0.9


def test_a_pattern_that_no_single_peel_improves_gives_no_box_and_says_so():
    # (a > 0.5) xor (b > 0.5) on a regular grid: every strip PRIM could peel off holds exactly
    # as often as the rest, so it restricts nothing; the tree still splits on a and b
    grid = np.linspace(0.025, 0.975, 20)
    a, b = (v.ravel() for v in np.meshgrid(grid, grid))
    x = pd.DataFrame({"a": a, "b": b})
    found = discover_points(x, (a > 0.5) != (b > 0.5), condition="xor")
    assert found.boxes.empty and any("PRIM found no box" in note for note in found.notes)
    assert "no box" in found.summary() and found.cart_accuracy > 0.9  # guessing: 0.5
    figure = discovery_figure(found)
    assert "PRIM found no box" in figure._suptitle.get_text()
    import matplotlib.pyplot as plt

    plt.close(figure)


# --- a tiny real experiment --------------------------------------------------------------------

EXPERIMENT = """
name = "disc"
scenarios = ["open_access", "us_china_cooperation"]
replicates = 2
master_seed = 1
horizon_years = 2.0

[sample]
method = "lhs"
points = 16
ranges = { "economics.synergy" = [0.0, 0.4], "economics.race_advantage" = [0.0, 3.0] }
"""


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    from sim.analysis import Results
    from sim.experiment import run_experiment

    tmp = tmp_path_factory.mktemp("discover")
    (tmp / "disc.toml").write_text(EXPERIMENT)
    run_experiment(tmp / "disc.toml", backend="serial", out=tmp / "out", series="none")
    return Results(tmp / "out")


def test_end_to_end_on_a_tiny_experiment(experiment):
    runs = experiment.runs
    # a threshold at the median of the per-point mean, so that it holds at about half the points
    uc = runs[runs["scenario"] == UC].groupby("point")["welfare_total_usd_bn"]
    level = float(uc.median().median())
    condition = f"welfare_total_usd_bn[us_china_cooperation] - 0 > {level!r}"
    table = holds(experiment, condition)
    assert len(table) == 16 and {"economics__synergy", "economics__race_advantage"} <= set(table)
    # the same answer from pandas directly: replicate by replicate, then more than half
    direct = (runs[runs["scenario"] == UC].assign(ok=lambda r: r["welfare_total_usd_bn"] > level)
              .groupby("point")["ok"].mean())
    assert list(table["share"]) == pytest.approx(list(direct))
    assert list(table["holds"]) == list(direct > 0.5)

    found = discover(experiment, condition)
    assert isinstance(found, Discovery)
    assert set(found.boxes["parameter"]) == {"economics.synergy", "economics.race_advantage"}
    for column in ("coverage", "density", "mass"):
        assert found.boxes[column].between(0, 1).all()
    assert found.boxes["restricted"].any()
    restricted = found.boxes[found.boxes["restricted"]]
    assert (restricted["low"] >= restricted["range_low"]).all()
    assert (restricted["high"] <= restricted["range_high"]).all()
    assert 0 <= found.cart_accuracy <= 1 and "economics." in found.cart
    assert "economics." in found.summary() and "qp: the quasi-p-value" in found.summary()

    figure = discovery_figure(found)
    labels = " ".join(t.get_text() for ax in figure.axes
                      for t in [*ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label])
    for path in restricted["parameter"]:
        assert path in labels
    assert "coverage" in figure._suptitle.get_text() and "density" in figure._suptitle.get_text()
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_figure_shows_the_box_over_the_design_points_when_two_parameters_are_restricted():
    x, y = planted(5, n=300)
    found = discover_points(x, y, parameters={"a": "economics.synergy",
                                              "b": "economics.race_advantage", "c": "p.c"})
    figure = discovery_figure(found)
    bars, scatter = figure.axes
    # the dotted paths, with their units from sim/scenario/calibration.toml
    assert {scatter.get_xlabel(), scatter.get_ylabel()} == {
        "economics.synergy, share of output", "economics.race_advantage, priority weight"}
    assert len(scatter.patches) == 1  # the box
    ticks = [t.get_text() for t in bars.get_yticklabels()]
    assert any(t.startswith("economics.synergy\n") and "unit: share of output" in t
               for t in ticks)
    import matplotlib.pyplot as plt

    plt.close(figure)


# --- the command line ---------------------------------------------------------------------------

def test_explore_discover_writes_the_boxes_tree_and_figure(experiment):
    from typer.testing import CliRunner

    from sim.cli import app

    runs = experiment.runs  # a level that about half the design points reach
    level = float(runs[runs["scenario"] == UC]["welfare_total_usd_bn"].median())
    condition = f"welfare_total_usd_bn[us_china_cooperation] > {level!r}"
    folder = experiment.folder
    result = CliRunner().invoke(app, ["explore", "discover", str(folder), "--where", condition])
    assert result.exit_code == 0, result.output
    assert condition in result.stdout and "CART" in result.stdout
    boxes = pd.read_csv(folder / "discovery.csv")
    assert set(boxes["parameter"]) == {"economics.synergy", "economics.race_advantage"}
    assert "CART tree" in (folder / "discovery.txt").read_text()
    assert (folder / "figures" / "discovery.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("args, expected", [
    (["--where", "best(welfare_total_usd_bn) == atlantis"], "atlantis"),
    (["--where", "welfare_total_usd_bn[open_access] >"], "--where"),
    # flat chains within the length limit: each term one more level of the tree to walk
    (["--where", "+".join(["1"] * 990) + " > 0"], "more than 200 operations"),
    (["--where", "*".join(["1"] * 990) + " > 0"], "more than 200 operations"),
    (["--where", " and ".join(["1>0"] * 200)], "more than 200 operations"),
])
def test_explore_discover_refuses_mistakes_in_one_line(experiment, args, expected):
    from typer.testing import CliRunner

    from sim.cli import app

    before = sorted(p.name for p in experiment.folder.iterdir())
    result = CliRunner().invoke(app, ["explore", "discover", str(experiment.folder), *args])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0], result.stderr
    assert sorted(p.name for p in experiment.folder.iterdir()) == before


def test_the_longest_condition_allowed_evaluates():
    """200 operations, the most a condition may hold, in the deepest tree they make: a flat
    chain, which the evaluator walks one level per term."""
    chain = "+".join(["1"] * 200) + " > 198"  # 199 additions and a comparison
    assert shares(chain) == [1.0, 1.0]  # 200 > 198
    with pytest.raises(UserError, match="more than 200 operations"):
        parse("+".join(["1"] * 201) + " > 198")  # 201 operations


def test_explore_discover_needs_results(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sim.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["explore", "discover", "regimes_lhs", "--where",
                                      "best(incidents) == multilateral"])
    assert result.exit_code == 2 and "results/regimes_lhs: not a results folder" in result.stderr


def test_the_help_shows_its_example_condition_as_typed():
    """Rich reads [..] as markup: the example's brackets once vanished from the help, leaving
    "welfare[China] > welfare[China]", a value compared with itself."""
    from typer.testing import CliRunner

    from sim.cli import app

    shown = CliRunner().invoke(app, ["explore", "discover", "--help"],
                               env={"COLUMNS": "200"}).output  # no line cut short
    flat = "".join(ch for ch in shown if ch not in " \n│╭╮╰╯─")
    assert "welfare[China][us_china_cooperation]>welfare[China][open_access]" in flat
