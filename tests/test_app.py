"""The interactive page's state, figures and command, without a browser (the page itself is
driven in Chromium by tests/test_app_browser.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim import load_scenario, run_scenario
from sim.app.session import KEY, Session, settable
from sim.base.errors import UserError
from sim.cli import app
from sim.experiment.run import headline, nation_rows
from sim.scenario import calibration

runner = CliRunner()


def same_outcomes(a, b) -> None:
    assert a.overall == pytest.approx(b.overall, nan_ok=True, rel=0, abs=0)
    np.testing.assert_array_equal(a.nation_columns["welfare_usd_bn"], b.nation_columns["welfare_usd_bn"])


def test_stepping_on_the_page_gives_the_numbers_of_a_run_of_that_many_steps():
    """Two scenarios stepped side by side, in uneven clicks, each equal to its own run."""
    session = Session(["baseline", "open_access"], seed=3)
    for count in (1, 4, 2, 5):
        session.step(count)
    assert session.steps == 12
    for side, name in zip(session.sides, ("baseline", "open_access"), strict=True):
        same_outcomes(side.result, run_scenario(load_scenario(name), 3, 12))


def test_a_moved_parameter_is_the_set_that_the_page_prints():
    session = Session(["baseline"], seed=1, values={"economics.synergy": 0.35,
                                                    "trust.across_bloc": 0.12})
    session.step(9)
    command = session.command(0)
    assert command == ("lunarsim run baseline --seed 1 --steps 9 --set economics.synergy=0.35 "
                       "--set trust.across_bloc=0.12")
    spec = load_scenario("baseline", ["economics.synergy=0.35", "trust.across_bloc=0.12"])
    same_outcomes(session.sides[0].result, run_scenario(spec, 1, 9))
    plain = Session(["baseline"], seed=1)
    plain.step(9)
    assert plain.sides[0].result.overall != session.sides[0].result.overall  # it did act


def test_the_printed_command_prints_the_numbers_the_page_shows(tmp_path):
    session = Session(["open_access"], seed=4, values={"economics.interference": 0.3})
    session.step(6)
    args = session.command(0).split()[1:] + ["--out", str(tmp_path / "run"), "--no-figure"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    shown = " · ".join(f"{what} {value}" for what, value in headline(session.sides[0].result))
    assert shown in result.output
    for row in nation_rows(session.sides[0].result):
        assert " ".join(row[2:]) in " ".join(result.output.split())


def test_parameters_without_a_one_field_set_print_no_command():
    session = Session(["baseline"], values={"strategy.tremble": 0.05})
    assert not settable(calibration.get("strategy.tremble")) and session.command(0) is None
    tremble = {n.strategy.tremble for n in session.sides[0].model.spec.nations}
    assert tremble == {0.05}  # every nation's, as the calibration entry says


def test_steps_stop_at_the_horizon_and_reset_starts_again():
    session = Session(["two_player_pd"], seed=2)
    session.step(10_000)
    assert session.done and session.steps == session.horizon
    session.step(1)
    assert session.steps == session.horizon
    again = Session(["two_player_pd"], seed=2)
    assert again.steps == 0 and not again.done


def test_a_slider_runs_over_the_calibrated_range_and_starts_at_the_scenarios_value():
    session = Session(["baseline", "multilateral"])
    names = [c.name for c in session.controls]
    assert names[: len(KEY)] == list(KEY)  # the key ones first
    assert "regime.multilateral.benefit_share" in names  # acts in the second scenario
    assert "regime.multilateral.benefit_share" not in [
        c.name for c in Session(["baseline"]).controls]  # and nowhere in the baseline alone
    spec = load_scenario("baseline")
    for control in session.controls:
        low, high = control.parameter.range
        assert control.value(0.0) == pytest.approx(low, rel=1e-3)
        assert control.value(1.0) == pytest.approx(high, rel=1e-3)
        if control.parameter.relative:
            assert control.default == 1.0
        # the slider's own position gives back the default, to the 3 figures the label shows
        assert control.value(control.position(control.default)) == pytest.approx(
            control.default, rel=5e-3)
    synergy = next(c for c in session.controls if c.name == "economics.synergy")
    assert synergy.default == spec.economics.synergy


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"scenarios": ["nowhere.toml"]}, "nowhere.toml: no such scenario file"),
    ({"scenarios": ["baseline"], "seed": -1}, "seed -1"),
    ({"scenarios": []}, "choose one scenario"),
    ({"scenarios": ["baseline"], "values": {"regime.multilateral.escalation": 1.0}},
     "not a parameter of these scenarios"),
    ({"scenarios": ["baseline"], "values": {"economics.recovery_fraction": 1.5}},
     "the page's controls"),
])
def test_a_choice_the_model_cannot_take_is_one_line(kwargs, words):
    with pytest.raises(UserError) as err:
        Session(**kwargs)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_figures_show_the_models_state():
    from sim.app import figures

    session = Session(["baseline", "open_access"], seed=5)
    empty = figures.site_map(session.sides[0])
    assert any("no site is worked yet" in t.get_text() for t in empty.axes[0].texts)
    session.step(8)
    side = session.sides[0]
    matrix = figures.cooperation_matrix(side)
    np.testing.assert_array_equal(matrix.axes[0].images[0].get_array().filled(np.nan),
                                  side.result.pair_share)
    sites = figures.site_map(side)
    labels = [t.get_text() for t in sites.axes[0].texts]
    ice = [s for s in side.model.spec.sites if s.kind == "ice"]
    for k, site in enumerate(side.model.spec.sites):
        if site.kind == "ice":
            left = side.model.state.reserve_t[k] / side.model.world.initial_reserve_t[k]
            assert f"{site.name}\n{left:.0%} left" in labels
    worked = {text.get_text() for text in sites.axes[0].get_legend().get_texts()}
    working = side.model.state.capacity_t_per_yr[:, None] * side.model.state.allocation
    ice_index = [k for k, s in enumerate(side.model.spec.sites) if s.kind == "ice"]
    expected = {side.model.names[i] for i in np.nonzero(working[:, ice_index].sum(axis=1))[0]}
    assert worked == expected and len(ice) > 0
    lines = figures.over_time(session).axes[0].get_lines()
    assert [len(line.get_xdata()) for line in lines] == [9, 9]  # step 0 to 8, both scenarios
    np.testing.assert_array_equal(lines[1].get_ydata(),
                                  session.sides[1].result.model_columns["welfare_total_usd_bn"])


def test_the_app_command_names_a_bad_file_or_a_busy_port_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[economics]\nsynergy = "lots"\n')
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for args, words in [([str(bad)], f"{bad}:"), (["--port", str(port)], "cannot serve there"),
                            ([str(tmp_path / "none.toml")], "no such scenario file")]:
            proc = subprocess.run([sys.executable, "-m", "sim", "app", *args], capture_output=True,
                                  text=True, check=False, timeout=60)
            assert proc.returncode == 2, proc.stderr
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and words in lines[0], proc.stderr
            assert proc.stdout == ""


def test_the_page_lists_a_users_file_first(tmp_path, monkeypatch):
    """`lunarsim app FILE` hands the file to the page, which offers it and shows it first."""
    import importlib
    import json

    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "two_player_pd"\nname = "mine"\n')
    monkeypatch.setenv("LUNARSIM_APP_SCENARIOS", json.dumps([str(mine)]))
    page = importlib.reload(importlib.import_module("sim.app.page"))
    try:
        assert page.OFFERED[-1] == str(mine) and page.first.value == "mine.toml"  # not its path
        assert page.CHOSEN["mine.toml"] == str(mine)
        assert page.SHOWN["us_china_cooperation"] == "US-China cooperation"
        session = page.build((str(mine),), 0, (), 0)
        assert isinstance(session, Session) and session.sides[0].name == "mine"
        assert isinstance(page.build((str(Path(tmp_path / "gone.toml")),), 0, (), 0), str)
    finally:
        monkeypatch.delenv("LUNARSIM_APP_SCENARIOS")
        importlib.reload(page)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death "
                    "signal is Linux's; elsewhere Ctrl-C and SIGTERM stop the server")
def test_the_server_goes_when_lunarsim_is_killed_outright():
    """kill -9 of ``lunarsim app``: its Solara process, which serves the page, goes with it
    and the port is free again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sim", "app", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _serving(port):
            assert proc.poll() is None and time.monotonic() < deadline, "the page never served"
            time.sleep(0.3)
        children = _children(proc.pid)
        assert children, "the server runs in a process of its own"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in children) or _serving(port):
            assert time.monotonic() < deadline, "the page is still served after lunarsim died"
            time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _serving(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie that its new parent has not reaped yet has stopped serving)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
