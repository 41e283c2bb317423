"""The documents keep their promises: the README's commands are CI's; every default is calibrated."""

from __future__ import annotations

import re

from helpers import REPO

from sim.rules.regimes import REGIMES
from sim.rules.strategies import STRATEGIES
from sim.scenario.schema import EconomicsSpec, MarketSpec, TimeSpec, TrustSpec


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_opens_with_two_commands_and_ci_runs_the_second():
    first, second = readme_commands()[:2]
    assert "\n" not in first and "\n" not in second
    assert "pip install" in first and "lunarsim " in first
    assert "pip install" in second and "pytest" in second
    ci = (REPO / ".ci" / "run").read_text()
    assert second in ci.splitlines()


def test_every_default_has_a_calibration_row():
    table = (REPO / "docs" / "calibration.md").read_text()
    for spec in (EconomicsSpec, MarketSpec, TrustSpec, TimeSpec):
        for name in spec.model_fields:
            if name in ("pairs", "leverage_holder"):
                continue
            assert f"`{name}`" in table, f"{spec.__name__}.{name} has no row in docs/calibration.md"


def test_odd_describes_every_strategy_and_regime():
    odd = (REPO / "docs" / "ODD.md").read_text()
    for name in (*STRATEGIES.names(), *REGIMES.names()):
        assert f"`{name}`" in odd, f"{name} is not described in docs/ODD.md"


def test_every_test_the_guarantees_page_cites_exists():
    page = (REPO / "docs" / "guarantees.md").read_text()
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", page))
    defined = set(re.findall(r"^def (test_[a-z0-9_]+)\(", "\n".join(
        p.read_text() for p in (REPO / "tests").glob("test_*.py")), flags=re.M))
    assert len(cited) >= 15 and cited <= defined, sorted(cited - defined)


def test_levers_measures_every_ranged_parameter_where_it_acts():
    """benchmarks/levers.py takes its levers from sim/scenario/calibration.toml (whose ends are checked
    in tests/test_calibration.py); a strategy nobody plays is given to the US and China first,
    so that its parameter acts."""
    import sys

    from sim.scenario.calibration import ranged

    sys.path.insert(0, str(REPO / "benchmarks"))
    from levers import levers, outcomes_at

    found = {lever.name: lever for lever in levers()}
    assert list(found) == [p.name for p in ranged()] and len(found) >= 50
    switched = found["strategy.reinforcement.forgetting"]
    assert switched.switch == ("United States", "China")
    assert found["strategy.forward_looking.discount_per_year"].switch == ()
    assert set(outcomes_at(switched, switched.high, seed=0, steps=2)) == {
        "welfare_total_usd_bn", "cooperation_rate", "incidents", "best_site_depletion",
        "leverage_index", "importer_dependence", "ree_price_usd_per_kg", "us_china", "member_years",
        "ree_costs_total_usd_bn", "control_episodes"}


def readme_python() -> list[str]:
    text = (REPO / "README.md").read_text()
    return [block for block in re.findall(r"```python\n(.*?)```", text, flags=re.S)]


def test_every_python_snippet_of_the_readme_runs_as_written(tmp_path):
    """Each ```python block of the README, verbatim, in a fresh interpreter in an empty folder
    (what it writes goes there): a snippet that fails on this Python and Mesa is a bug."""
    import subprocess
    import sys

    blocks = readme_python()
    assert len(blocks) >= 4 and any("batch_run" in b for b in blocks)
    for block in blocks:
        done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"{block}\n{done.stderr[-2000:]}"


def test_paths_are_shown_as_the_reader_can_use_them(tmp_path, monkeypatch):
    from sim.base.shown import shown_command, shown_path

    monkeypatch.chdir(tmp_path)
    assert shown_path(REPO / "scenarios" / "baseline.toml") == "scenarios/baseline.toml"
    assert shown_path(tmp_path / "results" / "x") == "results/x"
    assert shown_path("/somewhere/else/exp.toml") == "exp.toml"
    assert shown_path("relative/as/given") == "relative/as/given"
    assert shown_command(["/home/me/.venv/bin/lunarsim", "compare", "--out",
                          str(tmp_path / "out"), f"--out={tmp_path}/o2"]) == (
        "lunarsim compare --out out --out=o2")
