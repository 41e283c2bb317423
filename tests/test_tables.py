"""Every results table follows the column convention of ``sim.base.columns`` (and ``results/README.md``):
snake_case names usable unquoted in SQL, units as suffixes, counts as integers, flags as
booleans, every part of a table with one schema, and the run's identity on every table."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sim.base.columns import IDENTITY, NAME, SUFFIX
from sim.cli import app
from sim.experiment import run_experiment
from sim.experiment.store import TABLES
from sim.model.metrics import MODEL_METRICS, NATION_METRICS

EXPERIMENT = """
name = "tables"
scenarios = ["baseline", "open_access"]
replicates = 2
master_seed = 3
horizon_years = 1.0

[sweep]
"economics.synergy" = [0, 0.3]   # an int and a float: one float column all the same
"""

# Columns whose kind no metric declares: the run's identity, and the summaries' counts.
STRINGS = {"scenario", "nation", "toward", "bloc", "error", "traceback"}
INTEGERS = {"run", "point", "seed", "replicate", "step", "steps", "incidents", "control_episodes"}
UNITS = {m.name: m.unit for m in (*MODEL_METRICS.values(), *NATION_METRICS.values())}


def expected_type(column: str) -> str:
    unit = UNITS.get(column)
    if column in STRINGS or unit == "label":
        return "string"
    if column in INTEGERS or unit == "count":
        return "int64"
    if unit == "flag":
        return "bool"
    return "double"


def arrow_kind(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    return str(t)


def check_schema(schema: pa.Schema, where: str) -> None:
    for field in schema:
        assert NAME.match(field.name), f"{where}: {field.name!r} is not a plain snake_case name"
        assert arrow_kind(field.type) == expected_type(field.name), (
            f"{where}: {field.name} is {field.type}, expected {expected_type(field.name)}")
        unit = UNITS.get(field.name)
        if unit in SUFFIX:
            assert field.name.endswith(SUFFIX[unit]), f"{where}: {field.name} lacks its unit"


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("tables")
    (tmp / "tables.toml").write_text(EXPERIMENT)
    run_experiment(tmp / "tables.toml", backend="serial", out=tmp / "out", chunk_size=3)
    return tmp / "out"


@pytest.mark.parametrize("table", [t for t in TABLES if t != "failures"])
def test_every_part_of_a_table_has_the_conventional_schema(experiment, table):
    parts = sorted((experiment / table).glob("*.parquet"))
    assert len(parts) >= 2  # several chunks, so that parts could disagree
    schemas = [pq.read_schema(p).remove_metadata() for p in parts]
    assert all(s.equals(schemas[0]) for s in schemas), f"{table}: parts differ in schema"
    check_schema(schemas[0], table)
    assert schemas[0].names[:4] == list(IDENTITY), f"{table} does not start with the identity"
    whole = ds.dataset(experiment / table, format="parquet").to_table()
    assert whole.num_rows > 0 and whole.column("run").null_count == 0


def test_design_parameters_are_float_columns_without_dots(experiment):
    runs = ds.dataset(experiment / "runs", format="parquet").to_table()
    assert runs.schema.field("economics__synergy").type == pa.float64()
    assert sorted(set(runs.column("economics__synergy").to_pylist())) == [0.0, 0.3]


def test_counts_and_flags_hold_whole_numbers_and_truth_values(experiment):
    nations = ds.dataset(experiment / "series_nations", format="parquet").to_table().to_pandas()
    model = ds.dataset(experiment / "series_model", format="parquet").to_table().to_pandas()
    # the model's incidents are pairs: half the nations' count, which must therefore be even
    per_step = nations.groupby(["run", "step"])["incidents"].sum()
    counted = model.set_index(["run", "step"])["incidents"]
    assert (per_step == 2 * counted.loc[per_step.index]).all()
    members = nations.groupby(["run", "step"])["member"].sum()
    assert (members == model.set_index(["run", "step"])["regime_members"].loc[members.index]).all()


def test_a_run_folders_tables_follow_the_same_convention(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "two_player_pd", "--steps", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("series_model", "series_nations", "summary_nations", "pairs"):
        check_schema(pq.read_schema(out / f"{name}.parquet").remove_metadata(), name)


@pytest.mark.parametrize("last_scenario", ["c", None])
def test_a_table_read_from_its_parts_is_its_parts_joined_one_by_one(tmp_path, last_scenario):
    """A table's parts are read at once (in threads, converted to pandas once): the frame must
    be the one reading and joining them one by one gives (values, types, index, order), also
    where one part's column holds nothing (typed null there, which Arrow cannot join as is)."""
    import numpy as np
    import pandas as pd

    from sim.experiment.store import _concatenated

    frames = [pd.DataFrame({"run": [1, 2], "scenario": ["a", "b"], "x": [0.5, np.nan]}),
              pd.DataFrame({"run": [3], "scenario": [last_scenario], "x": [1.5]}),
              pd.DataFrame({"run": [7, 4], "scenario": ["d", "e"], "x": [2.0, -1.0]})]
    paths = []
    for k, frame in enumerate(frames):
        paths.append(tmp_path / f"part{k}.parquet")
        frame.to_parquet(paths[-1], index=False)
    want = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    pd.testing.assert_frame_equal(_concatenated(paths), want)
    assert list(_concatenated(paths)["run"]) == [1, 2, 3, 7, 4]
