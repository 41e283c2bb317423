"""What lunarsim promises about users' files and results (docs/guarantees.md), tried as a
careless or hostile user would: each bad input is refused in one line with exit code 2, no
traceback, and nothing on disk changed; two writers never share a folder; a worker that dies,
a killed batch or a damaged results folder loses nothing and counts nothing twice."""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import KillOnRun
from typer.testing import CliRunner

from sim.base.errors import RunFailed, UserError
from sim.base.io import STAGE_MARK
from sim.base.lock import LOCK_NAME, FolderLock
from sim.cli import app
from sim.experiment import ResultStore, run_experiment
from sim.experiment.run import check_finite, run_scenario
from sim.scenario import load_scenario

runner = CliRunner()

TINY = """
name = "tiny"
[[nations]]
name = "A"
bloc = "a"
budget_usd_bn = 1.0
strategy = "tit_for_tat"
[[nations]]
name = "B"
bloc = "b"
budget_usd_bn = 1.0
strategy = "always_compete"
[[sites]]
name = "S"
kind = "ice"
reserve_t = 1000.0
grade = 0.05
capacity_t_per_yr = 100.0
illumination = 0.5
lat = -89.0
lon = 0.0
"""
EXPERIMENT = """
name = "exp"
scenarios = ["open_access", "artemis_accords"]
replicates = 3
master_seed = 5
horizon_years = 1.0
"""


# --- helpers ---------------------------------------------------------------------------------


def tree(root: Path) -> dict[str, tuple]:
    """Everything under ``root`` (hidden entries too): kind, mode, size, content hash, link
    target, and for folders their time (which changes when anything in them is added or
    removed, even if it is removed again)."""
    found = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = path.lstat()
        kind = stat.S_IFMT(st.st_mode)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
        target = os.readlink(path) if path.is_symlink() else ""
        when = st.st_mtime_ns if stat.S_ISDIR(st.st_mode) else 0
        found[str(path.relative_to(root))] = (kind, st.st_mode, st.st_size, digest, target, when)
    return found


def refused(result, expected: str) -> str:
    """Exit code 2, exactly one line on stderr starting ``error:`` and holding ``expected``,
    and no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished results folder (six runs, one chunk each) that tests copy and damage."""
    folder = tmp_path_factory.mktemp("finished") / "exp"
    experiment = folder.parent / "exp.toml"
    experiment.write_text(EXPERIMENT)
    outcome = run_experiment(experiment, backend="serial", out=folder, chunk_size=1)
    assert outcome.complete
    return folder


@pytest.fixture()
def ws(tmp_path, monkeypatch, finished) -> Path:
    """A user's working folder, as the current directory: their own files, a scenario, an
    experiment, a finished results folder, and a folder of theirs."""
    root = tmp_path / "ws"
    (root / "thesis").mkdir(parents=True)
    (root / "thesis" / "thesis.tex").write_text("\\chapter{Moon}\n")
    (root / "notes.txt").write_text("mine\n")
    (root / "figure.png").write_bytes(b"\x89PNG a picture of the user's")
    (root / "tiny.toml").write_text(TINY)
    (root / "exp.toml").write_text(EXPERIMENT)
    shutil.copytree(finished, root / "results" / "exp")
    monkeypatch.chdir(root)
    return root


def _invoke(args: list[str]):
    return runner.invoke(app, args, env={"COLUMNS": "200"})


# --- every bad input: one line, exit 2, nothing touched --------------------------------------

SCHEDULER_DOWN = "tcp://127.0.0.1:9"  # the discard port: nothing listens there


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda ws: (ws / name).write_text(text)


def _tiny_with(extra: str, name: str = "bad.toml") -> Callable[[Path], None]:
    return _write(name, TINY + extra)


def _nation(name_toml: str, extra: str = "") -> Callable[[Path], None]:
    return _write("bad.toml", TINY + f'[[nations]]\nname = {name_toml}\nbloc = "c"\n'
                  f'budget_usd_bn = 1.0\nstrategy = "tit_for_tat"\n{extra}')


def _symlink(ws: Path) -> None:
    (ws / "link").symlink_to(ws / "thesis")


def _extends_a_folder(ws: Path) -> None:
    (ws / "parent.toml").mkdir()
    (ws / "child.toml").write_text('extends = "parent.toml"\n')


def _manifest(text: str) -> Callable[[Path], None]:
    return lambda ws: (ws / "results" / "exp" / "manifest.json").write_text(text)


def _manifest_field(field: str, value: object) -> Callable[[Path], None]:
    def edit(ws: Path) -> None:
        path = ws / "results" / "exp" / "manifest.json"
        path.write_text(json.dumps(json.loads(path.read_text()) | {field: value}))
    return edit


def _special(name: str, kind: str) -> Callable[[Path], None]:
    """Replace a file of the results folder by a FIFO or a link to /dev/zero."""
    def setup(ws: Path) -> None:
        path = ws / "results" / "exp" / name
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to("/dev/zero")
    return setup


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda ws: (ws / name).write_bytes(data)


def _first_part(folder: Path, table: str = "runs") -> Path:
    return sorted((folder / table).glob("*.parquet"))[0]


def _socket_lock(ws: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(ws / "results" / "exp" / LOCK_NAME))
    server.close()


def _extended_schema(ws: Path) -> None:
    assert _invoke(["scenarios", "schema", "--out", "s.json"]).exit_code == 0
    schema = json.loads((ws / "s.json").read_text())
    schema["title"] = "my extended schema"
    (ws / "s.json").write_text(json.dumps(schema))


def _edited_run_manifest(ws: Path) -> None:
    assert _invoke(["run", "tiny.toml", "--steps", "2", "--out", "myrun"]).exit_code == 0
    manifest = json.loads((ws / "myrun" / "manifest.json").read_text())
    (ws / "myrun" / "manifest.json").write_text(json.dumps(manifest | {"my_notes": "keep"}))


def _part_as_a_folder(ws: Path) -> None:
    part = _first_part(ws / "results" / "exp")
    part.unlink()
    part.mkdir()


def _own_run_folder_with_a_user_file(ws: Path) -> None:
    assert _invoke(["run", "tiny.toml", "--steps", "2", "--out", "old", "--no-figure"]).exit_code == 0
    (ws / "old" / "my_notes.md").write_text("mine\n")


CASES: dict[str, tuple[Callable[[Path], None] | None, list[str], str]] = {
    # 1. --out never replaces what lunarsim did not write
    "run --out a user's folder": (None, ["run", "tiny.toml", "--out", "thesis"],
                                  "--out thesis: exists and is not a lunarsim run folder"),
    "run --out a results folder": (None, ["run", "tiny.toml", "--out", "results/exp"],
                                   "is not a lunarsim run folder"),
    "run --out a run folder the user added to": (
        _own_run_folder_with_a_user_file, ["run", "tiny.toml", "--out", "old"],
        "is not a lunarsim run folder"),
    "run --out a user's file": (None, ["run", "tiny.toml", "--out", "notes.txt"],
                                "--out notes.txt: exists and is not a folder"),
    "run --out a device": (None, ["run", "tiny.toml", "--out", "/dev/null"], "is not a folder"),
    "run --out a symlink": (_symlink, ["run", "tiny.toml", "--out", "link"], "is not a folder"),
    "run --out .": (None, ["run", "tiny.toml", "--out", "."], "is the current folder"),
    "run --out ..": (None, ["run", "tiny.toml", "--out", ".."], "is the current folder or holds it"),
    "run --out where nothing can be written": (
        None, ["run", "tiny.toml", "--out", "/proc/lunarsim/x"], "cannot write there"),
    "run --out a name too long": (None, ["run", "tiny.toml", "--out", "a" * 300],
                                  "File name too long"),
    "batch --out a user's file": (None, ["batch", "exp.toml", "--out", "notes.txt"],
                                  "--out notes.txt: exists and is not a folder"),
    "batch --out a user's folder": (None, ["batch", "exp.toml", "--out", "thesis"],
                                    "is not a lunarsim results folder"),
    "batch --force on a user's folder": (None, ["batch", "exp.toml", "--out", "thesis", "--force"],
                                         "is not a lunarsim results folder"),
    "plot --out a user's file": (None, ["plot", "results/exp", "--out", "figure.png"],
                                 "--out figure.png: exists and was not written by lunarsim"),
    "schema --out a user's file": (None, ["scenarios", "schema", "--out", "notes.txt"],
                                   "exists and was not written by lunarsim"),
    # 5. results cannot escape the results folder
    "experiment named ..": (_write("dots.toml", 'name = ".."\nscenarios = ["open_access"]\n'),
                            ["batch", "dots.toml"], "name: String should match pattern"),
    "experiment named .": (_write("dot.toml", 'name = "."\nscenarios = ["open_access"]\n'),
                           ["batch", "dot.toml"], "name: String should match pattern"),
    "experiment file named ...toml": (_write("...toml", 'scenarios = ["open_access"]\n'),
                                      ["batch", "...toml"], "(got '..')"),
    "experiment named with a slash": (_write("s.toml", 'name = "a/b"\nscenarios = ["open_access"]\n'),
                                      ["batch", "s.toml"], "name: String should match pattern"),
    "scenario name of 300 characters": (_tiny_with("", "long.toml"), [
        "run", "long.toml", "--set", f"name={'n' * 300}"], "at most 100 characters"),
    # 6. numbers must be finite and inside ranges the model can take
    "inf in a scenario file": (_tiny_with("[economics]\npropellant_value_usd_per_kg = inf\n"),
                               ["run", "bad.toml"], "Input should be a finite number"),
    "nan in a scenario file": (_tiny_with("[market]\nree_price_usd_per_kg = nan\n"),
                               ["run", "bad.toml"], "Input should be a finite number"),
    "inf capacity": (None, ["run", "tiny.toml", "--set", "nations.A.capacity_t_per_yr=inf"],
                     "nations.A.capacity_t_per_yr: Input should be a finite number"),
    "-inf reserve": (None, ["run", "tiny.toml", "--set", "sites.S.reserve_t=-inf"],
                     "sites.S.reserve_t: Input should be a finite number"),
    "nan by --set": (None, ["run", "tiny.toml", "--set", "economics.synergy=nan"],
                     "finite number"),
    "inf strategy parameter": (None, ["run", "tiny.toml", "--set",
                                      'nations.A.strategy={name="reinforcement", initial_propensity=inf}'],
                               "finite number"),
    "inf in a sample range": (
        _write("s.toml", 'scenarios = ["open_access"]\n[sample]\npoints = 4\n'
                         'ranges = { "economics.interference" = [0.0, inf] }\n'),
        ["batch", "s.toml"], "finite number"),
    "inf in a sweep": (_write("s.toml", 'scenarios = ["open_access"]\n[sweep]\n'
                                        '"market.ree_price_usd_per_kg" = [60.0, inf]\n'),
                       ["batch", "s.toml"], "finite number"),
    "subnormal half-saturation": (None, ["run", "tiny.toml", "--set",
                                         "economics.propellant_half_t_per_yr=1e-320"],
                                  "greater than or equal to 0.001"),
    "huge capacity": (None, ["run", "tiny.toml", "--set", "nations.A.capacity_t_per_yr=1e300"],
                      "less than or equal to"),
    # 7. user text is printed literally, on one line
    "a nation named nothing": (_nation('""'), ["run", "bad.toml"],  # by its place, not as ""
                               "bad.toml: nations.2.name: String should have at least 1 character"),
    "a quote in a name, and another error": (
        _nation('"a\\"b"', "colour = 1\n"), ["run", "bad.toml"], 'nations."a\\"b".colour: unknown key'),
    "Rich markup in a name": (
        _nation('"[/x] [red]Red[/red]"', "budget_growth_per_year = 9\n"), ["run", "bad.toml"],
        'nations."[/x] [red]Red[/red]".budget_growth_per_year'),
    "a newline in a name": (_nation('"line\\nbreak"', "colour = 1\n"), ["run", "bad.toml"],
                            'nations."line\\nbreak".colour'),
    "markup in a file name": (_write("[bold red]x.toml", "name = [\n"),
                              ["run", "[bold red]x.toml"], "[bold red]x.toml: TOML syntax error"),
    "markup in --out": (None, ["batch", "exp.toml", "--out", "notes.txt/[bold]x"],
                        "notes.txt/[bold]x"),
    "a design of twenty million points": (
        _write("big.toml", 'scenarios = ["open_access"]\n[sweep]\n"economics.synergy" = ['
                           + ", ".join(str(k / 1000) for k in range(100)) + ']\n[sample]\n'
                           'points = 200000\nranges = { "economics.interference" = [0.0, 0.2] }\n'),
        ["batch", "big.toml"], "the design has 20,000,000 points"),
    "ten million replicates": (None, ["batch", "exp.toml", "--replicates", "10000000", "--out", "x"],
                               "--replicates: replicates: Input should be less than or equal to"),
    # 8. bad input writes nothing
    "an unreachable scheduler": (None, ["batch", "exp.toml", "--out", "fresh", "--backend", "dask",
                                        "--scheduler", SCHEDULER_DOWN], "cannot connect"),
    "an unknown reference, before running": (
        None, ["compare", "exp.toml", "--out", "fresh", "--reference", "nope"],
        "--reference: 'nope' is not a scenario"),
    "an unknown reference for a results folder": (
        None, ["compare", "results/exp", "--reference", "nope"], "--reference: 'nope'"),
    "sweep values that clash only in combination": (
        _write("c.toml", 'scenarios = ["two_player_pd"]\n[sweep]\n"nations.Blue.name" = ["Green"]\n'
                         '"nations.Red.name" = ["Green"]\n'),
        ["batch", "c.toml"], "nations: duplicate name 'Green'"),
    "a thousand workers": (None, ["batch", "exp.toml", "--out", "fresh", "--workers", "1000"],
                           "--workers 1000: at most"),
    "TOML nested beyond recursion": (_write("deep.toml", "a = " + "[" * 50_000 + "]" * 50_000),
                                     ["run", "deep.toml"], "deep.toml: nested too deeply"),
    "a deeply nested --set": (None, ["run", "tiny.toml", "--set", "name=" + "[" * 50_000],
                              "...: name: String should have at most 100 characters"),
    "ten thousand nations": (
        _write("many.toml", "name = \"many\"\n" + "".join(
            f'[[nations]]\nname = "N{k}"\nbloc = "b"\nbudget_usd_bn = 1.0\n'
            f'strategy = "tit_for_tat"\n' for k in range(10_000)) + TINY.split("[[sites]]")[1]
            .join(["[[sites]]", ""])),
        ["run", "many.toml"], "nations: List should have at most 1000 items"),
    # found by an adversarial review: outputs that were not lunarsim's, and odd input
    "plot --out a text file mentioning lunarsim": (
        _write("notes.md", "Ran lunarsim batch yesterday\n"),
        ["plot", "results/exp", "--out", "notes.md"], "figures are written as PNG"),
    "plot --out a PNG mentioning lunarsim": (
        lambda ws: (ws / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n made with lunarsim?"),
        ["plot", "results/exp", "--out", "fake.png"], "was not written by lunarsim"),
    "compare over a user's report": (
        lambda ws: (ws / "results" / "exp" / "report.md").write_text("MY THESIS NOTES\n"),
        ["compare", "results/exp", "--resamples", "100"],
        "results/exp: report.md: changed since lunarsim wrote it, or not written by lunarsim"),
    "compare where figures is a file": (
        lambda ws: (ws / "results" / "exp" / "figures").write_text("mine\n"),
        ["compare", "results/exp", "--resamples", "100"], "figures: is not a folder"),
    "compare through a lock that is a link": (
        lambda ws: (ws / "results" / "exp" / LOCK_NAME).symlink_to(ws / "notes.txt"),
        ["compare", "results/exp"], "is not a lock file lunarsim can use"),
    "compare a results folder with run options": (
        None, ["compare", "results/exp", "--workers", "2"], "--workers: does not apply"),
    "compare a folder without a manifest": (
        lambda ws: (ws / "results" / "exp" / "manifest.json").unlink(),
        ["compare", "results/exp"], "no manifest.json); 'lunarsim batch EXPERIMENT --out"),
    "resume where a part is a folder": (
        _part_as_a_folder,
        ["batch", "exp.toml", "--resume", "--backend", "serial"],
        "s000-c0000000.parquet: is not a regular file"),
    "resume where a table is a file": (
        lambda ws: (shutil.rmtree(ws / "results" / "exp" / "pairs"),
                    (ws / "results" / "exp" / "pairs").write_text("x")),
        ["batch", "exp.toml", "--resume", "--backend", "serial"], "pairs: is not a folder"),
    "an integer of 5000 digits": (_tiny_with("[metrics]\nbest_sites = " + "9" * 5000 + "\n"),
                                  ["run", "bad.toml"], "not a usable TOML file"),
    "validate a name too long for the file system": (
        None, ["scenarios", "validate", "a" * 300 + ".toml"], "no such scenario file"),
    "a malformed scheduler address": (
        None, ["batch", "exp.toml", "--out", "fresh", "--backend", "dask", "--scheduler",
               "tcp://127.0.0.1:abc"], "--scheduler tcp://127.0.0.1:abc: cannot connect"),
    "an empty scheduler address": (
        None, ["batch", "exp.toml", "--out", "fresh", "--backend", "dask", "--scheduler", ""],
        "--scheduler: empty address"),
    "a string for a number": (_tiny_with("[time]\nhorizon_years = \"1\"\n"), ["run", "bad.toml"],
                              "time.horizon_years: Input should be a valid number"),
    "true for a number": (None, ["run", "tiny.toml", "--set", "time.horizon_years=true"],
                          "Input should be a valid number"),
    "a float for a count": (_write("f.toml", 'scenarios = ["open_access"]\nmaster_seed = 1.0\n'),
                            ["batch", "f.toml"], "master_seed: Input should be a valid integer"),
    "--set extends": (None, ["run", "tiny.toml", "--set", "extends=open_access"],
                      "extends is resolved before --set applies"),
    "--set a list entry by index, blamed on the --set": (
        None, ["run", "tiny.toml", "--set", "sites.0.kind=plutonium"],
        "error: --set sites.0.kind=plutonium: sites.S.kind: Input should be 'ice' or 'ree'"),
    # found by a second adversarial review
    "force on a user's folder with its own manifest": (
        lambda ws: ((ws / "app").mkdir(), (ws / "app" / "manifest.json").write_text('{"name": 1}'),
                    (ws / "app" / "report.md").write_text("mine")),
        ["batch", "exp.toml", "--out", "app", "--force"], "not a lunarsim results manifest; "
        "choose another folder"),
    "a lock file that is a hard link": (
        lambda ws: os.link(ws / "notes.txt", ws / "results" / "exp" / LOCK_NAME),
        ["compare", "results/exp"], "it has other names"),
    "a lock file of the user's": (
        lambda ws: (ws / "results" / "exp" / LOCK_NAME).write_text("my lock\n"),
        ["compare", "results/exp"], "not a lunarsim lock file"),
    "a socket where the lock belongs": (_socket_lock, ["compare", "results/exp"],
                                        "is not a lock file lunarsim can use"),
    "a stale lock and a refusal": (
        lambda ws: ((ws / "results" / "exp" / LOCK_NAME).write_text('{"pid": 4000000}'),
                    (ws / "results" / "exp" / "report.md").write_text("mine")),
        ["compare", "results/exp"], "report.md: changed since"),
    "an edited report, before the batch runs": (
        lambda ws: ((ws / "results" / "exp" / "report.md").write_text("mine"),
                    _first_marker(ws / "results" / "exp").unlink()),
        ["compare", "exp.toml", "--backend", "serial"], "report.md: changed since"),
    "steps past the horizon into a bad --out": (
        None, ["run", "tiny.toml", "--steps", "40", "--out", "notes.txt"], "is not a folder"),
    "plot --out into a results folder": (
        None, ["plot", "results/exp", "--out", "results/exp/figures/timeseries.png"],
        "inside lunarsim's folder"),
    "plot --out into a run folder": (
        lambda ws: _invoke(["run", "tiny.toml", "--steps", "2", "--out", "myrun"]),
        ["plot", "results/exp", "--out", "myrun/run.png"], "inside lunarsim's folder"),
    "schema --out over a schema the user extended": (_extended_schema,
                                                     ["scenarios", "schema", "--out", "s.json"],
                                                     "or was changed since"),
    "run --out a run folder whose manifest was edited": (
        _edited_run_manifest, ["run", "tiny.toml", "--steps", "2", "--out", "myrun"],
        "is not a lunarsim run folder"),
    "--resume and --force together": (None, ["batch", "exp.toml", "--resume", "--force"],
                                      "--resume and --force: choose one"),
    "an empty --reference": (None, ["compare", "results/exp", "--reference", ""],
                             "--reference: empty name"),
    "a sweep value listed twice": (
        _write("d.toml", 'scenarios = ["open_access"]\n[sweep]\n"economics.synergy" = [0.1, 0.1]\n'),
        ["batch", "d.toml"], "economics.synergy: a value is listed twice"),
    "a bare name that is also a folder here names the experiment": (
        lambda ws: (ws / "coop_vs_compete").mkdir(),
        ["compare", "coop_vs_compete", "--reference", "nope"],
        "coop_vs_compete.toml (scenarios:"),
    # 10. bounds
    "steps of 10**30": (None, ["run", "tiny.toml", "--steps", str(10**30)], "--steps"),
    "both swept and sampled": (
        _write("b.toml", 'scenarios = ["open_access"]\n[sweep]\n"economics.synergy" = [0.1]\n'
                         '[sample]\npoints = 2\nranges = { "economics.synergy" = [0.0, 0.2] }\n'),
        ["batch", "b.toml"], "economics.synergy: both swept and sampled"),
    "extends a missing file": (_write("child.toml", 'extends = "gone.toml"\n'),
                               ["run", "child.toml"], "child.toml: extends: "),
    "extends a folder": (_extends_a_folder, ["run", "child.toml"],
                         "child.toml: extends: "),
    "extends a broken file": (
        lambda ws: (_write("parent.toml", "name = [")(ws), _write("child.toml", 'extends = "parent"\n')(ws)),
        ["run", "child.toml"], "child.toml: extends: "),
    # 4. damaged results are named, not analysed
    "a manifest that is a list": (_manifest("[1, 2]"), ["compare", "results/exp"],
                                  "not a lunarsim results manifest"),
    "a manifest that is not JSON": (_manifest("{oops"), ["compare", "results/exp"],
                                    "not a readable results manifest"),
    "resume with a manifest that is a list": (_manifest("[]"), ["batch", "exp.toml", "--resume"],
                                              "not a lunarsim results manifest"),
    # the fields the analysis reads, of another type than lunarsim writes
    "a manifest's seeds as text": (_manifest_field("seeds", [["0", "5"]]), ["compare", "results/exp"],
                                   "manifest.json: seeds.0.0: input should be a valid integer"),
    "a manifest's experiment file as a number": (
        _manifest_field("experiment_file", 5), ["compare", "results/exp"],
        "manifest.json: experiment_file: input should be a valid string"),
    "a manifest's scenario as text": (
        _manifest_field("scenarios", {"open_access": "x"}), ["compare", "results/exp"],
        "manifest.json: scenarios.open_access: input should be"),
    "a manifest's scenario order as text": (
        _manifest_field("scenario_order", "open_access"), ["plot", "results/exp"],
        "manifest.json: scenario_order: input should be a valid list"),
    "a manifest's seed pair too short": (
        _manifest_field("seeds", [[0]]), ["explore", "discover", "results/exp", "--where",
                                          "incidents[open_access] > 0"],
        "manifest.json: seeds.0: list should have at least 2 items"),
    # text files in another encoding than TOML's UTF-8
    "a scenario in Latin-1": (_bytes("latin.toml", ("# café\n" + TINY).encode("latin-1")),
                              ["run", "latin.toml"],
                              "latin.toml: not UTF-8 (byte 0xe9 on line 1"),
    "a scenario in UTF-16": (_bytes("wide.toml", TINY.encode("utf-16")), ["run", "wide.toml"],
                             "wide.toml: encoded as UTF-16; TOML files are UTF-8"),
    "a scenario in UTF-16 without its mark": (
        _bytes("wide.toml", TINY.encode("utf-16-le")), ["scenarios", "validate", "wide.toml"],
        "wide.toml: encoded as UTF-16"),
    "an experiment in Latin-1": (_bytes("e.toml", ("# café\n" + EXPERIMENT).encode("latin-1")),
                                 ["batch", "e.toml"], "e.toml: not UTF-8"),
    "a binary file as a scenario": (None, ["run", "figure.png"], "figure.png: "),
    # --set blames itself, and a name it empties is not shown as the entry's name
    "--set a nation's name empty": (None, ["run", "tiny.toml", "--set", 'nations.A.name=""'],
                                    'error: --set nations.A.name="": nations.0.name: String '
                                    "should have at least 1 character"),
    # explore game's years
    "explore game in the year nan": (None, ["explore", "game", "tiny.toml", "--year", "nan",
                                            "--figure", "g.png"], "--year nan: expected a finite year"),
    "explore game in the year inf": (None, ["explore", "game", "tiny.toml", "--year", "inf"],
                                     "--year inf: expected a finite year"),
    "explore game in the year -inf": (None, ["explore", "game", "tiny.toml", "--year", "-inf"],
                                      "--year -inf: expected a finite year"),
    "explore game in the year 1e308": (None, ["explore", "game", "tiny.toml", "--year", "1e308"],
                                       "--year 1e+308 is outside the run of tiny (its steps begin "
                                       "from 2026 to 2050.75)"),
    "explore game in the year the run ends": (
        None, ["explore", "game", "tiny.toml", "--year", "2051"], "--year 2051 is outside"),
    "explore game with a figure under a file": (
        None, ["explore", "game", "tiny.toml", "--figure", "notes.txt/g.png"],
        "--figure notes.txt/g.png: cannot write there (notes.txt is not a folder)"),
    # what a results folder holds, of a kind a reader must not open (it would hang or fill memory)
    "a manifest that is a FIFO": (_special("manifest.json", "fifo"), ["compare", "results/exp"],
                                  "manifest.json: not a readable results manifest (not a regular"),
    "a manifest linked to /dev/zero": (_special("manifest.json", "zero"),
                                       ["compare", "results/exp"],
                                       "manifest.json: not a readable results manifest"),
    "a chunk marker that is a FIFO": (_special("chunks/s000-c0000000.json", "fifo"),
                                      ["compare", "results/exp"], "is not a regular file"),
    "a part linked to /dev/zero": (_special("runs/s000-c0000000.parquet", "zero"),
                                   ["compare", "results/exp"], "is not a regular file"),
    "a manifest's parameter named as an identity column": (
        _manifest_field("parameters", ["point"]), ["compare", "results/exp"],
        "manifest.json: parameters.0: string should match pattern"),
    "a sensitivity study of one scenario": (
        _write("one.toml", EXPERIMENT.replace('["open_access", "artemis_accords"]',
                                              '["open_access"]')),
        ["explore", "sensitivity", "one.toml", "-p", "economics.synergy", "-p",
         "economics.interference", "--size", "2"],
        "one.toml: a sensitivity study follows the differences between scenarios"),
    # the page's address
    "app on an empty host": (None, ["app", "--host", ""], "--host '': name an address"),
    "app on a blank host": (None, ["app", "--host", " "], "--host ' ': name an address"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_input_is_refused_in_one_line_and_touches_nothing(ws, case):
    setup, args, expected = CASES[case]
    if setup is not None:
        setup(ws)
    before = tree(ws)
    refused(_invoke(args), expected)
    assert tree(ws) == before


def test_printed_user_text_keeps_its_markup(ws):
    line = refused(_invoke(["run", "tiny.toml", "--out", "[red]notes[/red]/x", "--set",
                            "nations.A.budget_usd_bn=-1"]), "budget_usd_bn")
    assert "error: --set nations.A.budget_usd_bn=-1:" in line
    (ws / "[b]dir").mkdir()
    result = _invoke(["run", "tiny.toml", "--steps", "2", "--out", "[b]dir/run", "--no-figure",
                      "--set", 'nations.A.name="[/x] [red]A"'])
    assert result.exit_code == 0, result.stderr
    assert "wrote [b]dir/run" in result.stdout and "[/x] [red]A" in result.stdout


# --- 1. what --out may replace ---------------------------------------------------------------


def test_run_replaces_its_own_run_folder_and_an_empty_one(ws):
    for out in ("again", "empty"):
        (ws / "empty").mkdir(exist_ok=True)
        for seed in ("1", "2"):
            result = _invoke(["run", "tiny.toml", "--steps", "2", "--seed", seed, "--out", out])
            assert result.exit_code == 0, result.stderr
            assert json.loads((ws / out / "manifest.json").read_text())["seed"] == int(seed)
    assert (ws / "thesis" / "thesis.tex").read_text() == "\\chapter{Moon}\n"
    assert not [p for p in ws.iterdir() if p.name.startswith(".")]  # no staging folders left


def test_a_killed_runs_staging_folder_is_cleared_by_the_next_run(ws):
    dead = ws / ".lunarsim-dead1234.partial"  # what a run killed while writing leaves
    dead.mkdir()
    (dead / STAGE_MARK).touch()
    (dead / "series_model.parquet").write_bytes(b"half")
    alive = ws / ".lunarsim-live5678.partial"  # another run, still writing
    alive.mkdir()
    (alive / STAGE_MARK).touch()
    theirs = ws / ".lunarsim-mine.partial"  # a user's folder that merely looks like one
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    fd = os.open(alive, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert _invoke(["run", "tiny.toml", "--steps", "2", "--out", "out"]).exit_code == 0
    finally:
        os.close(fd)
    assert not dead.exists() and alive.exists() and (theirs / "keep.txt").exists()


# --- 2. one writer per results folder --------------------------------------------------------


def _long_experiment(tmp_path: Path, replicates: int, years: float) -> Path:
    """The test experiment made long enough to be caught while it runs."""
    path = tmp_path / "long.toml"
    path.write_text(EXPERIMENT.replace("replicates = 3", f"replicates = {replicates}")
                    .replace("horizon_years = 1.0", f"horizon_years = {years}"))
    return path


def _wait_for(ready: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_second_batch_on_the_same_folder_is_refused(tmp_path):
    path = _long_experiment(tmp_path, 16, 8.0)
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "sim", "batch", str(path), "--out", str(out),
                              "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    _wait_for((out / "manifest.json").exists)
    second = runner.invoke(app, ["batch", str(path), "--out", str(out), "--resume",
                                 "--backend", "serial"])
    line = refused(second, f"{out}: in use by another lunarsim (pid {first.pid} on "
                           f"{socket.gethostname()}")
    assert "lunarsim batch" in line
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    runs = ResultStore(out).read("runs")
    assert sorted(runs["run"]) == list(range(32))  # every run once: nothing lost or doubled
    assert not ResultStore(out).scan().damaged and not (out / LOCK_NAME).exists()


def test_a_lock_held_in_this_process_refuses_every_writer(ws):
    with FolderLock(ws / "results" / "exp"):
        before = tree(ws)
        refused(_invoke(["batch", "exp.toml", "--resume"]), "in use by another lunarsim")
        refused(_invoke(["compare", "results/exp"]), "in use by another lunarsim")
        refused(_invoke(["plot", "results/exp"]), "in use by another lunarsim")
        refused(_invoke(["plot", "results/exp", "--out", "fig.png"]), "in use by another")
        assert tree(ws) == before


def test_a_stale_lock_of_a_dead_batch_is_taken_over(ws):
    lock = ws / "results" / "exp" / LOCK_NAME
    lock.write_text(json.dumps({"pid": 4_000_000, "host": "gone", "started_at": "2026-01-01",
                                "command": ["lunarsim", "batch", "exp.toml"]}))
    result = _invoke(["batch", "exp.toml", "--resume"])
    assert result.exit_code == 0, result.stderr
    assert "took over a lock left by a stopped lunarsim (pid 4000000 on gone" in result.stderr
    assert not lock.exists()


# --- 3. a worker that dies -------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_a_run_that_kills_its_worker_is_a_recorded_failure_and_the_rest_finish(tmp_path, backend):
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    whole = run_experiment(path, backend="serial", out=tmp_path / "whole")
    outcome = run_experiment(path, backend=backend, workers=2, out=tmp_path / "out",
                             chunk_size=2, run=KillOnRun(1))
    assert (outcome.done, outcome.failed) == (5, 1)
    store = ResultStore(outcome.folder)
    failures = store.read("failures")
    assert list(failures["run"]) == [1] and failures["error"].str.startswith("WorkerDied").all()
    reference = ResultStore(whole.folder).read("runs")
    pd.testing.assert_frame_equal(store.read("runs"),
                                  reference[reference["run"] != 1].reset_index(drop=True))


def test_dask_blames_a_death_on_a_chunk_only_when_it_was_alone_in_flight():
    """Dask counts a worker's death against every task assigned to that worker, queued ones
    included, so its KilledWorker proves nothing while other chunks are in flight: the chunk is
    then a suspect, tried again alone, and an innocent run queued beside a crashing one is not
    recorded as failed. One chunk in flight alone is blamed."""
    from types import SimpleNamespace

    import dask

    from sim.experiment.executors import DaskExecutor, Lost

    chunk = SimpleNamespace(tasks=[SimpleNamespace(run=1)])
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            DaskExecutor(workers=1) as executor:
        among_others = list(executor.map_unordered(KillOnRun(1), [chunk], window=2))
        alone = list(executor.map_unordered(KillOnRun(1), [chunk], window=1))
    assert [type(r) for r in among_others + alone] == [Lost, Lost]
    assert not among_others[0].alone and alone[0].alone
    assert "Dask workers died running it" in alone[0].reason


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_a_killed_batch_leaves_no_process_behind(tmp_path, backend):
    path = _long_experiment(tmp_path, 40, 10.0)
    proc = subprocess.Popen([sys.executable, "-m", "sim", "batch", str(path), "--out",
                             str(tmp_path / "out"), "--workers", "2", "--backend", backend],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: bool(list((tmp_path / "out" / "chunks").glob("*.json"))))
    family = _descendants(proc.pid)
    assert len(family) >= 3  # two workers, and their fork server or nannies
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 20
    while [p for p in family if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in family if _alive(p)], "workers outlived their batch"


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited; only its parent's bookkeeping is left


# --- 4. damaged results folders --------------------------------------------------------------


def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _first_marker(folder: Path) -> Path:
    return sorted((folder / "chunks").glob("*.json"))[0]


DAMAGE: dict[str, Callable[[Path], None]] = {
    "a deleted part": lambda f: _first_part(f).unlink(),
    "a truncated part": lambda f: _first_part(f, "series_nations").write_bytes(
        _first_part(f, "series_nations").read_bytes()[:100]),
    "a garbled part": lambda f: _garble(_first_part(f, "nations")),
    "a garbled marker": lambda f: _first_marker(f).write_text("{not json"),
    "a marker missing a key": lambda f: _first_marker(f).write_text(json.dumps(
        {k: v for k, v in json.loads(_first_marker(f).read_text()).items() if k != "failed"})),
    "a marker that is a list": lambda f: _first_marker(f).write_text("[]"),
    "a deleted marker": lambda f: _first_marker(f).unlink(),
    "a deleted marker and its parts": lambda f: [p.unlink() for p in f.glob("*/s000-c0000000.*")],
    "a marker naming a run the experiment does not have": lambda f: _first_marker(f).write_text(
        json.dumps(json.loads(_first_marker(f).read_text()) | {"succeeded": [99]})),
    "a marker naming no run": lambda f: _first_marker(f).write_text(
        json.dumps(json.loads(_first_marker(f).read_text()) | {"succeeded": [], "failed": []})),
    "a marker without one of its tables": lambda f: _first_marker(f).write_text(json.dumps(
        json.loads(_first_marker(f).read_text()) | {"parts": {
            k: v for k, v in json.loads(_first_marker(f).read_text())["parts"].items()
            if k != "nations"}})),
    "a marker naming another chunk's runs": lambda f: _first_marker(f).write_text(
        sorted((f / "chunks").glob("*.json"))[1].read_text()),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_folder_is_refused_by_readers_and_repaired_by_resume(ws, damage):
    folder = ws / "results" / "exp"
    whole = {t: ResultStore(folder).read(t) for t in ("runs", "nations", "series_nations")}
    DAMAGE[damage](folder)
    before = tree(ws)
    refused(_invoke(["compare", "results/exp"]), "is damaged")
    refused(_invoke(["plot", "results/exp"]), "--resume' runs its runs again")
    assert tree(ws) == before

    result = _invoke(["batch", "exp.toml", "--resume", "--backend", "serial"])
    assert result.exit_code == 0, result.stderr
    assert "was damaged" in result.stderr and "1 of 6" not in result.stdout
    assert "6 of 6 runs done (1 this time)" in result.stdout
    repaired = ResultStore(folder)
    assert not repaired.scan().damaged
    for table, frame in whole.items():
        pd.testing.assert_frame_equal(repaired.read(table), frame, check_exact=True, obj=table)


def test_a_stray_part_without_a_marker_is_ignored_then_cleared(ws):
    folder = ws / "results" / "exp"
    stray = folder / "runs" / "s009-c0000000.parquet"
    shutil.copy(_first_part(folder), stray)
    assert len(ResultStore(folder).read("runs")) == 6  # not counted twice
    result = _invoke(["batch", "exp.toml", "--resume", "--backend", "serial"])
    assert result.exit_code == 0 and "(0 this time)" in result.stdout
    assert not stray.exists()


# --- 6. a run may never report a non-finite number -------------------------------------------


def test_a_non_finite_outcome_fails_the_run_with_its_reason():
    result = run_scenario(load_scenario("two_player_pd"), seed=1, steps=4)
    check_finite(result)  # a healthy run passes
    result.nation_columns["welfare_usd_bn"][3, 1] = np.inf
    with pytest.raises(RunFailed, match="'welfare_usd_bn' is inf at step 3"):
        check_finite(result)
    result.nation_columns["welfare_usd_bn"][3, 1] = 1.0
    result.model_columns["cooperation_rate"][2] = np.nan  # undefined only before anyone played
    with pytest.raises(RunFailed, match="'cooperation_rate' is nan at step 2"):
        check_finite(result)


def _accepted_ends(model: type) -> list[tuple[str, float]]:
    """(field, value) for both ends of every numeric field's accepted range: the bound itself,
    or the nearest float inside an open bound (``gt=0`` admits 5e-324, and a user may give it)."""
    from annotated_types import Ge, Gt, Le, Lt

    ends = []
    for name, field in model.model_fields.items():
        if not ({float, int} & set(getattr(field.annotation, "__args__", (field.annotation,)))):
            continue
        low = high = None
        for rule in field.metadata:
            if isinstance(rule, Ge):
                low = rule.ge
            elif isinstance(rule, Gt):
                low = math.nextafter(rule.gt, math.inf)
            elif isinstance(rule, Le):
                high = rule.le
            elif isinstance(rule, Lt):
                high = math.nextafter(rule.lt, -math.inf)
        assert low is not None and high is not None, f"{model.__name__}.{name} has an open range"
        ends += [(name, low), (name, high)]
    return ends


def _variants() -> list[tuple[str, dict]]:
    """The baseline (or a regime's library scenario) with one parameter at one end of its
    range: every section, every nation and site field (all at once), every strategy's and
    every regime's parameters."""
    from helpers import raw_scenario

    from sim.rules.regimes import REGIMES
    from sim.rules.strategies import STRATEGIES
    from sim.scenario.schema import EconomicsSpec, MarketSpec, NationSpec, SiteSpec, TrustSpec

    base = raw_scenario("baseline")
    out = []
    for section, model in [("economics", EconomicsSpec), ("market", MarketSpec),
                           ("trust", TrustSpec)]:
        for name, value in _accepted_ends(model):
            raw = copy.deepcopy(base)
            raw.setdefault(section, {})[name] = value
            out.append((f"{section}.{name}={value}", raw))
    for section, model in [("nations", NationSpec), ("sites", SiteSpec)]:
        for name, value in _accepted_ends(model):
            raw = copy.deepcopy(base)
            for item in raw[section]:
                item[name] = value
            out.append((f"{section}.*.{name}={value}", raw))
    for strategy in STRATEGIES:
        for name, value in _accepted_ends(strategy.Params):
            raw = copy.deepcopy(base)
            for nation in raw["nations"]:
                nation["strategy"] = {"name": strategy.name, name: value}
            out.append((f"{strategy.name}.{name}={value}", raw))
    for regime in REGIMES:
        for name, value in _accepted_ends(regime.Params):
            raw = raw_scenario(regime.name)
            raw["regime"][name] = value
            out.append((f"{regime.name}.{name}={value}", raw))
    return out


def test_every_accepted_value_gives_finite_outcomes():
    """Each parameter at each end of the range the schema accepts, one at a time: the run's
    every reported number is finite (check_finite runs inside run_scenario)."""
    from sim.scenario.loader import validate

    variants = _variants()
    assert len(variants) > 100
    refused = []
    for label, raw in variants:
        try:
            scenario = validate(raw, label)
        except UserError as err:  # a value that contradicts another is refused in one line
            refused.append(str(err))
            continue
        try:
            run_scenario(scenario, seed=3, steps=12)
        except RunFailed as err:
            pytest.fail(f"{label}: {err}")
    # only the rare-earth balance can make a value contradict the baseline's others: a tiny
    # magnet share, no mines, a refining share of 1 or huge refineries leave less refining to
    # the rest of the world than the nations already have; a share of 0 is below China's ore
    assert len(refused) <= 5 and all("market.refining_share" in r for r in refused), refused


def test_the_longest_horizon_at_the_fastest_growth_stays_finite(baseline_raw):
    from sim.scenario.loader import validate

    baseline_raw["time"] = {"horizon_years": 200}
    for nation in baseline_raw["nations"]:
        nation["budget_growth_per_year"] = 1.0
    run_scenario(validate(baseline_raw, "growth"), seed=3)  # 800 steps


# --- more of what an adversarial review found ------------------------------------------------


def test_a_bad_out_is_refused_before_any_simulation(ws, monkeypatch):
    import sim.experiment.run

    def no_run(*args, **kwargs):
        raise AssertionError("the run started before --out was checked")

    monkeypatch.setattr(sim.experiment.run, "run_scenario", no_run)
    before = tree(ws)
    refused(_invoke(["run", "tiny.toml", "--out", "notes.txt/sub"]), "cannot write there")
    refused(_invoke(["run", "tiny.toml", "--out", "/proc/1/x/y"]), "cannot write there")
    assert tree(ws) == before


@pytest.mark.parametrize("damage", ["deleted", "garbled"])
def test_force_starts_afresh_where_the_manifest_is_lost(ws, damage):
    manifest = ws / "results" / "exp" / "manifest.json"
    manifest.unlink() if damage == "deleted" else manifest.write_text("[oops")
    refused(_invoke(["batch", "exp.toml", "--resume"]), "--force' runs it afresh")
    result = _invoke(["batch", "exp.toml", "--force", "--backend", "serial"])
    assert result.exit_code == 0, result.stderr
    assert "6 of 6 runs done (6 this time)" in result.stdout


def test_files_that_only_look_like_lunarsims_are_kept(ws):
    mine = ws / "results" / "exp" / "runs" / ".mine.tmp"
    mine.write_text("mine")
    assert _invoke(["batch", "exp.toml", "--resume", "--backend", "serial"]).exit_code == 0
    backup = ws / ".out.abcdefgh.old"  # a copy of a run folder, named by the user
    assert _invoke(["run", "tiny.toml", "--steps", "2", "--out", "out"]).exit_code == 0
    shutil.copytree(ws / "out", backup)
    assert _invoke(["run", "tiny.toml", "--steps", "2", "--out", "out"]).exit_code == 0
    assert mine.read_text() == "mine" and (backup / "manifest.json").exists()


def test_compare_writes_over_its_own_outputs_and_plot_keeps_the_record(ws):
    args = ["compare", "results/exp", "--resamples", "100"]
    assert _invoke(args).exit_code == 0
    assert _invoke(["plot", "results/exp", "--kind", "nations"]).exit_code == 0
    result = _invoke(args)  # every file as lunarsim last wrote it: replaced
    assert result.exit_code == 0, result.stderr
    record = json.loads((ws / "results" / "exp" / "analysis.json").read_text())
    assert {"report.md", "report.html", "comparison.csv", "figures/nations.png"} <= set(record["files"])
    (ws / "results" / "exp" / "levels.csv").write_text("edited by hand\n")
    refused(_invoke(args), "levels.csv: changed since lunarsim wrote it")


def test_a_run_that_goes_non_finite_says_so_in_one_line(ws):
    result = _invoke(["run", "tiny.toml", "--set", "market.ree_price_usd_per_kg=1e7",
                      "--set", "market.price_elasticity=0.05", "--set",
                      "market.demand_growth_per_year=1.0", "--set",
                      "market.supply_growth_per_year=-0.5", "--set", "time.horizon_years=200",
                      "--set", "market.mine_supply_elasticity=0.0",  # no new mines to save it
                      "--set", "nations.A.ree_demand_t_per_yr=1e8",
                      "--set", "nations.B.ree_production_t_per_yr=1"])
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: tiny, seed 0: ") and \
        "the model cannot handle these parameters" in lines[0], result.stderr
    assert not (ws / "results").joinpath("run-tiny-seed0").exists()


def test_a_terminal_that_cannot_show_unicode_gets_escapes(ws):
    env = os.environ | {"PYTHONIOENCODING": "ascii", "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "sim", "run", "tiny.toml", "--steps", "2",
                           "--no-figure"], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "\\xb7" in proc.stdout or "\\u" in proc.stdout  # the middle dot, escaped


def _batch(ws: Path, name: str, text: str, *extra: str) -> Path:
    (ws / f"{name}.toml").write_text(text)
    result = _invoke(["batch", f"{name}.toml", "--backend", "serial", *extra])
    assert result.exit_code == 0, result.stderr
    return ws / "results" / name


def test_a_batch_without_series_is_compared_without_series_figures(ws):
    folder = _batch(ws, "bare", EXPERIMENT.replace('"exp"', '"bare"'), "--series", "none")
    result = _invoke(["compare", str(folder), "--resamples", "100"])
    assert result.exit_code == 0, result.stderr
    assert not (folder / "figures" / "timeseries.png").exists()
    assert (folder / "figures" / "differences.png").exists()
    refused(_invoke(["plot", str(folder), "--kind", "timeseries"]), "no per-step series")


def test_one_scenario_is_not_a_comparison(ws):
    folder = _batch(ws, "one", EXPERIMENT.replace('"exp"', '"one"').replace(
        ', "artemis_accords"', ""))
    refused(_invoke(["compare", str(folder)]), "a comparison needs two scenarios")
    refused(_invoke(["plot", str(folder), "--kind", "differences"]), "differences need two")


def test_a_sweep_over_names_is_compared_without_a_heatmap(ws):
    text = EXPERIMENT.replace('"exp"', '"names"') + (
        '[sweep]\n"nations.China.strategy" = ["always_compete", "tit_for_tat"]\n'
        '"economics.synergy" = [0.0, 0.2]\n')
    folder = _batch(ws, "names", text.replace("replicates = 3", "replicates = 2"))
    result = _invoke(["compare", str(folder), "--resamples", "100"])
    assert result.exit_code == 0, result.stderr
    assert not (folder / "figures" / "heatmap.png").exists()
    refused(_invoke(["plot", str(folder), "--kind", "heatmap"]), "two numeric parameters")


def test_names_are_drawn_literally(ws):
    result = _invoke(["run", "tiny.toml", "--steps", "3", "--out", "dollar", "--set",
                      "nations.A.name='$\\frac{a$'"])  # a TOML literal string: a backslash
    assert result.exit_code == 0, result.stderr
    assert (ws / "dollar" / "run.png").stat().st_size > 10_000


def test_one_bad_library_file_does_not_hide_the_others(tmp_path, monkeypatch):
    (tmp_path / "good.toml").write_text("# a good scenario\n" + TINY.replace('"tiny"', '"good"'))
    (tmp_path / "bad.toml").write_text("name = [\n")
    monkeypatch.setenv("LUNARSIM_SCENARIOS", str(tmp_path))
    result = _invoke(["scenarios", "list"])
    assert result.exit_code == 2 and "good" in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "bad.toml: TOML syntax error" in lines[0]


def test_a_reference_without_runs_is_named_as_such(ws):
    folder = ws / "results" / "exp"
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(manifest | {"reference": "multilateral"}))
    refused(_invoke(["compare", "results/exp"]),
            "the reference scenario 'multilateral' has no finished runs")


def test_an_older_folder_is_started_afresh_and_its_analysis_kept(ws):
    folder = ws / "results" / "exp"
    assert _invoke(["compare", "results/exp", "--resamples", "100"]).exit_code == 0
    (folder / "analysis.json").unlink()  # as lunarsim 0.1 left it: no record, no format
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["results_format"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    refused(_invoke(["compare", "results/exp"]), "made by an older lunarsim (results format 1)")
    result = _invoke(["batch", "exp.toml", "--force", "--backend", "serial"])
    assert result.exit_code == 0, result.stderr
    report = (folder / "report.md").read_text()  # no record says it is unchanged: kept
    figures = len(list((folder / "figures").glob("*.png")))
    refused(_invoke(["compare", "results/exp"]), "comparison.csv, levels.csv, "
            f"decomposition.csv and {figures + 2} more: changed since lunarsim wrote them")
    for name in ("comparison.csv", "levels.csv", "decomposition.csv", "report.md", "report.html",
                 "figures"):
        (folder / name).rename(ws / f"old-{name}")
    assert _invoke(["compare", "results/exp", "--resamples", "100"]).exit_code == 0
    assert (ws / "old-report.md").read_text() == report


def test_an_edited_record_cannot_point_outside_the_folder(ws):
    folder = ws / "results" / "exp"
    assert _invoke(["compare", "results/exp", "--resamples", "100"]).exit_code == 0
    digest = hashlib.sha256((ws / "notes.txt").read_bytes()).hexdigest()
    record = json.loads((folder / "analysis.json").read_text())
    record["files"]["../../notes.txt"] = digest
    (folder / "analysis.json").write_text(json.dumps(record))
    before = tree(ws)
    refused(_invoke(["compare", "results/exp"]), "analysis.json: not lunarsim's record")
    refused(_invoke(["batch", "exp.toml", "--force", "--backend", "serial"]),
            "analysis.json: not lunarsim's record")
    assert tree(ws) == before


def test_an_analysis_cut_short_leaves_a_folder_the_next_one_can_write(ws, monkeypatch):
    import errno

    import sim.base.io

    real, calls = sim.base.io.atomic_write_bytes, {"n": 0}

    def disk_fills(path, data):
        calls["n"] += 1
        if calls["n"] == 4:  # the record, two files, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data)

    args = ["compare", "results/exp", "--resamples", "100"]
    assert _invoke(args).exit_code == 0
    monkeypatch.setattr(sim.base.io, "atomic_write_bytes", disk_fills)
    result = _invoke(args[:-1] + ["101"])  # other numbers, so every file changes
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    monkeypatch.setattr(sim.base.io, "atomic_write_bytes", real)
    result = _invoke(args)
    assert result.exit_code == 0, result.stderr


def test_a_swap_that_fails_half_way_keeps_the_earlier_run(ws, monkeypatch):
    assert _invoke(["run", "tiny.toml", "--steps", "2", "--seed", "1", "--out", "out"]).exit_code == 0
    real = os.replace

    def second_rename_fails(src, dst):
        if str(src).endswith(".partial"):
            raise OSError(5, "Input/output error", str(src))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", second_rename_fails)
    result = _invoke(["run", "tiny.toml", "--steps", "2", "--seed", "2", "--out", "out"])
    assert result.exit_code == 1
    monkeypatch.setattr(os, "replace", real)
    assert json.loads((ws / "out" / "manifest.json").read_text())["seed"] == 1
    assert not [p for p in ws.iterdir() if p.name.startswith(".lunarsim-")]


def test_a_terminated_batch_stops_like_an_interrupted_one(tmp_path):
    path = _long_experiment(tmp_path, 40, 10.0)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "batch", str(path), "--out", str(out),
                             "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    _wait_for(lambda: bool(list((out / "chunks").glob("*.json"))))
    os.killpg(proc.pid, signal.SIGTERM)  # as `timeout` or a cluster's scheduler does
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stderr.splitlines() == ["interrupted: finished runs are kept; --resume completes the "
                                   "rest"], stderr
    outcome = run_experiment(path, backend="serial", resume=True, out=out)
    assert outcome.complete and sorted(ResultStore(out).read("runs")["run"]) == list(range(80))


def test_a_terminated_compare_says_the_same_command_finishes_it(tmp_path):
    """compare has no --resume: it finishes earlier runs whenever it is run again."""
    path = _long_experiment(tmp_path, 40, 10.0)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "compare", str(path), "--out", str(out),
                             "--workers", "2", "--robustness", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait_for(lambda: bool(list((out / "chunks").glob("*.json"))))
    os.killpg(proc.pid, signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stderr.splitlines() == ["interrupted: finished runs are kept; the same command "
                                   "again completes the rest"], stderr


def test_the_batch_of_a_finished_folder_run_again_says_so_and_changes_nothing(ws):
    """The README's order (compare, then batch) works: the same experiment's finished folder
    is left as it is, exit 0; another experiment's is refused in one line."""
    def files():  # every file as it was (the folder's own time moves with its lock)
        return {k: v for k, v in tree(ws / "results").items() if k != "exp"}

    before = files()
    result = _invoke(["batch", "exp.toml", "--backend", "serial"])
    assert result.exit_code == 0, result.stderr
    assert "6 of 6 runs done (0 this time)" in result.stdout
    assert files() == before
    (ws / "exp.toml").write_text(EXPERIMENT.replace("master_seed = 5", "master_seed = 6"))
    refused(_invoke(["batch", "exp.toml"]), "made by a different experiment")
    assert files() == before


# --- the Python API: bad arguments named, as TypeError or ValueError -----------------------------

API_STEPS = [(-5, ValueError, "steps: at least 1, got -5"), (0, ValueError, "steps: at least 1"),
             (2.7, TypeError, "steps: expected a whole number, got 2.7 (float)"),
             ("ten", TypeError, "steps: expected a whole number, got 'ten' (str)"),
             (True, TypeError, "got True (bool)"),
             (10**9, ValueError, "steps: at most 800 (200 years at 4 steps a year")]


@pytest.mark.parametrize("steps, kind, message", API_STEPS)
def test_the_model_and_run_scenario_name_a_bad_steps(steps, kind, message):
    from sim.model import LunarModel

    with pytest.raises(kind, match=re.escape(message)) as caught:
        LunarModel("baseline", rng=1, steps=steps)
    assert isinstance(caught.value, UserError)  # and the command line says it in one line
    with pytest.raises(kind, match=re.escape(message)):
        run_scenario(load_scenario("baseline"), seed=1, steps=steps)


@pytest.mark.parametrize("seed, kind, message", [
    (-1, ValueError, "seed: at least 0, got -1"), (1.5, TypeError, "seed: expected a whole number"),
    ("1", TypeError, "seed: expected a whole number, got '1' (str)")])
def test_run_scenario_names_a_bad_seed(seed, kind, message):
    with pytest.raises(kind, match=re.escape(message)):
        run_scenario(load_scenario("two_player_pd"), seed=seed, steps=2)


def test_run_scenario_names_a_scenario_given_by_name():
    with pytest.raises(TypeError, match=r"scenario: expected a Scenario \(sim.load_scenario"):
        run_scenario("baseline", seed=1)


@pytest.mark.parametrize("call, kind, message", [
    (lambda: _model(rng=-1), ValueError, "rng: at least 0, got -1"),
    (lambda: _model(rng="x"), TypeError, "rng: expected a seed (a whole number, 0 or more)"),
    (lambda: _model(rng=1.5), TypeError, "rng: expected a seed"),
    (lambda: _model(scenario=5), TypeError, "scenario: expected a Scenario, a library name or a "
                                            "file path, got int"),
    (lambda: load_scenario(5), TypeError, "ref: expected a library name or a file path, got int"),
    (lambda: load_scenario("two_player_pd", "economics.synergy=0.1"), TypeError,
     "overrides: expected a list of 'key.path=value' strings"),
    (lambda: run_scenario(load_scenario("two_player_pd"), 1, 2, progress=5), TypeError,
     "progress: expected a function progress(done, total), got int"),
    (lambda: _model().run(progress="x"), TypeError, "progress: expected a function"),
    (lambda: _build("baseline", np.random.default_rng(0)), TypeError,
     "scenario: expected a Scenario, got str"),
    (lambda: _build(load_scenario("two_player_pd"), 5), TypeError,
     "rng: expected a numpy Generator"),
    (lambda: _holds("results", "1 > 0"), TypeError, "results: expected the Results of a folder"),
    (lambda: _holds(None, 5), TypeError, "condition: expected text, got int"),
    (lambda: _game("games_at", "two_player_pd", 2031), TypeError, "years: expected a list of years"),
    (lambda: _game("games_at", "two_player_pd", [2031], seed=-1), ValueError,
     "seed: at least 0, got -1"),
    (lambda: _game("games_at", 5, [2031]), TypeError, "scenario: expected a Scenario or a library"),
    (lambda: _game("game_path", "two_player_pd", every=1.5), TypeError,
     "every: expected a whole number"),
    (lambda: _game("game_path", "two_player_pd", steps="x"), TypeError,
     "steps: expected a whole number"),
    (lambda: run_experiment("exp.toml", workers="2"), TypeError, "workers: expected a whole number"),
    (lambda: run_experiment("exp.toml", workers=-1), ValueError, "workers: at least 1, got -1"),
    (lambda: run_experiment("exp.toml", chunk_size=0), ValueError, "chunk_size: at least 1"),
    (lambda: run_experiment("exp.toml", series="bogus"), ValueError,
     "series: expected 'all', 'model' or 'none'"),
    (lambda: run_experiment("exp.toml", force="no"), TypeError, "force: expected True or False"),
    (lambda: run_experiment("exp.toml", progress="x"), TypeError, "progress: expected a function"),
    (lambda: _analyse(123), TypeError, "folder: expected a results folder's path, got int"),
    (lambda: _analyse("results/exp", resamples=0), ValueError, "resamples: at least 100, got 0"),
    (lambda: _analyse("results/exp", resamples=True), TypeError, "resamples: expected a whole"),
    (lambda: _analyse("results/exp", reference=""), ValueError, "reference: empty name"),
])
def test_the_api_names_any_other_bad_argument(ws, call, kind, message):
    before = tree(ws)
    with pytest.raises(kind, match=re.escape(message)):
        call()
    assert tree(ws) == before


def _build(*args):
    from sim.model.build import build

    return build(*args)


def _holds(*args):
    from sim.explore.discover import holds

    return holds(*args)


def _game(name, *args, **kwargs):
    from sim.explore import game

    return getattr(game, name)(*args, **kwargs)


def _analyse(*args, **kwargs):
    from sim.report.compare import analyse

    return analyse(*args, **kwargs)


def _model(scenario="two_player_pd", **kwargs):
    from sim.model import LunarModel

    return LunarModel(scenario, **kwargs)


@pytest.mark.parametrize("kwargs, kind, message", [
    ({"steps": -1}, ValueError, "steps: at least 1, got -1"),
    ({"steps": 0}, ValueError, "steps: at least 1, got 0"),
    ({"steps": "ten"}, TypeError, "steps: expected a whole number"),
    ({"steps": 10**9}, ValueError, "steps: at most"),
    ({"seed": -1}, ValueError, "seed: at least 0"),
    ({"rule_sets": "baseline"}, TypeError, "rule_sets: expected a list of scenario names"),
    ({"rule_sets": []}, ValueError, "rule_sets: name at least one scenario"),
    ({"rule_sets": ["baseline", "atlantis"]}, ValueError, "rule_sets: atlantis: no scenario"),
])
def test_ema_model_names_a_bad_argument_before_the_workbench_runs(kwargs, kind, message):
    pytest.importorskip("ema_workbench")
    from sim.explore.ema import ema_model

    with pytest.raises(kind, match=message):
        ema_model(**kwargs)


def test_ema_model_takes_one_rule_set_as_a_constant():
    pytest.importorskip("ema_workbench")
    from sim.explore.ema import ema_model

    model = ema_model(rule_sets=["two_player_pd"], steps=2)
    assert "rule_set" not in [lever.name for lever in model.levers]
    assert model.function().keys() == {o.name for o in model.outcomes}  # runs two_player_pd


# --- a metric of a run that overflowed: one line, no warning -------------------------------------

def test_a_run_whose_metric_overflows_fails_in_one_line_without_a_warning(monkeypatch, capfd):
    import warnings

    from sim.model import metrics

    real = metrics.MODEL_METRICS["ree_price_usd_per_kg"]

    def overflowing(history):
        values = real.fn(history)
        return values * np.float64(1e308) * 10.0  # inf, with numpy's overflow warning

    monkeypatch.setitem(metrics.MODEL_METRICS, "ree_price_usd_per_kg",
                        metrics.Metric(**{**vars(real), "fn": overflowing}))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(RunFailed, match="'ree_price_usd_per_kg' is inf at step 0"):
            run_scenario(load_scenario("two_player_pd"), seed=1, steps=2)
    assert [str(w.message) for w in seen] == []


# --- a folder lunarsim may not write -------------------------------------------------------------

@pytest.mark.parametrize("code", ["EROFS", "EACCES"])
def test_a_results_folder_that_cannot_be_written_is_named_as_such(ws, monkeypatch, code):
    import errno

    real = os.open

    def refused_here(path, *args, **kwargs):
        if str(path).endswith(LOCK_NAME):
            raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refused_here)
    before = tree(ws)
    line = refused(_invoke(["compare", "results/exp"]), f"results/exp: cannot be written here "
                                                         f"({os.strerror(getattr(errno, code))})")
    assert "make it writable, or copy it somewhere writable" in line and "move it away" not in line
    assert tree(ws) == before
