"""The report's "How sure are we?": the main job's cheap design over every parameter's range,
counted correctly and put into words that follow the numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis import Results
from sim.cli import app
from sim.experiment import load_experiment, run_experiment
from sim.explore import robustness
from sim.scenario import calibration

runner = CliRunner()
TINY = """
name = "tiny"
scenarios = ["open_access", "multilateral", "us_china_cooperation"]
reference = "open_access"
replicates = 2
master_seed = 5
horizon_years = 1.0
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Results:
    tmp = tmp_path_factory.mktemp("robustness")
    (tmp / "tiny.toml").write_text(TINY)
    plan = robustness.design(load_experiment(tmp / "tiny.toml"), points=6)
    run_experiment(plan, backend="serial", out=tmp / "tiny-robustness", series="none")
    return Results(tmp / "tiny-robustness")


def test_the_design_spans_every_ranged_parameter_on_one_seed(study):
    runs = study.runs
    assert runs["seed"].nunique() == 1 and runs["point"].nunique() == 6
    assert set(study.parameters.values()) == {p.name for p in calibration.ranged()}
    for column, name in study.parameters.items():  # a Latin hypercube: each sixth of each range
        low, high = calibration.get(name).range
        assert runs[column].between(low, high).all()


def test_the_counts_are_those_of_the_paired_runs(study):
    counts = robustness.summarise(study, "open_access").set_index("scenario")
    runs = study.runs.set_index(["point", "scenario"])["welfare_total_usd_bn"].unstack()
    beats = (runs["us_china_cooperation"] > runs["open_access"]).sum()
    assert counts.loc["us_china_cooperation", "beats_reference: welfare_total_usd_bn"] == beats
    tops = [tuple(row.index[row == row.max()]) for _, row in runs.iterrows()]  # per point
    for scenario in runs.columns:  # alone at the top, or sharing it (equal totals)
        assert counts.loc[scenario, "best"] == sum(t == (scenario,) for t in tops)
        assert counts.loc[scenario, "shares_best"] == sum(scenario in t and len(t) > 1
                                                          for t in tops)
    level = (runs["multilateral"] == runs["open_access"]).sum()
    assert counts.loc["multilateral", "level_with_reference: welfare_total_usd_bn"] == level
    us = study.nations[study.nations["nation"] == "United States"].pivot(
        index="point", columns="scenario", values="welfare_usd_bn")
    assert counts.loc["multilateral", "beats_reference: United States"] == (
        us["multilateral"] > us["open_access"]).sum()


def test_with_several_seeds_a_point_counts_the_means_of_its_paired_runs():
    """Each point's numbers are the means over the seeds every scenario ran there: a scenario
    that wins on one seed and loses more on the other does not beat the reference at that
    point, and a seed one scenario lacks is left out for both."""
    from types import SimpleNamespace

    nan = float("nan")
    totals = {  # (point, seed): (reference, A)
        (0, 0): (0.0, 10.0), (0, 1): (0.0, -30.0),  # A wins one seed, loses on the mean
        (1, 0): (10.0, 5.0), (1, 1): (-100.0, nan),  # A's run at seed 1 failed
        (2, 0): (1.0, 2.0), (2, 1): (1.0, 2.0),
        (3, 0): (1.0, 1.0 + 1e-13), (3, 1): (1.0, 1.0 + 1e-13)}  # level (rounding apart)
    runs, nations = [], []
    for (point, seed), pair in totals.items():
        for scenario, total in zip(("ref", "A"), pair, strict=True):
            if total == total:  # (a failed run has no row)
                run = len(runs)
                runs.append({"run": run, "scenario": scenario, "point": point, "replicate": seed,
                             "seed": 100 + seed, "welfare_total_usd_bn": total})
                nations += [{"run": run, "nation": "China", "welfare_usd_bn": -total},
                            {"run": run, "nation": "India", "welfare_usd_bn": 1.0}]
    results = SimpleNamespace(runs=pd.DataFrame(runs), nations=pd.DataFrame(nations),
                              scenarios=["ref", "A"])
    counts = robustness.summarise(results, "ref").set_index("scenario")
    assert (counts["points"] == 4).all()
    assert counts.loc["A", "beats_reference: welfare_total_usd_bn"] == 1  # point 2 only
    assert counts.loc["A", "level_with_reference: welfare_total_usd_bn"] == 1  # point 3
    # China's welfare is minus the total here: A beats the reference at point 0 (+10 against
    # 0) and at point 1 on the seed both ran (-5 against -10; with the reference's other seed,
    # +45, it would not), not at point 2 nor 3
    assert counts.loc["A", "beats_reference: China"] == 2
    assert counts.loc["ref", "best"] == 2 and counts.loc["A", "best"] == 1
    assert counts.loc["ref", "shares_best"] == counts.loc["A", "shares_best"] == 1  # point 3
    assert robustness.seeds_of(results) == 2
    assert robustness.each_point(2) == "the mean of 2 seeds each"


def test_the_words_follow_the_numbers(study):
    counts = pd.DataFrame([
        {"scenario": "open_access", "points": 10, "best": 1},
        {"scenario": "multilateral", "points": 10, "best": 9,
         "beats_reference: welfare_total_usd_bn": 8, "beats_reference: China": 10}])
    clear = robustness.sentences(counts, study, "open_access", {"multilateral": (0.5, 1.5)})
    assert clear[0].startswith("Multilateral beats Open access in total welfare at the defaults, "
                               "and at 8 of 10 sampled points")
    assert "China at 10" in clear[0] and "Multilateral at 9 of 10" in clear[-1]
    worse = robustness.sentences(counts, study, "open_access", {"multilateral": (-1.5, -0.5)})
    assert "falls short of Open access" in worse[0] and "at 2 of 10" in worse[0]
    unclear = robustness.sentences(counts, study, "open_access", {"multilateral": (-0.5, 0.5)})
    assert "not clearly better or worse" in unclear[0] and "better at 8 of 10" in unclear[0]


def test_ties_are_neither_wins_nor_losses_nor_a_best(study):
    """Where nothing is built at the pole several scenarios give the same totals: a tie with
    the reference is neither a win nor a shortfall, and a shared best is no one's best."""
    counts = pd.DataFrame([
        {"scenario": "open_access", "points": 10, "best": 0, "shares_best": 4},
        {"scenario": "multilateral", "points": 10, "best": 6, "shares_best": 4,
         "beats_reference: welfare_total_usd_bn": 5,
         "level_with_reference: welfare_total_usd_bn": 4, "beats_reference: China": 3,
         "level_with_reference: China": 4}])
    worse = robustness.sentences(counts, study, "open_access", {"multilateral": (-1.5, -0.5)},
                                 idle=3)
    assert worse[0] == ("Multilateral falls short of Open access in total welfare at the "
                        "defaults, and at 1 of 10 sampled points, level with it at 4 (better off "
                        "than under Open access: China at 3, level at 4).")
    assert worse[1] == ("The best scenario at a sampled point is Multilateral at 6 of 10 "
                        "points; at 4 of them two or more scenarios share the best.")
    assert worse[2].startswith("At 3 of the 10 points no nation builds a plant")
    alone = robustness.sentences(counts.assign(shares_best=0, best=[4, 6]), study,
                                 "open_access", {"multilateral": (0.5, 1.5)})
    assert "and at 5 of 10 sampled points, level with it at 4 (" in alone[0]
    assert alone[1].endswith("Multilateral at 6 of 10 points; Open access at 4.")
    assert len(alone) == 2  # no idle points, nothing said of them
    none = robustness.sentences(counts.assign(best=0), study, "open_access", {})
    assert none[-1] == ("No scenario is alone the best at any sampled point: at all 10 two or "
                        "more scenarios share the best.")
    one = counts.assign(points=1, best=0, shares_best=1, **{
        "beats_reference: welfare_total_usd_bn": [None, 0],
        "level_with_reference: welfare_total_usd_bn": [None, 1]})
    said = robustness.sentences(one, study, "open_access", {"multilateral": (0.0, 0.0)}, idle=1)
    assert said[0].startswith("Multilateral is level with Open access in total welfare at the "
                              "defaults; it is better at 0 of 1 sampled points, level with it at 1")
    assert said[1].endswith("at its one point two or more scenarios share the best.")
    assert said[2].startswith("At the one sampled point no nation builds a plant")
    every = robustness.sentences(counts, study, "open_access", {}, idle=10)
    assert every[-1].startswith("At every sampled point (all 10) no nation builds a plant")
    shown = robustness._counts_table(counts, study, "open_access")
    assert list(shown.columns) == [
        "scenario", "better than Open access: total welfare", "better than Open access: China",
        "level with Open access: total welfare", "best of all", "shares the best"]
    assert shown.iloc[1].tolist() == ["Multilateral", "5 of 10", "3 of 10", "4 of 10",
                                      "6 of 10", "4 of 10"]


def test_a_point_is_idle_where_no_run_builds_or_produces_anything():
    from types import SimpleNamespace

    runs = pd.DataFrame({"point": [0, 0, 1, 1, 2, 2], "investment_usd_bn": [0, 0, 0, 1.0, 0, 0],
                         "gross_output_usd_bn": [0, 0, 0, 0, 0, -0.5]})
    assert robustness.idle_points(SimpleNamespace(runs=runs)) == 1  # point 0 only


def test_the_parameter_that_tells_idle_points_apart_is_named_with_its_medians():
    from types import SimpleNamespace

    cost = [1e3 * k for k in range(1, 9)] + [5e4 + 1e4 * k for k in range(8)]  # last 8 idle
    value = [600.0, 100.0, 900.0, 300.0, 500.0, 800.0, 200.0, 700.0] * 2  # tells nothing
    runs = pd.DataFrame({"point": range(16), "economics__capacity_cost_usd_per_t_yr": cost,
                         "economics__propellant_value_usd_per_kg": value,
                         "investment_usd_bn": [1.0] * 8 + [0.0] * 8, "gross_output_usd_bn": 0.0})
    names = {c: c.replace("__", ".") for c in runs.columns if "__" in c}
    said = robustness.idle_driver(SimpleNamespace(runs=runs, parameters=names))
    assert said == ("What tells those points from the others best is the cost of new extraction "
                    "capacity: the median is 85,000 there and 4,500 at the other points (USD per "
                    "t/yr of regolith throughput, default 20,000); of all pairs of an idle and an "
                    "active point, the idle one has the higher value in 100 % (Mann-Whitney p = "
                    "0.0002, one of 2 parameters tried).")
    few = runs.iloc[4:12]  # four idle, four not, apart as clearly: too few points to tell
    assert robustness.idle_driver(SimpleNamespace(runs=few, parameters=names)) == ""
    weak = runs.assign(economics__capacity_cost_usd_per_t_yr=value[::-1])  # neither tells
    assert robustness.idle_driver(SimpleNamespace(runs=weak, parameters=names)) == ""
    busy = runs.assign(investment_usd_bn=1.0)  # no idle point
    assert robustness.idle_driver(SimpleNamespace(runs=busy, parameters=names)) == ""
    gaps = runs.assign(economics__propellant_value_usd_per_kg=float("nan"))  # (no values)
    assert robustness.idle_driver(SimpleNamespace(runs=gaps, parameters=names)).endswith(
        "(Mann-Whitney p = 0.0002, the only parameter tried).")


def test_a_study_with_failed_runs_is_read_and_says_so(study, tmp_path):
    import json
    import shutil

    copy = tmp_path / "copy-robustness"
    shutil.copytree(study.folder, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    model = manifest["model_sha256"]
    for status, read in (("complete with failures", True), ("interrupted", False),
                         ("running", False)):
        (copy / "manifest.json").write_text(json.dumps(manifest | {"status": status}))
        assert (robustness.finished(copy, model, failures_ok=True) is not None) == read
        assert robustness.finished(copy, model) is None or status == "complete"
    assert robustness._failed_words({"runs_failed": 0}, 64, 64) == ""
    assert robustness._failed_words({"runs_failed": 3, "runs_total": 448}, 64, 62) == (
        " 3 of its 448 runs failed (its failures table says why); a point counts only the seeds "
        "every scenario ran there, and the 2 points where one ran none are left out: the counts "
        "are of 62 points.")
    assert robustness._failed_words({"runs_failed": 1, "runs_total": 10}, 5, 5).endswith(
        "a point counts only the seeds every scenario ran there.")


def test_a_seed_one_scenario_lacks_is_left_out_for_all():
    """Every count is over the same seeds: those every scenario ran at a point."""
    from types import SimpleNamespace

    totals = {("ref", 0): 0.0, ("A", 0): 1.0, ("B", 0): 0.5,
              ("ref", 1): 0.0, ("A", 1): -5.0}  # B's run at seed 1 failed
    runs = pd.DataFrame([{"run": k, "scenario": sc, "point": 0, "replicate": seed,
                          "welfare_total_usd_bn": v} for k, ((sc, seed), v)
                         in enumerate(totals.items())])
    nations = pd.DataFrame({"run": runs["run"], "nation": "China",
                            "welfare_usd_bn": runs["welfare_total_usd_bn"]})
    results = SimpleNamespace(runs=runs, nations=nations, scenarios=["ref", "A", "B"])
    counts = robustness.summarise(results, "ref").set_index("scenario")
    assert counts.loc["A", "points"] == 1 and counts.loc["A", "best"] == 1
    assert counts.loc["A", "beats_reference: welfare_total_usd_bn"] == 1  # on seed 0 alone
    assert counts.loc["A", "beats_reference: China"] == 1


def test_compare_runs_the_design_beside_an_experiment_and_reports_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("tiny.toml").write_text(TINY)
    result = runner.invoke(app, ["compare", "tiny.toml", "--backend", "serial", "--resamples",
                                 "200", "--robustness", "4"])
    assert result.exit_code == 0, result.output
    report = Path("results/tiny/report.md").read_text()
    assert "## How sure are we?" in report and "at 4 points drawn at once" in report
    assert "### Why cooperation does or does not emerge: the stage game" in report
    assert "US-China cooperation: " in report and "![games](figures/games.png)" in report
    assert Results(Path("results/tiny-robustness")).runs["point"].nunique() == 4
    assert "### If nations follow other rules" in report and "all tit for tat" in report
    repo = Path(__file__).resolve().parents[1]
    for text in (report, Path("results/tiny/report.html").read_text()):  # no one's folders
        assert str(tmp_path) not in text and str(repo) not in text
    for path in Path("results").rglob("*"):  # nor in any file of the results, manifests too
        if path.suffix in (".json", ".md", ".html", ".csv", ".txt"):
            text = path.read_text()
            assert str(tmp_path) not in text and str(repo) not in text, path
    assert "`lunarsim batch tiny.toml --force, then lunarsim compare results/tiny`" in report
    assert "| scenarios/open_access.toml" in report.replace("  ", " ")
    assert Results(Path("results/tiny-strategies-myopic")).runs["replicate"].nunique() == 2
    manifest = Path("results/tiny-robustness/manifest.json")  # as if made by other model code
    manifest.write_text(manifest.read_text().replace('"model_sha256": "', '"model_sha256": "0'))
    again = runner.invoke(app, ["compare", "results/tiny", "--resamples", "200"])
    assert again.exit_code == 0 and "has not been measured" in Path(
        "results/tiny/report.md").read_text()  # never counts runs of another model
    refused = runner.invoke(app, ["compare", "results/tiny", "--robustness", "8"])
    assert refused.exit_code == 2 and "--robustness: does not apply" in refused.stderr
    none = runner.invoke(app, ["compare", "tiny.toml", "--out", "other", "--backend", "serial",
                               "--resamples", "200", "--robustness", "0"])
    assert none.exit_code == 0 and not Path("other-robustness").exists()
    assert not Path("other-strategies-myopic").exists()
    labelled = runner.invoke(app, ["compare", "tiny.toml", "--out", "other", "--backend",
                                   "serial", "--resamples", "200", "--robustness", "0",
                                   "--reference", "us-china cooperation"])  # a label, any case
    assert labelled.exit_code == 0, labelled.output
    assert Path("other/report-vs-us_china_cooperation.md").is_file()
    assert "has not been measured" in Path("other/report.md").read_text()


def test_compare_runs_several_seeds_a_point_when_asked_and_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("tiny.toml").write_text(TINY)
    refused = runner.invoke(app, ["compare", "tiny.toml", "--robustness", "0",
                                  "--robustness-seeds", "2"])
    assert refused.exit_code == 2 and refused.stderr.strip() == (
        "error: --robustness-seeds: does not apply with --robustness 0")
    assert not Path("results").exists()  # refused before any run
    result = runner.invoke(app, ["compare", "tiny.toml", "--backend", "serial", "--resamples",
                                 "200", "--robustness", "3", "--robustness-seeds", "2"])
    assert result.exit_code == 0, result.output
    study = Results(Path("results/tiny-robustness")).runs
    assert study.groupby(["point", "scenario"])["seed"].nunique().eq(2).all()
    assert study["seed"].nunique() == 2 and study["point"].nunique() == 3
    report = " ".join(Path("results/tiny/report.md").read_text().split())
    assert "at 3 points drawn at once" in report
    assert "the same 2 seeds for all scenarios at a point" in report
    assert "With 2 seeds a point, chance still moves a count" in report
    assert "sampled points (one seed each)" not in report
    written = {p: p.stat().st_mtime_ns for p in Path("results").rglob("*") if p.is_file()}
    other = runner.invoke(app, ["compare", "tiny.toml", "--robustness", "3",
                                "--robustness-seeds", "3"])  # another size: refused, told how
    assert other.exit_code == 2 and other.stderr.strip() == (
        "error: results/tiny-robustness: holds a robustness study of 3 points x 2 seeds, and "
        "this asks for 3 x 3; --robustness 3 --robustness-seeds 2 uses it, --force runs "
        "everything afresh, --out writes elsewhere")
    assert {p: p.stat().st_mtime_ns for p in Path("results").rglob("*") if p.is_file()} == written
    Path("swept.toml").write_text(TINY + '[sweep]\n"economics.synergy" = [0.1, 0.2]\n')
    for option in (["--robustness", "4"], ["--robustness-seeds", "2"]):
        refused = runner.invoke(app, ["compare", "swept.toml", *option])
        assert refused.exit_code == 2 and refused.stderr.strip() == (
            f"error: {option[0]}: does not apply to swept.toml, which has a design of its own")
    assert {p: p.stat().st_mtime_ns for p in Path("results").rglob("*") if p.is_file()} == written
    assert re.search(r"of 3 sampled points \(the mean of 2 seeds each(; level at \d)?\)", report)


def test_a_strategy_set_gives_every_nation_its_rule_keeps_trembles_and_the_first_seeds():
    from sim.explore import strategy_sets

    base = load_experiment("coop_vs_compete")
    plan = strategy_sets.design(base, "myopic")
    assert plan.spec.replicates == strategy_sets.SEEDS
    assert plan.spec.master_seed == base.spec.master_seed  # replicate k: the main job's seed k
    for name in base.spec.scenarios:
        before, after = base.scenario(name, {}), plan.scenario(name, {})
        for old, new in zip(before.nations, after.nations, strict=True):
            assert new.strategy.name == "forward_looking"
            assert new.strategy.params.discount_per_year == 0.0
            assert new.strategy.tremble == old.strategy.tremble
    assert base.content_hash() != plan.content_hash()


def test_the_rankings_under_other_rules_follow_the_numbers(monkeypatch):
    """Three scenarios on four seeds; under one set the order of the two regimes flips and one
    of them falls clearly below the reference: the words say where the first place and the
    sign turn on the rules."""
    from types import SimpleNamespace

    from sim.report import rule_sets

    def results(gain_a, gain_b):
        rows = [{"run": 3 * k + m, "scenario": s, "point": 0, "replicate": k,
                 "welfare_total_usd_bn": 10.0 + k + g + 0.01 * m * k}
                for k in range(4) for m, (s, g) in enumerate(
                    (("ref", 0.0), ("a", gain_a), ("b", gain_b)))]
        return SimpleNamespace(runs=pd.DataFrame(rows), scenarios=["ref", "a", "b"],
                               manifest={"model_sha256": "x"}, label=str.upper)

    own, flipped = results(2.0, 1.0), results(-1.0, 1.0)
    table = rule_sets.ranking(own, "ref").set_index("scenario")
    assert table.loc["a", "rank"] == 1 and table.loc["b", "rank"] == 2
    assert table.loc["ref", "rank"] == 3 and table.loc["a", "mean"] == pytest.approx(2.015)
    studies = {"tit_for_tat": flipped}
    monkeypatch.setattr(rule_sets, "finished",
                        lambda folder, model: studies.get(folder.name.split("strategies-")[1]))
    words, shown, link = rule_sets.section(Path("results/x"), own, "ref")
    assert link == ""  # no study without links between the arenas
    assert "Under the scenarios' own rules A ranks first" in words[1]
    assert "under all tit for tat, B does" in words[1]
    assert "A is clearly better than REF under the scenarios' own rules and clearly worse " \
           "under all tit for tat" in words[2]
    assert list(shown.columns) == ["scenario", "the scenarios' own rules", "all tit for tat"]
    assert shown.set_index("scenario").loc["A", "all tit for tat"].endswith("(3rd)")
    # a flip of sign within the smallest difference that matters (0.1 bn) is not "clear"
    studies["tit_for_tat"] = results(-0.04, 1.0)
    words, _, _ = rule_sets.section(Path("results/x"), results(0.02, 1.0), "ref")
    assert not any("sign itself" in w for w in words)
    # with no nation linking the arenas A gains 0.5 instead of 2: the summary's sentence says so
    studies["unlinked"] = results(0.5, 0.2)
    words, _, link = rule_sets.section(Path("results/x"), own, "ref")
    assert link.startswith("How much rests on the link between the arenas: A is +2.01 bn from "
                           "REF under the scenarios' own rules and +0.515 bn [") and link in words
