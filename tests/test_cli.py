"""The command line: a run writes what it promises; each user mistake gets one line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim import load_scenario, run_scenario
from sim.cli import app
from sim.rules.strategies import STRATEGIES

runner = CliRunner()
GOOD_NATION = """
[[nations]]
name = "A"
bloc = "a"
budget_usd_bn = 1.0
strategy = "tit_for_tat"
"""
SITE = """
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
VALID = 'name = "tiny"\n' + GOOD_NATION + GOOD_NATION.replace('"A"', '"B"') + SITE


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_valid_tiny_scenario_runs_and_writes_everything(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(write(tmp_path, "t.toml", VALID)), "--steps", "3",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = {p.name for p in out.iterdir()}
    assert {"series_model.parquet", "series_nations.parquet", "summary_nations.csv",
            "manifest.json", "run.png"} <= files
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["steps"] == 3 and len(manifest["scenario_sha256"]) == 64
    series = pd.read_parquet(out / "series_model.parquet")
    assert list(series["step"]) == [0, 1, 2, 3]
    nations = pd.read_parquet(out / "series_nations.parquet")
    assert len(nations) == 4 * 2 and set(nations["nation"]) == {"A", "B"}


def test_a_runs_summary_reads_at_80_columns(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "baseline", "--steps", "2", "--out", str(out)],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if str(out) not in line]
    assert max(map(len, lines)) <= 80 and "…" not in result.stdout
    rows = {line.split("  ")[0]: line for line in lines}
    summary = pd.read_parquet(out / "summary_nations.parquet")
    for nation, incidents in zip(summary["nation"], summary["incidents"], strict=True):
        assert rows[nation].split()[-1] == str(incidents)  # every column of every nation shown


BAD = {
    "toml syntax": ('name = "x"\n[time\n', "TOML syntax error"),
    "unknown key": (VALID + "\n[economics]\nsynergyy = 0.1\n", "economics.synergyy: unknown key"),
    "wrong type": (VALID.replace("budget_usd_bn = 1.0", 'budget_usd_bn = "lots"', 1),
                   "nations.A.budget_usd_bn: Input should be a valid number"),
    "out of range": (VALID.replace("grade = 0.05", "grade = 1.5"), "sites.S.grade: Input should be less than or equal to 1"),
    "unknown strategy": (VALID.replace('"tit_for_tat"', '"tit_for_two"', 1),
                         "nations.A.strategy: unknown strategy 'tit_for_two'"),
    "unknown strategy parameter": (VALID.replace('strategy = "tit_for_tat"', 'strategy = { name = "tit_for_tat", memory = 2 }', 1),
                                   "nations.A.strategy: tit_for_tat: memory: unknown parameter"),
    "unknown regime": (VALID + '\n[regime]\nname = "anarchy"\n', "regime: unknown regime 'anarchy'"),
    "unknown nation": (VALID + '\n[[events]]\nyear = 2030\nname = "accede"\nnation = "Atlantis"\n',
                       "events.0.nation: unknown nation 'Atlantis'"),
    "unknown event": (VALID + '\n[[events]]\nyear = 2030\nname = "invasion"\n', "events.0: unknown event 'invasion'"),
    "duplicate nation": (VALID + GOOD_NATION, "nations: duplicate name 'A'"),
    "missing field": (VALID.replace("illumination = 0.5\n", ""), "sites.S.illumination: required field is missing"),
    "two problems": (VALID.replace("grade = 0.05", "grade = 1.5").replace(
        "budget_usd_bn = 1.0", 'budget_usd_bn = "lots"', 1), "(and 1 more problem)"),
    "a named list written as tables": (
        'extends = "baseline"\nname = "x"\n[nations."China"]\nstrategy = "tit_for_tat"\n',
        ('nations: write each as a [[nations]] table with its name (name = "China" under '
         '[[nations]]), not as [nations."China"]')),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_gets_one_line_naming_file_and_field(tmp_path, case):
    text, expected = BAD[case]
    path = write(tmp_path, "bad.toml", text)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--steps", "2", "--out", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: ") and expected in lines[0]
    assert not out.exists() and not any(tmp_path.glob(".out*"))
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_circular_extends(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    result = runner.invoke(app, ["scenarios", "validate", str(tmp_path / "a.toml")])
    assert result.exit_code == 2
    assert "circular extends a.toml -> b.toml -> a.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_that_changes_inherited_events_must_say_whether_it_keeps_them(tmp_path):
    """Events have no name to merge by. A file extending the baseline (India's 2023 accession)
    with events of its own is refused in one line until it says inherit_events; true adds its
    events after the inherited ones, false replaces them, false alone drops them."""
    event = '[[events]]\nyear = 2030.0\nname = "lift_law"\nlaw = "wolf_amendment"\n'
    head = 'extends = "baseline"\nname = "child"\n'
    write(tmp_path, "silent.toml", head + event)
    refused = runner.invoke(app, ["scenarios", "validate", str(tmp_path / "silent.toml")])
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "events: the scenario it extends (baseline) has 1 event; add inherit_events = true" \
        in refused.stderr
    kinds = {}
    for choice, body in (("true", event), ("false", event), ("false", "")):
        path = write(tmp_path, f"{choice}{len(body)}.toml",
                     head + f"inherit_events = {choice}\n" + body)
        kinds[(choice, bool(body))] = [(e.name, e.year) for e in load_scenario(path).events]
    assert kinds[("true", True)] == [("accede", 2023.47), ("lift_law", 2030.0)]
    assert kinds[("false", True)] == [("lift_law", 2030.0)]
    assert kinds[("false", False)] == []
    write(tmp_path, "root.toml", 'inherit_events = true\n' + VALID)
    alone = runner.invoke(app, ["scenarios", "validate", str(tmp_path / "root.toml")])
    assert alone.exit_code == 2 and "inherit_events: only a file that extends another" in alone.stderr
    assert [e.name for e in load_scenario("ree_export_control").events] == [
        "accede", "impose_export_control", "lift_export_control"]  # the library says so too


def test_missing_file_and_unknown_name(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "nope.toml: no such scenario file" in result.stderr
    result = runner.invoke(app, ["run", "no_such_scenario"])
    assert result.exit_code == 2 and "no_such_scenario: no scenario file or library scenario" in result.stderr


def test_bad_override_names_the_path(tmp_path):
    path = write(tmp_path, "t.toml", VALID)
    result = runner.invoke(app, ["run", str(path), "--set", "nations.Z.budget_usd_bn=3"])
    assert result.exit_code == 2 and "nations has no entry named 'Z'" in result.stderr
    result = runner.invoke(app, ["run", str(path), "--set", "economics.synergy=2"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: --set economics.synergy=2: economics.synergy: Input should be less than or equal to 1")
    result = runner.invoke(app, ["run", str(path), "--set", "nations.A.strategy=grim"])
    assert result.stderr.strip() == ("error: --set nations.A.strategy=grim: nations.A.strategy: "
                                     "unknown strategy 'grim' (known: "
                                     + ", ".join(STRATEGIES.names()) + ")")


def test_override_changes_the_run(tmp_path):
    path = write(tmp_path, "t.toml", VALID)
    result = runner.invoke(app, ["scenarios", "show", str(path), "--set", "nations.B.strategy=always_compete",
                                 "--set", 'nations.A.strategy.tremble=0.1'])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["nations"][1]["strategy"]["name"] == "always_compete"
    assert shown["nations"][0]["strategy"] == {"name": "tit_for_tat", "tremble": 0.1, "linked": False}


LIBRARY = {"baseline", "two_player_pd", "open_access", "artemis_accords", "rival_blocs",
           "multilateral_inclusive",
           "multilateral", "us_china_cooperation", "ree_export_control", "cheap_transport"}


def test_every_library_scenario_validates_and_runs(library):
    names = sorted(p.stem for p in library.glob("*.toml"))
    assert LIBRARY <= set(names)
    result = runner.invoke(app, ["scenarios", "validate", *names])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("ok  ") == len(names)
    for name in names:
        result = run_scenario(load_scenario(name), seed=1, steps=6)
        assert len(result.model_series) == 7 and result.nation_series["welfare_usd_bn"].notna().all()


def test_every_scenario_file_says_what_it_represents(library):
    for path in library.glob("*.toml"):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# ") and len(first) > 20, f"{path.name} has no opening comment"


def test_list_shows_each_scenario_with_a_description(library):
    result = runner.invoke(app, ["scenarios", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for path in library.glob("*.toml"):
        assert path.stem in result.stdout


def test_listing_and_validating_scenarios_never_load_the_compiler():
    """The step's kernels (numba) load with the first step, not with a command that steps
    nothing: ``scenarios list`` and ``scenarios validate`` stay quick."""
    baseline = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
    code = ("import sys; from typer.testing import CliRunner; from sim.cli import app; "
            "r = CliRunner(); "
            "assert r.invoke(app, ['scenarios', 'list']).exit_code == 0; "
            f"assert r.invoke(app, ['scenarios', 'validate', {str(baseline)!r}]).exit_code == 0; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
    stepped = subprocess.run([sys.executable, "-c", "import sys; from sim import load_scenario, run_scenario; "
                              "run_scenario(load_scenario('baseline'), seed=1, steps=1); "
                              "print('numba' in sys.modules)"],
                             capture_output=True, text=True, check=True)
    assert stepped.stdout.strip() == "True"  # the check above can see the compiler


def test_a_change_to_any_kernel_compiles_every_kernel_afresh(tmp_path):
    """Numba renews a cache only when the function's own file changes; a kernel inlines the
    kernels it calls from other files, so the cache folder is named by all their sources."""
    from sim.economy.kernels import cache_dir

    (tmp_path / "contest.py").write_text("def contest(): return 1\n")
    (tmp_path / "step.py").write_text("def resolve(): return contest()\n")
    before = cache_dir(tmp_path)
    assert cache_dir(tmp_path) == before and before.parent == tmp_path / "__pycache__"
    (tmp_path / "contest.py").write_text("def contest(): return 2\n")  # the callee only
    assert cache_dir(tmp_path) != before


def test_a_command_says_so_while_the_kernels_compile(tmp_path, monkeypatch, capsys):
    """The first runs after an install wait ~20 s for the compiler: the command says why, once
    the cache is cold, and not once it holds the kernels."""
    import sim.economy.kernels as kernels
    from sim.cli.console import say_if_compiling

    monkeypatch.setattr(kernels, "CACHE", tmp_path)
    assert kernels.cold()
    say_if_compiling()
    assert "compiling the model's kernels" in capsys.readouterr().out
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "step.resolve-41.py311.nbi").write_bytes(b"")
    assert not kernels.cold()
    say_if_compiling()
    assert capsys.readouterr().out == ""


def test_schema_is_json_schema_of_the_scenario():
    result = runner.invoke(app, ["scenarios", "schema"])
    schema = json.loads(result.stdout)
    assert schema["additionalProperties"] is False and "nations" in schema["required"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"  # editors know it


def test_same_seed_gives_byte_identical_series_from_the_real_command(tmp_path):
    env = os.environ | {"COLUMNS": "120"}

    def run(out: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sim", "run", "baseline", "--steps", "40", "--seed", "7",
             "--out", str(out), "--no-figure"], capture_output=True, text=True, env=env, check=False)

    first, second = run(tmp_path / "one"), run(tmp_path / "two")
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    for name in ("series_model.parquet", "series_nations.parquet"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_real_command_reports_a_user_error_without_traceback(tmp_path):
    path = write(tmp_path, "bad.toml", VALID.replace("grade = 0.05", "grade = -1"))
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(path)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {path}: sites.S.grade: Input should be greater than 0 (got -1)"]


@pytest.mark.parametrize("args", [["run"], ["run", "baseline", "--steps", "0"], ["flyto", "moon"]])
def test_usage_mistakes_get_one_line_too(args):
    proc = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr


def test_version_short_help_and_a_bare_command_answer_without_an_error():
    """`lunarsim --version`, `-h` anywhere; a bare `lunarsim` shows its help and no empty
    "error:" line (run as a user would, through the entry point)."""
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True,
                              text=True, timeout=120)

    from importlib.metadata import version

    got = cli("--version")
    assert got.returncode == 0 and got.stdout.strip() == f"lunarsim {version('lunarsim')}"
    for args in (("-h",), ("scenarios", "-h"), ("batch", "-h")):
        got = cli(*args)
        assert got.returncode == 0 and "Usage: " in got.stdout and not got.stderr, args
    bare = cli()
    assert "Usage: " in bare.stdout and "error" not in bare.stderr


def test_runs_changed_by_set_or_steps_never_replace_the_plain_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    plain = cli.invoke(app, ["run", "two_player_pd", "--steps", "4"])
    varied = cli.invoke(app, ["run", "two_player_pd", "--steps", "4", "--set",
                              "economics.synergy=0.3"])
    again = cli.invoke(app, ["run", "two_player_pd", "--steps", "4", "--set",
                             "economics.synergy=0.3"])
    assert plain.exit_code == varied.exit_code == again.exit_code == 0, plain.output
    folders = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len(folders) == 2 and all(f.startswith("run-two_player_pd-seed0-") for f in folders)
    whole = cli.invoke(app, ["run", "two_player_pd"])  # neither --set nor --steps: the plain name
    assert whole.exit_code == 0 and (tmp_path / "results" / "run-two_player_pd-seed0").is_dir()


def test_validate_lists_every_problem_of_a_file_one_line_each(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "baseline"\nname = "bad"\n[economics]\nsynergy = 5.0\n'
                   'race_advantage = -1\n[market]\ncoercion_weight = -3\n')
    result = CliRunner().invoke(app, ["scenarios", "validate", str(bad), "baseline"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    fields = ["economics.race_advantage", "economics.synergy", "market.coercion_weight"]
    assert len(lines) == 3 and all(f"bad.toml: {f}: " in line for line, f in zip(lines, fields,
                                                                                strict=True))
    assert result.stdout.startswith("ok  baseline")


def test_a_batch_without_a_terminal_logs_its_progress_in_plain_lines(tmp_path):
    experiment = tmp_path / "exp.toml"
    experiment.write_text('name = "exp"\nscenarios = ["two_player_pd"]\nreplicates = 10\n'
                          'master_seed = 1\nhorizon_years = 1.0\n')
    result = CliRunner().invoke(app, ["batch", str(experiment), "--out", str(tmp_path / "out"),
                                      "--backend", "serial"])
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stdout.splitlines() if x.startswith("runs: ")]
    counts = [int(x.split()[1]) for x in lines]
    assert counts == sorted(counts) and counts[-1] == 10 and 2 <= len(lines) <= 11
    assert all(x.endswith("runs/s)") and " of 10 done (" in x for x in lines)


def test_a_rule_across_fields_broken_by_set_names_the_set_that_broke_it():
    result = CliRunner().invoke(app, ["run", "baseline", "--set", "market.refining_share=0.5"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --set market.refining_share=0.5: "
                                    "market.refining_share: 0.5 is below"), result.stderr


@pytest.mark.parametrize("args", [["--help"], ["compare", "--help"], ["run", "--help"]])
def test_the_help_shows_no_type_beside_a_flag(args):
    """A flag takes no value: Typer 0.29 with Click 8.5 showed <bool> beside each (--version,
    --force, --help); options that take a value keep their type."""
    shown = runner.invoke(app, args, env={"COLUMNS": "200"}).output
    assert "<bool>" not in shown and "--help" in shown
    if args[0] == "compare":
        assert "<int range>" in shown  # --robustness takes a number


def test_the_help_names_the_robustness_study_s_default_size():
    """The CLI states the default without importing the analysis (it keeps `lunarsim --help`
    quick): the number it states is the one the study runs."""
    from sim.explore.robustness import POINTS, SEEDS

    shown = " ".join(runner.invoke(app, ["compare", "--help"], env={"COLUMNS": "200"}).output.split())
    assert f"(default {POINTS}; 0: neither)" in shown
    assert f"a point's numbers are their means (default {SEEDS})" in shown


def test_every_kernel_is_cached_in_the_folder_named_by_all_their_sources():
    """A kernel module imported after the package sets the cache folder back would cache in
    numba's default folder, where a change to a kernel it calls does not renew it."""
    import importlib
    import pkgutil

    import numba.core.registry

    import sim.economy.kernels as kernels

    modules = [m.name for m in pkgutil.iter_modules(kernels.__path__)]
    assert {"step", "tally", "learning"} <= set(modules)
    for name in modules:
        module = importlib.import_module(f"sim.economy.kernels.{name}")
        jitted = [f for f in vars(module).values()
                  if isinstance(f, numba.core.registry.CPUDispatcher)
                  and f.__module__ == module.__name__]
        assert jitted, name
        for f in jitted:
            assert Path(f._cache._cache_path).is_relative_to(kernels.CACHE), (name, f.__name__)
