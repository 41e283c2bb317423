"""What the figures show, read from the matplotlib objects: colours that can be told apart,
plain and whole-number ticks, titles that say what is pooled, nothing clipped or covered, and
the sweep heatmap's paired differences."""

from __future__ import annotations

import copy
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb, to_rgba

from sim import load_scenario, run_scenario
from sim.analysis import Results
from sim.analysis import figures as fig
from sim.base.errors import UserError
from sim.experiment import run_experiment
from sim.experiment.figure import run_figure

SWEEP = """
name = "tiny_sweep"
scenarios = ["open_access", "rival_blocs", "multilateral"]
reference = "open_access"
replicates = 2
master_seed = 5
horizon_years = 1.0

[sweep]
"economics.synergy" = [0.05, 0.3]
"economics.race_advantage" = [0.5, 1.5]
"""
PLAIN = """
name = "tiny_plain"
scenarios = ["open_access", "multilateral"]
reference = "open_access"
replicates = 3
master_seed = 5
horizon_years = 1.0
"""


def _results(tmp_path_factory, text: str) -> Results:
    tmp = tmp_path_factory.mktemp("figures")
    (tmp / "experiment.toml").write_text(text)
    run_experiment(tmp / "experiment.toml", backend="serial", out=tmp / "out")
    return Results(tmp / "out")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Results:
    return _results(tmp_path_factory, SWEEP)


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Results:
    return _results(tmp_path_factory, PLAIN)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def run():
    return run_scenario(load_scenario("baseline"), seed=2, steps=16)


def luminance(colour) -> float:
    """WCAG relative luminance."""
    c = np.array(to_rgb(colour))
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def on_white(rgba) -> tuple[float, float, float]:
    r, g, b, alpha = to_rgba(rgba)
    return tuple(alpha * np.array([r, g, b]) + (1 - alpha))


def lab(colour) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour."""
    c = np.array(to_rgb(colour))
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ c / [0.95047, 1.0, 1.08883]
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def panel(figure, title: str):
    return next(ax for ax in figure.axes if ax.get_visible() and ax.get_title().startswith(title))


def shown_ticks(ax, axis: str = "x") -> list[float]:
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    ticks = ax.get_xticks() if axis == "x" else ax.get_yticks()
    return [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]


def tick_labels(ax) -> list[str]:
    ax.figure.canvas.draw()
    lo, hi = sorted(ax.get_xlim())
    return [t.get_text() for t in ax.get_xticklabels()
            if lo - 1e-9 <= t.get_position()[0] <= hi + 1e-9]


def layout_faults(figure) -> list[str]:
    """Parts drawn outside the figure, and parts drawn over one another: each visible axes
    (with its title, labels and tick labels), the figure's title and its legends."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    parts = {f"axes {ax.get_title() or ax.get_ylabel() or k}": ax.get_tightbbox(renderer)
             for k, ax in enumerate(figure.axes) if ax.get_visible()}
    if figure._suptitle is not None:
        parts["suptitle"] = figure._suptitle.get_window_extent(renderer)
    parts |= {f"legend {k}": legend.get_window_extent(renderer)
              for k, legend in enumerate(figure.legends)}
    box = figure.bbox
    faults = [f"{name} outside the figure" for name, b in parts.items()
              if b.x0 < box.x0 - 1 or b.y0 < box.y0 - 1 or b.x1 > box.x1 + 1 or b.y1 > box.y1 + 1]
    for (a, ba), (b, bb) in itertools.combinations(parts.items(), 2):
        if min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > 1 and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > 1:
            faults.append(f"{a} overlaps {b}")
    return faults


# --- differences ------------------------------------------------------------------------------

def test_every_box_median_stands_out_from_its_box(sweep):
    """The Rival blocs box is orange: an orange median vanished on it."""
    figure = fig.differences(sweep)
    checked = 0
    for ax in (a for a in figure.axes if a.get_visible()):
        for box in ax.patches:
            extent = box.get_path().get_extents()
            medians = [line for line in ax.get_lines()
                       if len(set(line.get_xdata())) == 1
                       and np.isclose(min(line.get_ydata()), extent.y0)
                       and np.isclose(max(line.get_ydata()), extent.y1)
                       and extent.x0 <= line.get_xdata()[0] <= extent.x1]
            assert medians, ax.get_title()
            assert contrast(medians[0].get_color(), on_white(box.get_facecolor())) >= 3.0
            checked += 1
    from sim.analysis.outcomes import OUTCOMES

    undefined = sum(any(t.get_text() == "not defined in these runs" for t in ax.texts)
                    for ax in figure.axes if ax.get_visible())
    # each key outcome, two scenarios against the reference (none where it is undefined)
    assert checked == 2 * (len([o for o in OUTCOMES if o.key]) - undefined)


def test_difference_ticks_are_written_out_and_counts_are_whole(sweep):
    figure = fig.differences(sweep)
    for ax in (a for a in figure.axes if a.get_visible()):
        labels = tick_labels(ax)
        assert len(labels) >= 2 and ax.xaxis.get_offset_text().get_text() == ""
        for text in labels:  # a plain number: no 2e+03, no -8e-15
            assert "e" not in text.lower()
            float(text.replace(",", "").replace("\N{MINUS SIGN}", "-"))
    propellant = panel(figure, "Propellant made")
    propellant.set_xlim(0, 6500)
    assert tick_labels(propellant) == ["0", "2,000", "4,000", "6,000"]
    incidents = panel(figure, "Incidents")
    assert all(t == round(t) for t in shown_ticks(incidents))
    incidents.set_xlim(-2.5, 0.5)  # a narrow range would have ticks at halves
    assert shown_ticks(incidents) == [-2, -1, 0]


def test_a_difference_that_is_only_rounding_noise_is_not_blown_up(sweep):
    noisy = copy.copy(sweep)
    noise = np.random.default_rng(0).normal(0, 1e-15, len(sweep.runs))
    noisy.runs = sweep.runs.assign(leverage_index=0.8 + noise)
    ax = panel(fig.differences(noisy), "China's rare-earth leverage")
    lo, hi = ax.get_xlim()
    assert lo <= -0.05 and hi >= 0.05  # a tenth of the smallest difference that matters, 0.5 pp
    assert tick_labels(ax) == ["\N{MINUS SIGN}0.05", "0.00", "0.05"]


# --- cooperation, and nothing clipped -------------------------------------------------------

@pytest.mark.parametrize("results", ["plain", "sweep"])
def test_cooperation_says_what_it_shows_and_nothing_is_clipped(results, request):
    data = request.getfixturevalue(results)
    figure = fig.cooperation(data)
    title = figure.get_suptitle()
    assert "played C" in title and "row" in title and "column" in title
    assert ("mean over 8 runs (2 seeds × 4 design points)" if results == "sweep"
            else "mean over 3 seeds") in title
    assert layout_faults(figure) == []


def test_no_comparison_figure_is_clipped_or_drawn_over_itself(sweep):
    for name in ("timeseries", "differences", "nations", "heatmap", "channels"):
        assert layout_faults(fig.FIGURES[name](sweep)) == [], name


# --- what is pooled -----------------------------------------------------------------------

def all_text(figure) -> str:
    parts = [figure.get_suptitle()]
    for ax in figure.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    return " | ".join(parts)


def test_figures_of_a_sweep_say_they_pool_seeds_and_design_points(sweep):
    pooled = "8 runs (2 seeds × 4 design points)"
    texts = {name: all_text(fig.FIGURES[name](sweep))
             for name in ("timeseries", "differences", "nations", "cooperation", "channels")}
    for name, text in texts.items():
        assert pooled in text, name
        assert "over 2 seeds" not in text and "over seeds" not in text, name
    assert "one point per run (seed and design point)" in texts["differences"]
    assert "one point per seed" not in texts["differences"]


def test_figures_without_a_design_speak_of_seeds(plain):
    assert "median and interquartile range over 3 seeds" in all_text(fig.timeseries(plain))
    text = all_text(fig.differences(plain))
    assert "over 3 seeds, one point per seed" in text and "design point" not in text
    assert "over 3 seeds" in all_text(fig.nations(plain))


# --- the heatmap of a sweep ---------------------------------------------------------------

def expected_differences(results: Results, scenario: str, reference: str, outcome: str):
    """Mean over replicates of (scenario - reference) on the same design point and replicate,
    rows race_advantage and columns synergy (both ascending)."""
    runs = results.runs
    a = runs[runs["scenario"] == scenario].set_index(["point", "replicate"])
    b = runs[runs["scenario"] == reference].set_index(["point", "replicate"])
    d = (a[outcome] - b[outcome]).rename("d").to_frame().join(
        a[["economics__synergy", "economics__race_advantage"]])
    return d.pivot_table(index="economics__race_advantage", columns="economics__synergy",
                         values="d")


def heat_panels(figure) -> dict[str, object]:
    return {ax.get_title(): ax for ax in figure.axes if ax.images}


def colour_bar_label(figure) -> str:
    (bar,) = [im.colorbar for ax in figure.axes for im in ax.images if im.colorbar]
    return bar.ax.get_ylabel()


def test_heatmap_shows_the_mean_paired_difference_from_the_reference(sweep):
    figure = fig.heatmap(sweep)
    panels = heat_panels(figure)
    assert set(panels) == {"Rival blocs − Open access", "Multilateral − Open access"}
    for title, scenario in (("Rival blocs − Open access", "rival_blocs"),
                            ("Multilateral − Open access", "multilateral")):
        ax = panels[title]
        expected = expected_differences(sweep, scenario, "open_access", "welfare_total_usd_bn")
        np.testing.assert_allclose(ax.images[0].get_array(), expected.to_numpy())
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0.05", "0.3"]
        assert ax.get_xlabel() == "output gained with partners (economics.synergy)"
        assert ax.get_ylabel() == "racing priority (economics.race_advantage)"
        written = sorted(float(t.get_text().replace("\N{MINUS SIGN}", "-")) for t in ax.texts)
        top = np.abs(expected.to_numpy()).max()
        np.testing.assert_allclose(written, np.sort(expected.to_numpy().ravel()), atol=0.01 * top)
    image = next(iter(panels.values())).images[0]
    assert image.norm.vmax > 0 and image.norm.vmin == -image.norm.vmax  # centred on 0 ...
    assert luminance(image.cmap(image.norm(0.0))) > 0.85  # ... where the map is nearly white
    assert luminance(image.cmap(0.0)) < 0.3 and luminance(image.cmap(1.0)) < 0.3  # diverging
    label = colour_bar_label(figure)
    assert "USD bn" in label and "difference" in label
    assert "Total welfare" in figure.get_suptitle() and "Open access" in figure.get_suptitle()


def test_heatmap_takes_another_reference(sweep):
    default = heat_panels(fig.heatmap(sweep))["Multilateral − Open access"].images[0]
    other = heat_panels(fig.heatmap(sweep, reference="multilateral"))
    assert set(other) == {"Open access − Multilateral", "Rival blocs − Multilateral"}
    np.testing.assert_allclose(other["Open access − Multilateral"].images[0].get_array(),
                               -default.get_array())


@pytest.mark.parametrize(("outcome", "unit"), [
    ("incidents", "count"),  # from OUTCOMES
    ("cooperation_rate", "percentage points"),  # a share, as the differences figure shows it
    ("investment_usd_bn", "USD bn"),  # not an outcome: its unit from the column's suffix
    ("refining_built_t_per_yr", "t/yr"),
])
def test_heatmap_colour_bar_carries_the_unit(sweep, outcome, unit):
    assert f"difference, {unit}" in colour_bar_label(fig.heatmap(sweep, outcome=outcome))


def test_heatmap_needs_a_two_parameter_sweep(plain):
    with pytest.raises(UserError, match="two numeric parameters"):
        fig.heatmap(plain)


# --- one run ------------------------------------------------------------------------------

def test_each_nation_has_its_own_colour_and_the_legend_covers_no_panel(run):
    figure = run.figure()
    welfare = panel(figure, "Cumulative welfare by nation")
    lines = welfare.get_lines()
    assert len(lines) == len(run.names) == 11
    colours = [line.get_color() for line in lines]
    for a, b in itertools.combinations(colours, 2):
        assert np.linalg.norm(lab(a) - lab(b)) > 20, (a, b)
    assert len(figure.legends) == 1
    labels = {t.get_text() for t in figure.legends[0].get_texts()}
    assert {f"{n} (artemis)" for n in ("United States", "Japan", "Canada")} <= labels
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legend = figure.legends[0].get_window_extent(renderer)
    for ax in figure.axes:
        assert not legend.overlaps(ax.get_window_extent(renderer)), ax.get_title()
    assert layout_faults(figure) == []


@pytest.mark.parametrize("incidents", [[0] * 17, [0] * 10 + [1] + [0] * 4 + [1, 0]])
def test_run_incidents_are_ticked_in_whole_numbers(run, incidents):
    model = run.model_series.assign(incidents=incidents)
    figure = run_figure(model, run.nation_series, run.scenario.time.steps_per_year, run.title)
    ax = panel(figure, "Incidents between operators")
    ticks = shown_ticks(ax, "y")
    assert len(ticks) >= 2 and all(t == round(t) for t in ticks)


def test_timeseries_incidents_are_ticked_in_whole_numbers(sweep):
    ax = panel(fig.timeseries(sweep), "Incidents so far")
    ax.set_ylim(0, 2.5)
    assert shown_ticks(ax, "y") == [0, 1, 2]


def test_the_main_comparisons_scenarios_are_told_apart_by_colour_and_named_on_the_axis(plain):
    """Every pair of the default comparison's colours differs by more than 40 in CIELAB (the
    vermillion and orange once given to open access and rival blocs differed by 33), and the
    nations figure names the scenarios on the axis of each row's first panel."""
    from sim.analysis.results import SCENARIO_STYLE
    from sim.experiment import load_experiment

    main = load_experiment("coop_vs_compete").spec.scenarios
    for a, b in itertools.combinations(main, 2):
        assert np.linalg.norm(lab(SCENARIO_STYLE[a][1]) - lab(SCENARIO_STYLE[b][1])) > 40, (a, b)
    figure = fig.nations(plain)
    shown = [ax for ax in figure.axes if ax.get_visible()]
    first = [ax for ax in shown if ax.get_subplotspec().is_first_col()]
    assert first and all([t.get_text() for t in ax.get_yticklabels()]
                         == [plain.label(s) for s in plain.scenarios] for ax in first)
    assert all(not [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
               for ax in shown if ax not in first)
    assert layout_faults(figure) == []


def test_a_change_whose_worth_depends_on_the_side_is_not_called_better(sweep):
    figure = fig.differences(sweep)
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    welfare = next(t for t in titles if t.startswith("Total welfare"))
    leverage = next(t for t in titles if "leverage" in t)
    assert "(higher is better)" in welfare and "better" not in leverage
