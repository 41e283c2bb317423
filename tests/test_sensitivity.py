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
        "economics.interference", "regime.multilateral.sanction_usd_bn_per_yr",
        "strategy.reinforcement.forgetting"], size=3, out=tmp / "out", backend="serial")


def test_a_study_of_the_model_finds_a_planted_null_effect_and_a_real_one(study):
    t = study.table.set_index(["output", "parameter"])["mu_star"]
    open_access = "welfare_total_usd_bn[open_access]"
    # a multilateral sanction cannot touch a world without the regime; nobody plays the
    # reinforcement rule; interference costs output wherever neighbours are hostile
    assert t[(open_access, "regime.multilateral.sanction_usd_bn_per_yr")] == 0
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
            "economics.interference", "regime.multilateral.sanction_usd_bn_per_yr",
            "strategy.reinforcement.forgetting"], size=3, out=study.folder, backend="serial",
            force=True)
    # --force would have cleared the runs: nothing was run, cleared or written
    assert sorted((study.folder / "chunks").iterdir()) == chunks
    assert table.read_text().endswith("my note\n")
