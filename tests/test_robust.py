"""Robust decision making (``lunarsim explore robust``): the metrics against a table worked by
hand, ranks that do not separate what the numbers do not, words that follow the numbers, and a
small study of the model run end to end."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.base.errors import UserError
from sim.cli import app
from sim.explore import rdm, robust, vulnerabilities
from sim.scenario import calibration

runner = CliRunner()

# three worlds, three policies (higher is better); worked by hand in the comments
HAND = pd.DataFrame({"A": [1.0, 4.0, 2.0], "B": [3.0, 0.0, 2.0], "C": [2.0, 3.0, 5.0]},
                    index=pd.Index([0, 1, 2], name="point"))


def test_metrics_match_a_table_worked_by_hand():
    m = robust.robustness(HAND, higher_is_better=True, threshold=HAND["A"])
    # best in each world: 3, 4, 5. Regret: A 2, 0, 3; B 0, 4, 3; C 1, 1, 0
    assert m["regret_max"].to_dict() == {"A": 3.0, "B": 4.0, "C": 1.0}
    assert m["regret_mean"].to_numpy() == pytest.approx([5 / 3, 7 / 3, 2 / 3])
    # 90th percentile, linear between order statistics: position 0.9 x 2 = 1.8
    assert m["regret_p90"].to_numpy() == pytest.approx([2.8, 3.8, 1.0])
    # 10th percentile of the values: position 0.2; A 1, 2, 4 -> 1.2; B 0, 2, 3 -> 0.4
    assert m["p10"].to_numpy() == pytest.approx([1.2, 0.4, 2.2])
    assert m["mean"].to_numpy() == pytest.approx([7 / 3, 5 / 3, 10 / 3])
    # no worse than A in the same world: B in worlds 0 and 2, C in 0 and 2
    assert m["satisficing"].to_numpy() == pytest.approx([1.0, 2 / 3, 2 / 3])
    # an absolute threshold of 2: A meets it in 2 worlds, B in 2, C in 3
    absolute = robust.robustness(HAND, higher_is_better=True, threshold=2.0)
    assert absolute["satisficing"].to_numpy() == pytest.approx([2 / 3, 2 / 3, 1.0])
    assert robust.robustness(HAND, True)["satisficing"].isna().all()
    # within a tolerance of 1 of A: C's shortfall of 1 in world 1 is no shortfall; B's of 4 is.
    # Gains pass A by more than 1: B in world 0 (3 > 2), C in world 2 (5 > 3)
    loose = robust.robustness(HAND, higher_is_better=True, threshold=HAND["A"], tolerance=1.0)
    assert loose["satisficing"].to_numpy() == pytest.approx([1.0, 2 / 3, 1.0])
    assert loose["gains"].to_numpy() == pytest.approx([0.0, 1 / 3, 1 / 3])


def test_a_measure_where_lower_is_better_is_the_mirror_image():
    up = robust.robustness(HAND, higher_is_better=True, threshold=2.0)
    down = robust.robustness(-HAND, higher_is_better=False, threshold=-2.0)
    for metric in ("regret_max", "regret_p90", "regret_mean", "satisficing", "gains", "std"):
        assert down[metric].to_numpy() == pytest.approx(up[metric].to_numpy()), metric
    # the tail that matters is the upper one: the 90th percentile of the values
    assert down["p10"].to_numpy() == pytest.approx(-up["p10"].to_numpy())
    assert down["p10"]["A"] == pytest.approx(np.percentile(-HAND["A"], 90))


def test_an_incomplete_world_is_refused():
    gap = HAND.copy()
    gap.iloc[1, 2] = np.nan
    with pytest.raises(ValueError, match="every policy's value in every world"):
        robust.robustness(gap, True)


def test_ranks_do_not_separate_policies_closer_than_negligible():
    metrics = pd.DataFrame({"mean": [1.0, 1.05, 2.0], "p10": [0.0, 0.5, 0.2],
                            "regret_max": [3.0, 4.0, 1.0], "regret_p90": [1.0, 1.0, 1.0],
                            "satisficing": [np.nan, 0.5, 0.5]}, index=list("ABC"))
    ranks = robust.rank(metrics, higher_is_better=True, negligible=0.1)
    assert ranks["mean"].to_dict() == {"A": 2.0, "B": 2.0, "C": 1.0}  # A, B within 0.1
    assert ranks["p10"].to_dict() == {"A": 3.0, "B": 1.0, "C": 2.0}
    assert ranks["regret_max"].to_dict() == {"A": 2.0, "B": 3.0, "C": 1.0}  # lower is better
    assert (ranks["regret_p90"] == 1).all()
    assert np.isnan(ranks["satisficing"]["A"]) and (ranks["satisficing"][["B", "C"]] == 1).all()
    # where lower is better, the mean and percentile ranks turn over; regret's do not
    down = robust.rank(metrics, higher_is_better=False, negligible=0.1)
    assert down["mean"].to_dict() == {"A": 1.0, "B": 1.0, "C": 3.0}
    assert down["regret_max"].equals(ranks["regret_max"])


def _long(values: pd.DataFrame, label: str = "China") -> pd.DataFrame:
    measure = robust.Measure("welfare[1]", label, "USD bn", True, True, 0.1)
    metrics = robust.robustness(values, True, values["A"])
    metrics.loc["A", "satisficing"] = np.nan
    long = robust._long(metrics, measure, "A")
    long.insert(0, "worlds", len(values))
    return long


LABELS = SimpleNamespace(label=lambda p: {"A": "Open access", "B": "Treaty",
                                          "C": "Cooperation"}[p])


def test_the_words_follow_the_numbers():
    # C is best in every world by far: first under every metric
    dominant = HAND.assign(C=HAND.max(axis=1) + 10.0)
    said = robust.words(_long(dominant), LABELS)
    assert said == ["China: Cooperation first under every metric, over 3 worlds."]
    # the hand-worked table: C has the best mean, percentile and regret, but ties B on
    # satisficing (2 of 3 worlds each)
    said = robust.words(_long(HAND), LABELS)[0]
    assert said.startswith("China: the metrics disagree over 3 worlds.")
    assert "by satisficing: Treaty and Cooperation alike" in said
    assert "by mean, 10th percentile, maximum regret and 90th-percentile regret: Cooperation" in said
    # B better everywhere than A and C: the words change with the numbers
    said = robust.words(_long(HAND.assign(B=HAND.max(axis=1) + 1.0)), LABELS)
    assert said == ["China: Treaty first under every metric, over 3 worlds."]


def test_thresholds_are_read_as_actor_equals_a_finite_number():
    assert rdm.parse_thresholds(["United States=-2.5", "the world = 3"]) == {
        "United States": -2.5, "the world": 3.0}
    assert rdm.parse_thresholds(["a=b=1"]) == {"a=b": 1.0}  # the last = splits
    for bad in ("China", "=1", "China=", "China=nan", "China=inf", "China=ten"):
        with pytest.raises(UserError, match="expected ACTOR=NUMBER"):
            rdm.parse_thresholds([bad])


# --- a study of the model ----------------------------------------------------------------------

TINY = """
name = "tiny"
scenarios = ["open_access", "multilateral", "us_china_cooperation"]
reference = "open_access"
replicates = 3
master_seed = 11
horizon_years = 1.0
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> rdm.Study:
    tmp = tmp_path_factory.mktemp("robust")
    (tmp / "tiny.toml").write_text(TINY)
    return rdm.run_study(tmp / "tiny.toml", worlds=5, seeds=2, out=tmp / "out",
                            backend="serial")


def test_every_policy_meets_every_world_on_the_same_seeds(study):
    runs = study.results.runs
    assert runs["point"].nunique() == 5 and len(runs) == 5 * 2 * 3
    # paired: each world runs every policy on the same two seeds, the experiment's first two
    seeds = runs.groupby(["point", "scenario"])["seed"].apply(lambda s: tuple(sorted(s)))
    assert seeds.nunique() == 1 and len(seeds.iloc[0]) == 2
    # the levers are not sampled: no regime parameter is among the uncertainties
    sampled = {p.name for p in robust.uncertainties()}
    assert sampled and not any(name.startswith("regime.") for name in sampled)
    assert {p.name for p in calibration.ranged()} - sampled == {
        p.name for p in calibration.ranged() if p.kind == "regime"}


def test_a_study_of_the_model_obeys_the_definitions(study):
    long = study.table
    table, measures = robust.performance(study.results)
    assert len(table) == 5 and not table.isna().any().any()
    labels = [m.label for m in measures]
    assert labels[:2] == ["United States", "China"] and robust.WORLD in labels
    for measure in measures:  # in every world the best policy has no regret
        values = table[measure.key].to_numpy()
        good = values if measure.higher_is_better else -values
        regret = good.max(axis=1, keepdims=True) - good
        assert (regret.min(axis=1) == 0).all()
        rows = long[long["measure"] == measure.key].pivot(index="policy", columns="metric",
                                                         values="value")
        assert rows.loc[:, "regret_max"].to_numpy() == pytest.approx(
            regret.max(axis=0)[[list(table[measure.key].columns).index(p) for p in rows.index]])
    # the table says, per measure, whether every ranked metric puts the same policies first
    for label, rows in long.groupby("label"):
        firsts = rows[rows["metric"].isin(list(robust.METRICS)) & (rows["rank"] == 1)]
        same = firsts.groupby("metric")["policy"].apply(frozenset).nunique() == 1
        assert (rows["metrics_agree"] == same).all(), label
    # every actor at once, strictly: never more worlds than any one actor meets its own in
    every = long[(long["label"] == robust.EVERY) & (long["metric"] == "satisficing")]
    each = long[long["label"].isin([m.label for m in measures if m.actor and m.label !=
                                    robust.WORLD]) & (long["metric"] == "satisficing")]
    lowest = each.groupby("policy")["value"].min()
    for row in every.dropna(subset=["value"]).itertuples():
        assert row.value <= lowest[row.policy] + 1e-12
    # the reference is the yardstick of the default thresholds: not ranked on satisficing
    sat = long[(long["metric"] == "satisficing") & (long["policy"] == "open_access")]
    assert sat["value"].isna().all() and sat["rank"].isna().all()
    # the world's welfare is the sum of every nation's
    nations = study.results.nations.groupby("run")["welfare_usd_bn"].sum()
    runs = study.results.runs.set_index("run")["welfare_total_usd_bn"]
    assert np.allclose(nations.loc[runs.index], runs)
    for name in rdm.FILES:
        assert (study.folder / name).is_file(), name
    assert pd.read_csv(study.folder / "robust.csv").shape == long.shape


def test_an_absolute_threshold_ranks_the_reference_too(study):
    long = robust.analyse(study.results, {"China": -1e9})  # met in every world by everyone
    sat = long[(long["label"] == "China") & (long["metric"] == "satisficing")]
    assert (sat["value"] == 1.0).all() and (sat["rank"] == 1).all()
    with pytest.raises(UserError, match="--threshold: 'Mars' is not an actor"):
        robust.analyse(study.results, {"Mars": 0.0})


def test_the_command_line_refuses_mistakes_before_any_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("tiny.toml").write_text(TINY)
    for args, expected in [
        (["--threshold", "Mars=1"], "--threshold: 'Mars' is not an actor of tiny.toml"),
        (["--threshold", "China"], "--threshold 'China': expected ACTOR=NUMBER"),
        (["--backend", "cloud"], "--backend: unknown backend 'cloud'"),
        (["--worlds", "1"], "--worlds"),
    ]:
        result = runner.invoke(app, ["explore", "robust", "tiny.toml", *args])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and (len(lines) == 1 or args[0] == "--worlds")
    assert not Path("results").exists()


def test_the_command_shows_the_rankings_and_resumes_without_running_again(study, monkeypatch):
    monkeypatch.chdir(study.folder.parent)
    result = runner.invoke(app, ["explore", "robust", "tiny.toml", "--worlds", "5", "--seeds",
                                 "2", "--out", "out", "--backend", "serial", "--resume"])
    assert result.exit_code == 0, result.output
    assert "30 of 30 runs done (0 this time)" in result.output
    for label in ("United States", "China", "the world", "every actor", "max regret"):
        assert label in result.output


def test_the_strategy_sets_share_the_worlds_equally_and_act_on_every_nation(tmp_path):
    from sim.experiment import load_experiment
    from sim.scenario import rules

    (tmp_path / "tiny.toml").write_text(TINY)
    base = load_experiment(tmp_path / "tiny.toml")
    plan = robust.design(base, worlds=10, seed=4)
    codes = [point[rules.PARAMETER] for point in plan.spec.design]
    # a Latin hypercube has one point in each tenth of the rules' axis: two worlds per set
    assert sorted(codes) == [float(k) for k in range(5) for _ in range(2)]
    assert rules.PARAMETER not in robust.design(base, 10, sample_rules=False).spec.design[0]
    for code, name in enumerate(rules.CODES):
        scenario = base.scenario("open_access", {rules.PARAMETER: float(code)})
        own = base.scenario("open_access", {})
        played = {n.name: n.strategy.name for n in scenario.nations}
        if name == "own":
            assert played == {n.name: n.strategy.name for n in own.nations}
        elif name in ("forward_looking", "myopic"):
            assert set(played.values()) == {"forward_looking"}
            patience = {n.strategy.params.discount_per_year for n in scenario.nations}
            assert (patience == {0.0}) == (name == "myopic")
        elif name == "tit_for_tat":
            assert set(played.values()) == {"tit_for_tat"}
        else:  # unlinked: their own rules, none linking the arenas
            assert played == {n.name: n.strategy.name for n in own.nations}
            assert not any(getattr(n.strategy, "linked", False) for n in scenario.nations)
            assert any(getattr(n.strategy, "linked", False) for n in own.nations)
    for bad in (5.0, 1.5, -1.0):
        with pytest.raises(UserError, match="rules.strategy_set: expected a whole number from 0 "
                                            "to 4"):
            base.scenario("open_access", {rules.PARAMETER: bad})


def test_screening_finds_the_uncertainty_that_makes_a_policy_fail():
    from sim.scenario import rules

    rng = np.random.default_rng(8)
    n = 400
    x = pd.DataFrame({"a": rng.random(n), "b": rng.random(n), "c": rng.random(n),
                      "rules": rng.integers(0, 5, n).astype(float)})
    columns = {"a": "economics.synergy", "b": "economics.interference", "c": "market.magnet_share",
               "rules": rules.PARAMETER}
    assert vulnerabilities.screen(x, (x["a"] > 0.8).to_numpy(), columns) == {"a": "economics.synergy"}
    assert vulnerabilities.screen(x, (x["rules"] == 3).to_numpy(), columns) == {"rules": rules.PARAMETER}
    both = ((x["b"] < 0.3) & (x["rules"] >= 3)).to_numpy()
    assert set(vulnerabilities.screen(x, both, columns)) == {"b", "rules"}
    # failures by chance alone: nothing tells them apart
    assert vulnerabilities.screen(x, rng.random(n) < 0.1, columns) == {}
    row = SimpleNamespace(parameter=rules.PARAMETER, low=2.0, high=3.0, range_low=0.0,
                          range_high=4.0)
    assert vulnerabilities._box_words(row, "") == "the rules are all tit for tat or all myopic"
    row = SimpleNamespace(parameter="economics.synergy", low=0.3, high=0.4, range_low=0.0,
                          range_high=0.4)
    assert vulnerabilities._box_words(row, "synergy") == "synergy is above 0.3"


def test_the_brief_is_written_from_a_study_and_refused_elsewhere(study, tmp_path):
    result = runner.invoke(app, ["brief", str(study.folder)])
    assert result.exit_code == 0, result.output
    text = (study.folder / "brief.md").read_text()
    page = (study.folder / "brief.html").read_text()
    worlds = int(study.table["worlds"].iloc[0])
    assert f"in the same {worlds} sampled worlds" in text and "two seeds" not in text
    assert "2 seeds in each" in text and "**United States.**" in text
    assert "<strong>United States.</strong>" in page and "`" not in page
    assert str(tmp_path.parent) not in text  # no machine path (the study is under tmp)
    # a results folder that holds no study: one line, exit 2, nothing written
    from sim.experiment import load_experiment, run_experiment

    (tmp_path / "tiny.toml").write_text(TINY.replace("replicates = 3", "replicates = 1"))
    run_experiment(load_experiment(tmp_path / "tiny.toml"), backend="serial",
                   out=tmp_path / "plain", series="none")
    result = runner.invoke(app, ["brief", str(tmp_path / "plain")])
    assert result.exit_code == 2 and "not a finished robust decision study" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "plain" / "brief.md").exists()
