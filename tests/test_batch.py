"""Batch experiments: the same numbers on any executor, nothing lost or duplicated on resume,
failures recorded, bad experiment files refused in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.base.errors import UserError
from sim.cli import app
from sim.experiment import (
    ResultStore,
    design_points,
    load_experiment,
    replicate_seeds,
    run_experiment,
)
from sim.experiment import worker as worker_module

runner = CliRunner()

SMALL = """
name = "small"
scenarios = ["baseline", "open_access"]
replicates = 3
master_seed = 11
horizon_years = 1.0

[sweep]
"economics.synergy" = [0.05, 0.3]
"""


def experiment_file(tmp_path: Path, text: str = SMALL, name: str = "small.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    store = ResultStore(folder)
    return {t: store.read(t) for t in ("runs", "nations", "series_model", "series_nations")}


def assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def serial_tables(tmp_path_factory) -> dict[str, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("serial")
    outcome = run_experiment(experiment_file(tmp), backend="serial", out=tmp / "out")
    assert outcome.complete and outcome.total == 2 * 2 * 3
    return tables(tmp / "out")


def test_run_table_has_every_run_once_with_paired_seeds(serial_tables):
    runs = serial_tables["runs"]
    assert list(runs["run"]) == list(range(12))
    seeds = runs.groupby("replicate")["seed"].nunique()
    assert (seeds == 1).all()  # replicate k has one seed in every scenario and design point
    assert runs.groupby(["scenario", "economics__synergy"]).size().eq(3).all()
    assert len(serial_tables["series_model"]) == 12 * 5  # steps 0..4
    assert len(serial_tables["nations"]) == 12 * 11


def test_two_processes_give_the_same_tables(tmp_path, serial_tables):
    run_experiment(experiment_file(tmp_path), backend="processes", workers=2, chunk_size=2,
                   out=tmp_path / "out")
    assert_same_tables(serial_tables, tables(tmp_path / "out"))


def test_dask_gives_the_same_tables(tmp_path, serial_tables):
    pytest.importorskip("distributed")
    run_experiment(experiment_file(tmp_path), backend="dask", workers=2, chunk_size=3,
                   out=tmp_path / "out")
    assert_same_tables(serial_tables, tables(tmp_path / "out"))


def test_kill_9_then_resume_gives_exactly_the_uninterrupted_table(tmp_path):
    text = SMALL.replace("replicates = 3", "replicates = 12").replace("horizon_years = 1.0", "horizon_years = 6.0")
    path = experiment_file(tmp_path, text)
    whole = tmp_path / "whole"
    run_experiment(path, backend="serial", out=whole)

    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "batch", str(path), "--out", str(cut),
                             "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((cut / "chunks").glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and all its workers, mid-flight
    proc.wait()
    done_before = ResultStore(cut).committed()[0]
    assert 0 < len(done_before) < 48, "the kill should land part-way"

    outcome = run_experiment(path, backend="processes", workers=2, resume=True, out=cut)
    assert outcome.complete and outcome.ran == 48 - len(done_before)
    assert_same_tables(tables(whole), tables(cut))
    assert not list(cut.rglob(".*.tmp"))


def test_a_batch_killed_outright_leaves_no_process_and_prints_nothing(tmp_path):
    """kill -9 of lunarsim alone: its fork server, workers and multiprocessing's resource
    tracker find out by themselves and go, without a word on the user's terminal (the tracker
    used to warn of the semaphores it freed)."""
    text = SMALL.replace("replicates = 3", "replicates = 12").replace("horizon_years = 1.0", "horizon_years = 6.0")
    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "batch", str(experiment_file(tmp_path, text)),
                             "--out", str(cut), "--workers", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((cut / "chunks").glob("*.json")):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)  # every process that shares its stderr has ended
    assert stderr == ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("a process of the killed batch is still running")


def test_a_failing_run_is_recorded_and_the_rest_complete(tmp_path, monkeypatch):
    real = worker_module.run_scenario

    def flaky(scenario, seed, **kwargs):
        if scenario.name == "open_access" and seed == replicate_seeds(11, 3)[1]:
            raise ZeroDivisionError("simulated fault")
        return real(scenario, seed, **kwargs)

    monkeypatch.setattr(worker_module, "run_scenario", flaky)
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(experiment_file(tmp_path)), "--backend", "serial",
                                 "--out", str(out)])
    assert result.exit_code == 1
    assert "2 runs failed" in result.stderr  # open_access, replicate 1, at both design points
    store = ResultStore(out)
    failures = store.read("failures")
    assert list(failures["scenario"]) == ["open_access", "open_access"]
    assert (failures["replicate"] == 1).all()
    assert failures["traceback"].str.contains("ZeroDivisionError: simulated fault").all()
    assert len(store.read("runs")) == 10

    monkeypatch.setattr(worker_module, "run_scenario", real)  # the fault is mended: resume
    outcome = run_experiment(experiment_file(tmp_path), backend="serial", resume=True, out=out)
    assert outcome.complete and outcome.ran == 2 and store.read("failures").empty
    assert len(store.read("runs")) == 12


def test_a_finished_batch_run_again_does_nothing_and_a_changed_one_is_refused(tmp_path):
    path = experiment_file(tmp_path)
    out = tmp_path / "out"
    run_experiment(path, backend="serial", out=out)
    before = tables(out)
    again = run_experiment(path, backend="serial", resume=True, out=out)
    assert again.ran == 0
    assert_same_tables(before, tables(out))
    once_more = run_experiment(path, backend="serial", out=out)  # the README's order: no flag
    assert once_more.ran == 0 and once_more.complete
    assert_same_tables(before, tables(out))
    experiment_file(tmp_path, SMALL.replace("0.3]", "0.4]"))
    with pytest.raises(UserError, match="different experiment"):
        run_experiment(path, backend="serial", resume=True, out=out)


BAD = {
    "unknown scenario": ('scenarios = ["baseline", "atlantis"]', "scenarios.1: unknown scenario 'atlantis'"),
    "unknown parameter": ('scenarios = ["baseline"]\n[sweep]\n"economics.synergyy" = [0.1]',
                          "sweep.economics.synergyy: economics.synergyy: unknown key"),
    "value out of range": ('scenarios = ["baseline"]\n[sweep]\n"economics.synergy" = [0.1, 3.0]',
                           "economics.synergy: Input should be less than or equal to 1"),
    "empty sweep": ('scenarios = ["baseline"]\n[sweep]\n"economics.synergy" = []',
                    "sweep: economics.synergy: empty list of values"),
    "negative replicates": ('scenarios = ["baseline"]\nreplicates = -2',
                            "replicates: Input should be greater than or equal to 1"),
    "unknown key": ('scenarios = ["baseline"]\nreplicate = 2', "replicate: unknown key"),
    "sobol not a power of 2": ('scenarios = ["baseline"]\n[sample]\nmethod = "sobol"\npoints = 10\n'
                               'ranges = { "economics.synergy" = [0.0, 0.5] }', "power of 2"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_files_get_one_line_and_write_nothing(tmp_path, case):
    text, expected = BAD[case]
    path = experiment_file(tmp_path, f'name = "bad"\n{text}\n', "bad.toml")
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(path), "--backend", "serial", "--out", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and expected in lines[0], lines
    assert not out.exists()


def test_latin_hypercube_design_is_stratified_and_reproducible(tmp_path):
    text = ('name = "lhs"\nscenarios = ["baseline"]\n[sample]\nmethod = "lhs"\npoints = 8\n'
            'ranges = { "economics.synergy" = [0.0, 0.4], "economics.interference" = [0.1, 0.3] }\n')
    spec = load_experiment(experiment_file(tmp_path, text, "lhs.toml")).spec
    points = design_points(spec)
    assert points == design_points(spec)
    for path, (lo, hi) in spec.sample.ranges.items():
        values = np.array([p[path] for p in points])
        bins = np.floor((values - lo) / (hi - lo) * 8).astype(int)
        assert sorted(bins) == list(range(8))  # one point in each eighth of every range


def test_seeds_are_drawn_from_the_master_seed_and_extend_stably():
    seeds = replicate_seeds(2026, 5)
    assert seeds == replicate_seeds(2026, 5) and len(set(seeds)) == 5
    assert replicate_seeds(2026, 8)[:5] == seeds
    assert replicate_seeds(2027, 5) != seeds


def test_a_full_disk_stops_the_batch_in_one_line_and_resume_finishes_it(tmp_path, monkeypatch):
    import errno

    from sim.experiment import worker as store_module  # where a chunk's parts are written

    real = store_module.atomic_write_parquet
    writes = {"n": 0}

    def filling_up(path, frame):
        writes["n"] += 1
        if writes["n"] > 7:  # the disk fills during the second chunk
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, frame)

    monkeypatch.setattr(store_module, "atomic_write_parquet", filling_up)
    path = experiment_file(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(path), "--backend", "serial", "--out", str(out)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "--resume" in lines[0]
    done = ResultStore(out).committed()[0]
    assert 0 < len(done) < 12

    monkeypatch.setattr(store_module, "atomic_write_parquet", real)  # space is freed
    outcome = run_experiment(path, backend="serial", resume=True, out=out)
    assert outcome.complete and outcome.ran == 12 - len(done)
    assert list(ResultStore(out).read("runs")["run"]) == list(range(12))
    assert not list(out.rglob(".*.tmp"))


def test_results_of_other_model_code_are_never_finished_with_this_codes_runs(tmp_path,
                                                                              monkeypatch):
    """Resuming mixes two models' numbers if the code changed in between: refused, by name."""
    from sim.experiment import batch

    path = experiment_file(tmp_path, SMALL.replace("replicates = 3", "replicates = 1"))
    run_experiment(path, backend="serial", out=tmp_path / "out")
    assert run_experiment(path, backend="serial", out=tmp_path / "out", resume=True).ran == 0
    monkeypatch.setattr(batch, "model_sha256", lambda: "0" * 64)
    with pytest.raises(UserError, match="made by another version of the model's code; --force"):
        run_experiment(path, backend="serial", out=tmp_path / "out", resume=True)


def test_the_model_hash_covers_every_module_that_computes_a_run():
    """A results folder is finished only by the same model code (its SHA-256 over MODEL_CODE).
    Every module of the economy, the rules, the scenario reader and the model that a run of
    each regime imports must be in it, or a change there (the investment rule was once left
    out) would mix two models' numbers in one folder."""
    import sim
    from sim.experiment.batch import MODEL_CODE

    code = ("import sys; from pathlib import Path; from sim import run_scenario, load_scenario\n"
            "for name in ('multilateral', 'us_china_cooperation', 'ree_export_control'):\n"
            "    run_scenario(load_scenario(name), 0, steps=6)\n"
            "root = Path(sys.modules['sim'].__file__).resolve().parent\n"
            "print('\\n'.join(str(Path(m.__file__).resolve().relative_to(root))\n"
            "                 for n, m in sys.modules.items()\n"
            "                 if n.startswith('sim.') and getattr(m, '__file__', None)))")
    used = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()
    computing = [m for m in used if m.split("/")[0] in ("economy", "rules", "scenario", "model")]
    assert "economy/invest.py" in computing and "model/membership.py" in computing
    package = Path(sim.__file__).resolve().parent  # the files the hash reads, as it reads them
    hashed = {path.relative_to(package).as_posix() for pattern in MODEL_CODE
              for path in package.glob(pattern)}
    assert [m for m in computing if m not in hashed] == []
