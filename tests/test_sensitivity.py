"""Sensitivity analysis: SALib's indices recovered for a function with known ones (Ishigami)
through the code the model's studies use, and a study of the model that finds a planted null
effect and a real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.base.errors import UserError
from sim.cli import app
from sim.explore import sensitivity as sa
from sim.scenario.calibration import Parameter

runner = CliRunner()
PI = float(np.pi)
ISHIGAMI = [Parameter(name=f"economics.x{k}", label=f"x{k}", unit="", source="test",
                      range=(-PI, PI)) for k in (1, 2, 3)]


def ishigami(points: list[dict[str, float]], a: float = 7.0, b: float = 0.1) -> np.ndarray:
    x = np.array([[p[q.name] for q in ISHIGAMI] for p in points])
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def indices(method: sa.Method, size: int) -> pd.DataFrame:
    unit = sa.unit_design(method, ISHIGAMI, size, seed=1)
    y = ishigami(sa.points(ISHIGAMI, unit))
    return pd.DataFrame(sa._indices(method, sa._problem(ISHIGAMI), unit, y, 4, 200, 1)
                        ).set_index("parameter")


def test_sobol_indices_of_the_ishigami_function_are_recovered():
    # analytic values (a = 7, b = 0.1; Saltelli et al. 2010): S1 = .314, .442, 0; ST = .558, .442, .244
    found = indices("sobol", 2048)
    np.testing.assert_allclose(found["S1"], [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(found["ST"], [0.558, 0.442, 0.244], atol=0.05)
    assert (found["S1_conf"] > 0).all() and (found["S1_conf"] < 0.1).all()


def test_morris_ranks_the_ishigami_inputs_and_flags_the_interaction():
    found = indices("morris", 200)
    # x3 acts only through its interaction with x1: its effects vary in sign (mu near 0
    # against mu*) and spread widely (sigma above mu*)
    assert found.loc["economics.x3", "sigma"] > found.loc["economics.x3", "mu_star"]
    assert abs(found.loc["economics.x3", "mu"]) < 0.5 * found.loc["economics.x3", "mu_star"]
    assert found["mu_star"].min() > 0


def test_the_design_is_reproducible_and_moves_one_parameter_a_step():
    params = sa.select(["economics.synergy", "economics.capacity_cost_usd_per_t_yr", "trust.*"])
    a = sa.points(params, sa.unit_design("morris", params, 3, seed=5))
    assert a == sa.points(params, sa.unit_design("morris", params, 3, seed=5))
    assert a != sa.points(params, sa.unit_design("morris", params, 3, seed=6))
    per_trajectory = len(params) + 1
    for t in range(3):
        path = a[t * per_trajectory:(t + 1) * per_trajectory]
        for before, after in zip(path, path[1:], strict=False):
            assert sum(before[k] != after[k] for k in before) == 1
    costs = [p["economics.capacity_cost_usd_per_t_yr"] for p in a]
    assert min(costs) >= 2000 and max(costs) <= 200_000  # scaled onto the range, on a log scale


def test_parameters_are_chosen_by_name_or_pattern_and_mistakes_refused():
    assert {p.name for p in sa.select(["market.coercion_*", "economics.synergy"])} == {
        "market.coercion_weight", "economics.synergy"}
    with pytest.raises(UserError, match="'nope.*' names no parameter"):
        sa.select(["nope.*"])
    with pytest.raises(UserError, match="at least two"):
        sa.select(["economics.synergy"])
    with pytest.raises(UserError, match="power of 2"):
        sa.unit_design("sobol", sa.select(["economics.*"]), 12, seed=0)


TINY = """
name = "tiny"
scenarios = ["open_access", "multilateral"]
reference = "open_access"
replicates = 1
master_seed = 3
horizon_years = 2.0
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> sa.Study:
    tmp = tmp_path_factory.mktemp("sensitivity")
    (tmp / "tiny.toml").write_text(TINY)
    return sa.run_study(tmp / "tiny.toml", parameters=[
        "economics.interference", "regime.multilateral.fine_multiple",
        "strategy.reinforcement.forgetting"], size=3, out=tmp / "out", backend="serial")


def test_a_study_of_the_model_finds_a_planted_null_effect_and_a_real_one(study):
    t = study.table.set_index(["output", "parameter"])["mu_star"]
    open_access = "welfare_total_usd_bn[open_access]"
    # a multilateral sanction cannot touch a world without the regime; nobody plays the
    # reinforcement rule; interference costs output wherever neighbours are hostile
    assert t[(open_access, "regime.multilateral.fine_multiple")] == 0
    assert t[(open_access, "strategy.reinforcement.forgetting")] == 0
    assert t[(open_access, "economics.interference")] > 0
    written = pd.read_csv(study.folder / "sensitivity.csv")
    assert len(written) == len(study.table) and (study.folder / "figures" / "sensitivity.png").is_file()


def test_the_command_line_refuses_mistakes_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where results/tiny-morris is not
    Path("tiny.toml").write_text(TINY)
    for args, expected in [(["--method", "fast"], "--method: expected morris or sobol"),
                           (["-p", "nope"], "'nope' names no parameter"),
                           (["--method", "sobol"], "run 'lunarsim explore sensitivity --method "
                                                   "morris' first")]:
        result = runner.invoke(app, ["explore", "sensitivity", "tiny.toml", *args])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0], result.stderr
    assert not Path("results").exists()


def test_a_table_the_user_changed_is_refused_before_any_run(study):
    table = study.folder / "sensitivity.csv"
    table.write_text(table.read_text() + "my note\n")
    chunks = sorted((study.folder / "chunks").iterdir())
    with pytest.raises(UserError, match="sensitivity.csv: changed since lunarsim wrote it"):
        sa.run_study(study.folder.parent / "tiny.toml", parameters=[
            "economics.interference", "regime.multilateral.fine_multiple",
            "strategy.reinforcement.forgetting"], size=3, out=study.folder, backend="serial",
            force=True)
    # --force would have cleared the runs: nothing was run, cleared or written
    assert sorted((study.folder / "chunks").iterdir()) == chunks
    assert table.read_text().endswith("my note\n")


# --- designs refused before anything is sampled, and a damaged Morris table -------------------

@pytest.mark.parametrize("args, expected", [
    (["--size", "100000000"], "--size 100000000: 100,000,000 trajectories of 4 points is "
                              "400,000,000 design points; at most 100,000"),
    # 10 trajectories of 4 points x 2 scenarios x 1e8 replicates = 8e9 runs
    (["--size", "10", "--replicates", "100000000"], "is 8,000,000,000 runs; at most 1,000,000"),
    (["--levels", "5"], "--levels 5: Morris needs an even number of grid levels"),
    (["--method", "sobol", "--size", "100"], "--size 100: Sobol needs a power of 2"),
    (["--method", "sobol", "--size", str(2 ** 40)], "design points; at most 100,000"),
])
def test_a_design_too_large_or_ill_formed_is_refused_before_it_is_sampled(tmp_path, monkeypatch,
                                                                          args, expected):
    import SALib.sample.morris
    import SALib.sample.sobol

    def never(*a, **k):
        raise AssertionError("sampled before the design was checked")

    monkeypatch.setattr(SALib.sample.morris, "sample", never)
    monkeypatch.setattr(SALib.sample.sobol, "sample", never)
    monkeypatch.chdir(tmp_path)
    Path("tiny.toml").write_text(TINY)
    result = runner.invoke(app, ["explore", "sensitivity", "tiny.toml", "-p", "economics.synergy",
                                 "-p", "economics.interference", "-p", "market.coercion_weight",
                                 *args])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0], result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


MORRIS_HEAD = "output,parameter,headline,mu_star\n"


@pytest.mark.parametrize("content, expected", [
    (b"", "not a readable table"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a readable table"),
    (b"a,b\n1,2\n", "no column output, parameter, headline, mu_star"),
    (MORRIS_HEAD.encode(), "has no rows"),
    ((MORRIS_HEAD + "x,economics.synergy,maybe,1\n").encode(), "column headline"),
    ((MORRIS_HEAD + "x,economics.synergy,True,inf\n").encode(), "column mu_star"),
    ((MORRIS_HEAD + "x,economics.synergy,True,1\nx,mars.dust,True,1\n").encode(),
     "'mars.dust' is not a parameter with a range"),
    ((MORRIS_HEAD + "x,economics.synergy,True,1\nx,economics.interference,True,0.01\n").encode(),
     "found 1 parameter(s) that matter; Sobol needs two"),
])
def test_sobol_refuses_a_damaged_morris_table_in_one_line(tmp_path, monkeypatch, content,
                                                          expected):
    monkeypatch.chdir(tmp_path)
    Path("tiny.toml").write_text(TINY)
    table = tmp_path / "results" / "tiny-morris" / "sensitivity.csv"
    table.parent.mkdir(parents=True)
    table.write_bytes(content)
    result = runner.invoke(app, ["explore", "sensitivity", "tiny.toml", "--method", "sobol"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {Path('results/tiny-morris/sensitivity.csv')}: ")
    assert expected in lines[0], lines[0]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["tiny-morris"]
    assert table.read_bytes() == content


def test_ctrl_c_stops_a_sobol_study_between_its_chunks_and_resume_finishes_it(tmp_path):
    """Ctrl-C to the study's process group once chunks are committed: exit 130 in one line,
    the finished runs kept; --resume runs only the rest."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from sim.experiment import ResultStore

    (tmp_path / "tiny.toml").write_text(TINY.replace("horizon_years = 2.0", "horizon_years = 3.0"))
    out = tmp_path / "out"
    args = [sys.executable, "-m", "sim", "explore", "sensitivity", str(tmp_path / "tiny.toml"),
            "--method", "sobol", "-p", "economics.synergy", "-p", "economics.interference",
            "--size", "16", "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,  # a terminal's Ctrl-C reaches the group
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list((out / "chunks").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines() == ["interrupted: finished runs are kept; --resume completes the "
                                   "rest"]
    kept = len(ResultStore(out).committed()[0])
    assert 0 < kept < 128  # 16 base points x (2 + 2) x 2 scenarios
    result = runner.invoke(app, ["explore", "sensitivity", str(tmp_path / "tiny.toml"),
                                 "--method", "sobol", "-p", "economics.synergy", "-p",
                                 "economics.interference", "--size", "16", "--resume",
                                 "--backend", "serial", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert f"128 of 128 runs done ({128 - kept} this time)" in result.stdout


@pytest.mark.parametrize("value, half, share, expected", [
    (37.0, 44.0, False, (0.0, 81.0)),  # μ* cannot be negative: cut at 0, not "37 ± 44"
    (5.0, 1.0, False, (4.0, 6.0)),
    (1.11, 2.0, True, (0.0, 1.0)),  # a share of variance: 0 to 1
    (0.3, 0.1, True, (0.2, 0.4)),
])
def test_intervals_are_shown_within_what_the_quantity_can_take(value, half, share, expected):
    from sim.explore.sensitivity import interval

    assert interval(value, half, share) == pytest.approx(expected)


def test_a_sobol_estimate_from_equal_base_values_is_said_in_the_table_not_warned():
    """Where the base sample's values are all equal but the output moves elsewhere (a paired
    difference that is 0 at most points, at a small --size), SALib warns and sets the index to
    0: the table says so in its note, and nothing reaches the terminal."""
    import warnings

    from SALib.sample import sobol as sample

    from sim.explore.sensitivity import _indices

    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0]] * 2}
    unit = sample.sample(problem, 8, calc_second_order=False, seed=1)
    y = np.zeros(len(unit))
    y[1::4] = unit[1::4, 0]  # moves only in rows of the AB matrices, not in A or B
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = _indices("sobol", problem, unit, y, 4, 200, 0)
    assert not caught
    assert all("equal values in the base sample" in r["note"] for r in rows)
    varied = _indices("sobol", problem, unit, unit[:, 0] + 0.1 * unit[:, 1], 4, 200, 0)
    assert all(r["note"] == "" for r in varied)


def test_the_command_says_a_headline_output_s_note_under_its_table(tmp_path, monkeypatch):
    """A headline output whose Sobol estimate met equal base values: the note the table keeps
    is printed under that output's ranking, so a reader of the terminal sees why its indices
    are 0."""
    from types import SimpleNamespace

    import sim.explore.sensitivity as module

    note = "equal values in the base sample or its resamples: indices set to 0 there (SALib)"
    table = pd.DataFrame([{"output": "x", "label": "Total welfare", "unit": "USD bn",
                           "headline": True, "parameter": f"p{k}", "parameter_label": f"P {k}",
                           "note": note, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0}
                          for k in range(2)])
    outcome = SimpleNamespace(notes=(), done=4, total=4, ran=4, folder=tmp_path, failed=0)
    monkeypatch.setattr(module, "run_study", lambda *a, **k: SimpleNamespace(
        outcome=outcome, table=table, folder=tmp_path))
    result = CliRunner().invoke(app, ["explore", "sensitivity", "--method", "sobol"])
    assert result.exit_code == 0, result.output
    assert f"note: {note}" in " ".join(result.output.split())
