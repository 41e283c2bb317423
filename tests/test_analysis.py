"""Statistics on data with a known answer; figures drawing what they should; the report."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis import Results
from sim.analysis import figures as fig
from sim.analysis.outcomes import Outcome
from sim.analysis.stats import compare, mean_interval, price_of_anarchy
from sim.cli import app
from sim.experiment import ResultStore, run_experiment
from sim.report.text import num as _num

runner = CliRunner()
WELFARE = Outcome("welfare_total_usd_bn", "Total welfare", "USD bn", True)
INCIDENTS = Outcome("incidents", "Incidents", "count", False)


def synthetic_runs(shift: float, seeds: int = 40, noise: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """Two scenarios on the same seeds: a large shared seed effect, plus a known shift."""
    rng = np.random.default_rng(seed)
    common = rng.normal(10.0, 5.0, seeds)  # what the seed does to both scenarios
    rows = []
    for scenario, offset in (("ref", 0.0), ("alt", shift)):
        for k in range(seeds):
            rows.append({"scenario": scenario, "point": 0, "replicate": k,
                         "welfare_total_usd_bn": common[k] + offset + rng.normal(0, noise),
                         "incidents": 5.0 - offset + rng.normal(0, noise)})
    frame = pd.DataFrame(rows)
    return frame.assign(run=np.arange(len(frame)))


def test_a_known_difference_is_recovered_inside_a_tight_paired_interval():
    runs = synthetic_runs(shift=2.0)
    row = compare(runs, pd.DataFrame(), [WELFARE], "ref").iloc[0]
    assert row["ci_low"] < 2.0 < row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < 0.15  # the shared seed noise (sd 5) cancels
    assert row["mean_difference"] == pytest.approx(2.0, abs=0.05)
    assert row["share_better"] == 1.0 and row["effect_size_dz"] > 5 and row["p_value"] < 1e-6


def test_a_difference_the_same_on_every_seed_but_for_rounding_has_no_effect_size():
    """A regime that changes only a fixed fee: every paired difference is -0.11 up to rounding
    (sd about 1e-17), and d_z = mean / sd would be some -1e16; it is undefined instead."""
    runs = synthetic_runs(shift=0.0, noise=0.0)
    alt = runs["scenario"] == "alt"
    runs.loc[alt, "welfare_total_usd_bn"] = runs.loc[~alt, "welfare_total_usd_bn"].to_numpy() - 0.11
    d = (runs.loc[alt, "welfare_total_usd_bn"].to_numpy()
         - runs.loc[~alt, "welfare_total_usd_bn"].to_numpy())
    assert d.std() > 0  # rounding: the differences are not exactly equal
    row = compare(runs, pd.DataFrame(), [WELFARE], "ref").iloc[0]
    assert np.isnan(row["effect_size_dz"])
    assert row["mean_difference"] == pytest.approx(-0.11) and row["share_better"] == 0.0


def test_pairing_is_by_seed_not_by_row_order():
    runs = synthetic_runs(shift=2.0)
    shuffled = runs.sample(frac=1.0, random_state=3)
    a = compare(runs, pd.DataFrame(), [WELFARE], "ref").iloc[0]
    b = compare(shuffled, pd.DataFrame(), [WELFARE], "ref").iloc[0]
    assert a["mean_difference"] == pytest.approx(b["mean_difference"])
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((b["ci_low"], b["ci_high"]))
    # break the pairing (replicate labels permuted in one scenario): the interval widens a lot
    broken = runs.copy()
    alt = broken["scenario"] == "alt"
    broken.loc[alt, "replicate"] = np.random.default_rng(1).permutation(broken.loc[alt, "replicate"])
    c = compare(broken, pd.DataFrame(), [WELFARE], "ref").iloc[0]
    assert c["ci_high"] - c["ci_low"] > 10 * (a["ci_high"] - a["ci_low"])


def test_lower_is_better_counts_decreases_as_wins():
    runs = synthetic_runs(shift=1.0)  # incidents fall by 1 in "alt"
    row = compare(runs, pd.DataFrame(), [INCIDENTS], "ref").iloc[0]
    assert row["mean_difference"] == pytest.approx(-1.0, abs=0.05) and row["share_better"] == 1.0


def test_no_difference_is_not_called_a_win():
    runs = synthetic_runs(shift=0.0, noise=1.0)
    row = compare(runs, pd.DataFrame(), [WELFARE], "ref").iloc[0]
    assert row["ci_low"] < 0 < row["ci_high"] and 0.2 < row["share_better"] < 0.8


def test_price_of_anarchy_is_best_over_realised_on_each_seed():
    runs = pd.DataFrame({"run": [0, 1, 2, 3], "scenario": ["a", "b", "a", "b"], "point": 0,
                         "replicate": [0, 0, 1, 1], "welfare_total_usd_bn": [2.0, 4.0, 3.0, -1.0]})
    poa = price_of_anarchy(runs)
    assert poa[0] == 2.0 and poa[1] == 1.0 and poa[2] == 1.0 and np.isnan(poa[3])


# --- a small real results folder ----------------------------------------------------------

SMALL = """
name = "tiny_compare"
scenarios = ["open_access", "multilateral", "us_china_cooperation"]
reference = "open_access"
replicates = 2
master_seed = 3
horizon_years = 1.0

[sweep]
"economics.synergy" = [0.05, 0.2]
"economics.race_advantage" = [0.5, 1.5]
"""


@pytest.fixture(scope="module")
def small_results(tmp_path_factory) -> Results:
    tmp = tmp_path_factory.mktemp("analysis")
    path = tmp / "tiny.toml"
    path.write_text(SMALL)
    run_experiment(path, backend="serial", out=tmp / "out")
    return Results(tmp / "out")


def lines(ax) -> int:
    return len([line for line in ax.get_lines() if line.get_label() and not line.get_label().startswith("_")])


def test_timeseries_draws_one_median_and_band_per_scenario_in_each_panel(small_results):
    figure = fig.timeseries(small_results)
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert len(panels) == 6
    for ax in panels:
        assert lines(ax) == 3 and len(ax.collections) == 3
        assert ax.get_xlabel() == "year" and ax.get_ylabel()
    legend_text = {t.get_text() for t in figure.legends[0].get_texts()}
    assert legend_text == {"Open access", "Multilateral", "US-China cooperation"}


def test_differences_draw_one_box_per_compared_scenario(small_results):
    from sim.analysis.outcomes import OUTCOMES

    figure = fig.differences(small_results)
    panels = [ax for ax in figure.axes if ax.get_visible()]
    key = [o for o in OUTCOMES if o.key]  # every key outcome has its panel, none is cut off
    assert [ax.get_title().split("\n")[0] for ax in panels] == [o.naming("China").label for o in key]
    for ax in panels:
        assert len(ax.patches) == 2  # multilateral and US-China against open access
        assert [t.get_text() for t in ax.get_yticklabels()] == ["Multilateral", "US-China cooperation"]


def test_nations_cooperation_leverage_and_heatmap(small_results):
    nations = fig.nations(small_results)
    panels = [ax for ax in nations.axes if ax.get_visible() and ax.get_title()]
    assert len(panels) == 11 and all(len(ax.containers) == 3 for ax in panels)
    coop = fig.cooperation(small_results)
    assert len([ax for ax in coop.axes if ax.get_visible() and ax.images]) == 3
    lev = fig.leverage(small_results)
    assert [lines(ax) for ax in lev.axes] == [3, 3, 3, 3]  # leverage, dependence, price, controls
    heat = fig.heatmap(small_results)
    images = [ax for ax in heat.axes if ax.images]
    assert len(images) == 2 and images[0].images[0].get_array().shape == (2, 2)  # vs the reference


def test_the_terminal_tables_read_at_80_columns_with_no_number_cut(small_results):
    result = runner.invoke(app, ["compare", str(small_results.folder), "--resamples", "200"],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    prose = [line for line in out.splitlines() if str(small_results.folder) not in line]
    assert max(map(len, prose)) <= 80 and "…" not in out  # paths are never broken
    comparison = pd.read_csv(small_results.folder / "comparison.csv")
    shown = comparison[comparison["key"]]
    scale = np.where(shown["unit"].str.startswith("share"), 100.0, 1.0)
    for value in (*(shown["mean_difference"] * scale), *(shown["ci_high"] * scale)):
        assert _num(value, sign=True) in out  # each number whole, on one line
    words = set(out.split())
    for label in ("Multilateral", "US-China cooperation"):  # names fold at words, not cut
        assert set(label.split()) <= words


def test_compare_on_a_results_folder_writes_report_tables_and_figures(small_results):
    result = runner.invoke(app, ["compare", str(small_results.folder), "--resamples", "200"],
                           env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    folder = small_results.folder
    assert "Total welfare (USD bn); Open access: " in result.stdout
    html = (folder / "report.html").read_text()
    drawn = sorted(p.stem for p in (folder / "figures").glob("*.png"))
    assert html.count("data:image/png;base64,") == len(drawn) >= 6  # every figure inside
    # the rare-earth figure is drawn only where some rare-earth series differs between
    # scenarios; otherwise the report says in one line what is the same everywhere
    assert ("leverage" in drawn) == fig.rare_earths_differ(small_results)
    assert "Rare earths and China" in html
    assert "Why welfare differs" in html and "Why welfare differs from Open access" in result.stdout
    assert "Price of anarchy" in html and "Reproduction" in html and "calibration" in html
    md = (folder / "report.md").read_text()
    assert "![timeseries](figures/timeseries.png)" in md
    comparison = pd.read_csv(folder / "comparison.csv")
    assert set(comparison["scenario"]) == {"multilateral", "us_china_cooperation"}
    assert "welfare: United States" in set(comparison["outcome"])
    assert (comparison["pairs"] == 8).all()  # 4 design points x 2 replicates, paired


def test_the_channels_add_up_to_the_paired_welfare_difference_exactly(small_results):
    from sim.analysis.decompose import decompose
    from sim.model.metrics import CHANNELS

    table = decompose(small_results.runs, "open_access", resamples=100)
    assert set(table["scenario"]) == {"multilateral", "us_china_cooperation"}
    for scenario, part in table.groupby("scenario"):
        by = part.set_index("channel")["mean_difference"]
        assert list(by.index) == [*CHANNELS, "total"]
        assert by.drop("total").sum() == pytest.approx(by["total"], rel=1e-9, abs=1e-12)
        welfare = compare(small_results.runs, small_results.nations, [WELFARE], "open_access")
        row = welfare[welfare["scenario"] == scenario].iloc[0]
        assert by["total"] == pytest.approx(row["mean_difference"], rel=1e-12)
    channels = fig.channels(small_results)
    bars = [p for p in channels.axes[0].patches]
    assert len(bars) == 2 * len(CHANNELS)  # one segment per channel per compared scenario


def test_plot_command_and_its_mistakes(small_results, tmp_path):
    out = tmp_path / "t.png"
    ok = runner.invoke(app, ["plot", str(small_results.folder), "--kind", "timeseries", "--out", str(out)])
    assert ok.exit_code == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(app, ["plot", str(small_results.folder), "--kind", "pie"])
    assert bad.exit_code == 2 and "unknown figure 'pie'" in bad.stderr
    nothing = runner.invoke(app, ["plot", str(tmp_path), "--kind", "timeseries"])
    assert nothing.exit_code == 2 and "not a results folder" in nothing.stderr


def test_every_rare_earth_outcome_is_in_the_table_or_named_as_the_same_everywhere(small_results):
    """An outcome that differs between scenarios on no seed gets one line, not an empty row."""
    from sim.analysis.outcomes import REE_OUTCOMES
    from sim.report.compare import analyse

    analysis = analyse(small_results.folder, resamples=200)
    md = analysis.report_md.read_text()
    section = md.split("## Rare earths and China's leverage")[1].split("## Figures")[0]
    same = next((line for line in section.splitlines() if line.startswith("The same in every")), "")
    table = [line for line in section.splitlines() if line.startswith("| ")]
    for outcome in (o.naming("China") for o in REE_OUTCOMES):
        rows = analysis.comparison[analysis.comparison["outcome"] == outcome.name]
        differs = (rows[["mean_difference", "ci_low", "ci_high"]].abs() > 1e-9).any().any()
        in_table = any(line.startswith(f"| {outcome.label} (") for line in table)
        assert in_table == differs, outcome.name
        label = outcome.label  # mid-sentence: lower case, but a nation's name keeps its capital
        words = label if label.startswith("China") else label[0].lower() + label[1:]
        assert (words in same) == (not differs), outcome.name


def test_every_table_of_the_report_has_a_header_and_rows(small_results):
    """Parsed with a real Markdown parser: each table has a header row and at least one data
    row, and no heading is repeated back to back (the calibration tables once split in two)."""
    from markdown_it import MarkdownIt

    from sim.report.compare import analyse

    md = analyse(small_results.folder, resamples=200).report_md.read_text()
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    tables = [k for k, t in enumerate(tokens) if t.type == "table_open"]
    assert len(tables) >= 10
    for start in tables:
        end = next(k for k in range(start, len(tokens)) if tokens[k].type == "table_close")
        kinds = [t.type for t in tokens[start:end]]
        assert "thead_open" in kinds and kinds.count("th_open") >= 2
        assert "tbody_open" in kinds and kinds.count("tr_open") >= 2
    headings = [tokens[k + 1].content for k, t in enumerate(tokens) if t.type == "heading_open"]
    assert all(a != b for a, b in zip(headings, headings[1:])), headings
    assert "Market (`[market]`)" in headings


@pytest.mark.parametrize(("shift", "negligible"), [(0.02, True), (0.5, False), (-0.5, False)])
def test_a_difference_is_negligible_only_when_its_whole_interval_is_inside_the_threshold(
        shift, negligible):
    """Every seed agrees on a shift of 0.02 bn (share better 100 %), yet it is below the
    0.1 bn that matters: negligible. A shift of 0.5 bn either way is not."""
    outcome = Outcome("welfare_total_usd_bn", "Total welfare", "USD bn", True, negligible=0.1)
    runs = synthetic_runs(shift=shift, noise=0.005)
    row = compare(runs, pd.DataFrame(), [outcome], "ref", resamples=500).iloc[0]
    assert row["negligible"] == negligible
    assert row["share_better"] == (1.0 if shift > 0 else 0.0)
    from sim.report.summary import key_table

    class Labels:  # what key_table needs of Results
        def label(self, scenario):
            return scenario

    table = key_table(compare(runs, pd.DataFrame(), [Outcome(
        "welfare_total_usd_bn", "Total welfare", "USD bn", True, negligible=0.1)], "ref",
        resamples=500).assign(key=True), Labels())
    assert table["difference [95% CI]"].str.endswith("negligible").any() == negligible


def test_who_gains_gives_each_nations_paired_difference(small_results):
    from sim.report.compare import analyse
    from sim.report.summary import who_gains

    analysis = analyse(small_results.folder, resamples=200)
    table = who_gains(analysis.comparison, small_results)
    nations = sorted(small_results.nations["nation"].unique())
    assert sorted(table["nation"]) == nations
    others = [small_results.label(s) for s in small_results.scenarios if s != analysis.reference]
    assert list(table.columns[1:]) == others
    rows = analysis.comparison[analysis.comparison["outcome"] == f"welfare: {nations[0]}"]
    for r in rows.itertuples():  # each cell is that nation's paired difference, or negligible
        cell = table.set_index("nation").loc[nations[0], small_results.label(r.scenario)]
        assert cell == "negligible" if r.negligible else cell.startswith(
            ("+" if r.mean_difference > 0 else "-") if abs(r.mean_difference) > 1e-9 else "0")
    assert "## Who gains" in analysis.report_md.read_text()


def test_the_summary_is_computed_from_the_statistics():
    """Change the numbers and the sentences change: the best scenario, the losers, and
    'negligible' or 'not established' follow the intervals."""
    from sim.report.summary import summary

    class Labels:
        holder = "China"

        def label(self, scenario):
            return scenario.upper()

    def row(outcome, scenario, mean, low, high, negligible=False, better=1.0):
        return {"outcome": outcome, "scenario": scenario, "mean_difference": mean,
                "ci_low": low, "ci_high": high, "negligible": negligible, "share_better": better}

    rows = [row("welfare_total_usd_bn", "a", 2.0, 1.5, 2.5),
            row("welfare_total_usd_bn", "b", -1.0, -1.5, -0.5, better=0.0),
            row("welfare: Japan", "a", -0.3, -0.4, -0.2, better=0.0),
            row("welfare: Chile", "a", 0.3, 0.2, 0.4),
            row("leverage_index", "a", 0.0, 0.0, 0.0, negligible=True)]
    text = summary(pd.DataFrame(rows), None, Labels(), "ref")
    assert text.startswith("A does best on total welfare: +2 bn [+1.5, +2.5] over REF")
    assert "Chile gains; Japan loses" in text and "B does worst: -1 bn" in text
    # exactly 0 on every seed is said so, not as "no more than half a percentage point"
    assert "China's rare-earth leverage at the end is the same in every scenario, seed by seed" \
        in text and "half a percentage point" not in text
    rows[4] = row("leverage_index", "a", 0.002, 0.001, 0.003, negligible=True)
    text = summary(pd.DataFrame(rows), None, Labels(), "ref")
    assert "differs between scenarios by no more than half a percentage point" in text
    rows[0] = row("welfare_total_usd_bn", "a", 0.01, -0.05, 0.05, negligible=True)
    rows[1] = row("welfare_total_usd_bn", "b", 0.2, -0.3, 0.7)
    text = summary(pd.DataFrame(rows), None, Labels(), "ref")
    assert text.startswith("No scenario raises total welfare over REF")
    assert "Negligible on total welfare: A." in text
    assert "Not established either way (the interval spans zero and differences that matter): B." in text


def test_analyses_against_other_references_never_replace_the_main_one(tmp_path, monkeypatch):
    """compare --reference X writes its report, tables and figures under names of their own
    (-vs-X), beside the main analysis and leaving it as it was; X may be the label the report
    shows. plot writes into plots/, never over the report's figures, against the main report's
    reference unless told otherwise."""
    import sim.analysis.figures as figures

    path = tmp_path / "tiny.toml"
    path.write_text(SMALL)
    run_experiment(path, backend="serial", out=tmp_path / "out")
    out = tmp_path / "out"
    seen = []
    real = figures.FIGURES["differences"]
    monkeypatch.setitem(figures.FIGURES, "differences",
                        lambda data, reference=None: seen.append(reference) or real(data, reference))

    def compare_(*args):
        done = runner.invoke(app, ["compare", str(out), *args, "--resamples", "100"])
        assert done.exit_code == 0, done.output

    def contents():
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
                if p.is_file() and p.suffix in (".md", ".html", ".csv", ".png")}

    compare_()
    main = contents()
    assert {"report.md", "comparison.csv", "figures/differences.png"} <= set(main)
    compare_("--reference", "Multilateral")  # the label, as the report shows it
    after = contents()
    assert {k: after[k] for k in main} == main  # the main analysis untouched
    vs = {k for k in after if "-vs-multilateral" in k}
    assert {"report-vs-multilateral.md", "report-vs-multilateral.html",
            "comparison-vs-multilateral.csv", "figures/differences-vs-multilateral.png"} <= vs
    report = (out / "report-vs-multilateral.md").read_text()
    assert "](figures/differences-vs-multilateral.png)" in report
    assert "Reference: **Multilateral**" in report
    for args in ([], ["--reference", "us_china_cooperation"]):
        assert runner.invoke(app, ["plot", str(out), "--kind", "differences", *args]).exit_code == 0
    assert seen[-2:] == ["open_access", "us_china_cooperation"]
    assert (out / "plots" / "differences.png").is_file()
    assert (out / "plots" / "differences-vs-us_china_cooperation.png").is_file()
    assert {k: contents()[k] for k in main} == main
    assert ResultStore(out).looks_like_ours()  # still a folder lunarsim may clear with --force
    outcome = run_experiment(path, backend="serial", out=out, force=True)
    assert outcome.complete and not (out / "report-vs-multilateral.md").exists()
    assert not (out / "plots" / "differences.png").exists()


@pytest.mark.parametrize("x", [[1.0] * 19 + [1.0 + 2e-16], [0.0] * 19 + [1e-300],
                               [5.0, 5.0, 5.0 + 8.9e-16]])
def test_a_near_constant_difference_gets_an_interval_around_its_mean_and_no_warning(x):
    """BCa degenerates on such data (SciPy warns and gives NaN); the percentile interval
    stands in, silently: the user sees a number, not SciPy's warning."""
    x = np.array(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = mean_interval(x, 0.95, 999, 0)
    assert np.isfinite([low, high]).all() and low <= x.mean() <= high
    assert x.min() <= low and high <= x.max()


def test_the_report_names_the_leverage_holder_the_scenarios_name(tmp_path):
    """Every sentence, label and heading about the rare-earth holder names the nation the
    scenarios make holder (here the United States), or says "the leverage holder" for a folder
    that does not record it; a scenario given as a file is labelled by its name."""
    import json

    from sim.report.compare import analyse

    for base in ("open_access", "us_china_cooperation"):
        (tmp_path / f"{base}_us.toml").write_text(
            f'extends = "{base}"\nname = "{base}_us"\n\n[market]\n'
            'leverage_holder = "United States"\n')
    (tmp_path / "hold.toml").write_text(
        'name = "us_holds"\nscenarios = ["open_access_us.toml", "us_china_cooperation_us.toml"]\n'
        "replicates = 2\nmaster_seed = 3\nhorizon_years = 1.0\n")
    out = tmp_path / "out"
    run_experiment(tmp_path / "hold.toml", backend="serial", out=out)
    analysis = analyse(out, resamples=200)
    md = (out / "report.md").read_text()
    assert "## Rare earths and United States' leverage" in md
    assert "United States' share of refined supply goes from" in md
    assert "refineries outside United States run only on ore mined outside it" in md
    assert "Myanmar" not in analysis.report_html.read_text().split("Assumptions")[0]
    assert "China's leverage" not in md and "China's share" not in md
    for text in (md, analysis.report_html.read_text(), (out / "comparison.csv").read_text()):
        assert not re.search(r"\{(holder|Holder)", text)  # every field filled
    labels = set(analysis.comparison["label"]) - {"Welfare of China"}
    assert "United States' rare-earth leverage" in labels and not any("China" in x for x in labels)
    assert analysis.results.label("open_access_us.toml") == "Open access us"

    manifest = json.loads((out / "manifest.json").read_text())  # as folders written before
    for entry in manifest["scenarios"].values():
        del entry["leverage_holder"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert Results(out).holder == "the leverage holder"
    analyse(out, resamples=200)
    md = (out / "report.md").read_text()
    assert "## Rare earths and the holder's leverage" in md
    assert "The leverage holder's share of refined supply goes from" in md
    assert not re.search(r"\{(holder|Holder)", md)


def test_a_channel_zero_everywhere_is_named_with_its_reason():
    from sim.report.summary import unchanged_channels

    rows = []
    for scenario, moved in (("multilateral", 0.4), ("us_china_cooperation", -0.2)):
        for channel, label, value in (("exhausted_sites", "Sites run out", 0.0),
                                      ("synergy", "Synergy with partners", moved),
                                      ("total", "Total welfare", moved)):
            rows.append({"scenario": scenario, "channel": channel, "label": label,
                         "mean_difference": value, "ci_low": min(value, 0.0),
                         "ci_high": max(value, 0.0)})
    text = unchanged_channels(pd.DataFrame(rows))
    assert text.startswith("Zero in every scenario, on every seed: sites run out (no site's")
    assert "ynergy" not in text and "otal" not in text
    rows[3] |= {"ci_low": -0.1, "ci_high": 0.1}  # zero on average only, not on every seed
    assert unchanged_channels(pd.DataFrame(rows)) == ""


def test_the_leverage_path_says_when_most_of_the_fall_came():
    """The share falls from 0.9 to 0.6, half of it (to 0.75) by 2027 and the lowest point in
    2030: the words name both years, from the numbers; a fall complete at once names one."""
    from types import SimpleNamespace

    from sim.report.rare_earths import _leverage_path

    def results(path):
        rows = [{"run": 0, "year": y, "leverage_index": v, "refining_built_t_per_yr": 100.0 * k,
                 "export_control_targets": 0} for k, (y, v) in enumerate(path)]
        return SimpleNamespace(series_model=pd.DataFrame(rows), parameters={},
                               runs=pd.DataFrame({"run": [0], "scenario": ["ref"]}),
                               holder="China", label=str.upper)

    slow = [(2026.0, 0.9), (2026.5, 0.85), (2027.25, 0.74), (2029.0, 0.7), (2030.0, 0.6),
            (2031.0, 0.62)]
    text = _leverage_path(results(slow), "ref")
    assert "goes from 90% in 2026 to 60% in 2030 (half of the fall by 2027)" in text
    sudden = [(2026.0, 0.9), (2030.0, 0.6), (2031.0, 0.62)]
    assert "to 60% in 2030 as refineries" in _leverage_path(results(sudden), "ref")


@pytest.mark.parametrize("seed", range(12))
def test_pairing_by_key_gives_the_frame_pandas_alignment_gives(seed):
    """Runs are paired on (point, replicate) through a dictionary of the keys: the frame must be
    the one pandas' alignment on that index gives (values, types, order), for runs in any
    order, outcomes missing or undefined on either side, whole or real values; and a key that
    appears twice is left to pandas."""
    from sim.analysis.stats import _paired_by_index, paired

    rng = np.random.default_rng(seed)
    rows = [(s, p, r) for s in ("a", "b", "c") for p in range(4) for r in range(3)
            if rng.random() < 0.8]
    order = rng.permutation(len(rows))
    runs = pd.DataFrame({"run": np.arange(len(rows)) * 3 + 5,
                         "scenario": [rows[k][0] for k in order],
                         "point": [rows[k][1] for k in order],
                         "replicate": [rows[k][2] for k in order]})
    whole = seed % 2 == 0
    values = pd.Series(rng.integers(-5, 5, len(rows)) if whole else rng.normal(size=len(rows)),
                       index=runs["run"].to_numpy())
    if not whole:
        values[values.index[rng.random(len(rows)) < 0.15]] = np.nan
    values = values.drop(values.index[rng.random(len(rows)) < 0.1])  # some runs have none
    for scenario in "abc":
        for reference in "abc":
            got = paired(runs, values, scenario, reference)
            pd.testing.assert_frame_equal(got, _paired_by_index(runs, values, scenario, reference))
            assert list(got.columns) == ["point", "replicate", "scenario", "reference",
                                         "difference"]
    twice = pd.concat([runs, runs.iloc[:1].assign(run=999)], ignore_index=True)
    with pytest.raises(Exception):  # noqa: B017 (as pandas refuses to align a key twice)
        _paired_by_index(twice, values, twice["scenario"][0], "b")
    with pytest.raises(Exception):  # noqa: B017
        paired(twice, values, twice["scenario"][0], "b")
