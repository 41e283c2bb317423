"""One run of one scenario: the model stepped to its horizon, its series as tables, and the
folder it writes (series, summary, manifest, figure), written whole or not at all."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.base.arguments import whole_number
from sim.base.errors import BadType, RunFailed
from sim.base.io import (
    STAGE_MARK,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_parquet,
    json_default,
    sha256_file,
    staged_dir,
)
from sim.base.shown import shown_argv, shown_path
from sim.model.metrics import CHANNELS, series_units
from sim.model.model import LunarModel
from sim.scenario import Scenario, content_hash

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PACKAGES = ("lunarsim", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "matplotlib")


Columns = dict[str, np.ndarray]


@dataclass
class RunResult:
    """One run's numbers as column arrays; the tables are built from them when asked for
    (a batch concatenates the columns of many runs instead, which is much cheaper)."""

    scenario: Scenario
    seed: int
    steps: int
    names: tuple[str, ...]
    model_columns: Columns  # one entry per step (0 = the initial state)
    nation_columns: Columns  # [steps, N] per metric, and "bloc"
    pair_share: np.ndarray  # [N, N] share of steps i played C toward j
    events: list[tuple[int, float, str]] = field(default_factory=list)
    channels: dict[str, float] = field(default_factory=dict)  # welfare by channel, USD bn

    @property
    def model_series(self) -> pd.DataFrame:
        """One row per step."""
        return pd.DataFrame(self.model_columns)

    @property
    def nation_series(self) -> pd.DataFrame:
        """One row per step and nation."""
        return pd.DataFrame(self.nation_series_columns())

    @property
    def pairs(self) -> pd.DataFrame:
        """Who cooperated with whom: one row per ordered pair of distinct nations."""
        return pd.DataFrame(self.pair_columns())

    @property
    def title(self) -> str:
        return f"Scenario {self.scenario.name}, seed {self.seed}"

    def figure(self) -> Figure:
        """The run's figure (:func:`sim.experiment.figure.run_figure`)."""
        from sim.experiment.figure import run_figure  # matplotlib is imported only when drawing

        return run_figure(self.model_series, self.nation_series,
                          self.scenario.time.steps_per_year, self.title)

    @property
    def nation_summary(self) -> pd.DataFrame:
        return pd.DataFrame(self.nation_summary_columns())

    def nation_series_columns(self) -> Columns:
        n, steps = len(self.names), self.model_columns["step"]
        return {"step": np.repeat(steps, n), "year": np.repeat(self.model_columns["year"], n),
                "nation": np.tile(np.array(self.names, dtype=object), len(steps))
                } | {k: v.reshape(-1) for k, v in self.nation_columns.items()}

    def pair_columns(self) -> Columns:
        i, j = np.nonzero(~np.eye(len(self.names), dtype=bool))
        names = np.array(self.names, dtype=object)
        return {"nation": names[i], "toward": names[j], "cooperation": self.pair_share[i, j]}

    def nation_summary_columns(self) -> Columns:
        """Per nation: welfare (net product) and the gross output, investment and end capital
        behind it; propellant and capacity; mean cooperation; incidents; rare earths."""
        c = self.nation_columns
        played = slice(1, None)
        return {
            "nation": np.array(self.names, dtype=object),
            "bloc": c["bloc"][-1],
            "welfare_usd_bn": c["welfare_usd_bn"][-1],
            "welfare_lunar_usd_bn": c["welfare_lunar_usd_bn"][-1],
            "ree_costs_usd_bn": c["ree_cost_usd_bn"][played].sum(axis=0),
            "welfare_discounted_usd_bn": c["welfare_discounted_usd_bn"][-1],
            "gross_output_usd_bn": c["gross_output_usd_bn"][played].sum(axis=0),
            "investment_usd_bn": c["investment_usd_bn"][played].sum(axis=0),
            "capital_usd_bn": c["capital_usd_bn"][-1],
            "propellant_t": c["propellant_t"][-1],
            "capacity_t_per_yr": c["capacity_t_per_yr"][-1],
            "cooperation_rate": np.nanmean(c["cooperation"][played], axis=0) if self.steps
            else np.full(len(self.names), np.nan),
            "incidents": c["incidents"][played].sum(axis=0),
            "ree_shortfall_cost_usd_bn": c["shortfall_cost_usd_bn"][played].sum(axis=0),
            "import_dependence": c["import_dependence"][-1],
            "controlled_years": c["export_control"][played].sum(axis=0) / self.scenario.time.steps_per_year,
            "control_episodes": control_episodes(c["export_control"]),
            "retaliation_years": c["retaliation"][played].sum(axis=0) / self.scenario.time.steps_per_year,
            "member_years": c["member"][played].sum(axis=0) / self.scenario.time.steps_per_year,
        }

    @property
    def overall(self) -> dict[str, float | int]:
        m = self.model_columns
        played = slice(1, None)
        return {
            "welfare_total_usd_bn": float(m["welfare_total_usd_bn"][-1]),
            "welfare_lunar_total_usd_bn": float(m["welfare_lunar_total_usd_bn"][-1]),
            "ree_costs_total_usd_bn": float(m["ree_costs_total_usd_bn"][-1]),
            "welfare_discounted_total_usd_bn": float(m["welfare_discounted_total_usd_bn"][-1]),
            "gross_output_usd_bn": float(m["gross_output_step_usd_bn"][played].sum()),
            "investment_usd_bn": float(m["investment_step_usd_bn"][played].sum()),
            "investment_expected_npv_usd_bn": float(
                m["investment_expected_npv_step_usd_bn"][played].sum()),
            "unworked_share": _unworked(m),
            "capital_usd_bn": float(m["capital_total_usd_bn"][-1]),
            "propellant_t": float(m["propellant_step_t"][played].sum()),
            "ree_delivered_t": float(m["ree_delivered_step_t"][played].sum()),
            "incidents": int(m["incidents"][played].sum()),
            "cooperation_rate": float(np.mean(m["cooperation_rate"][played])) if self.steps else float("nan"),
            "best_site_depletion": float(m["best_site_depletion"][-1]),
            "ree_price_usd_per_kg": float(m["ree_price_usd_per_kg"][-1]),
            "leverage_index": float(m["leverage_index"][-1]),
            "importer_dependence": float(m["importer_dependence"][-1]),
            "refining_built_t_per_yr": float(m["refining_built_t_per_yr"][-1]),
            "control_episodes": int(control_episodes(self.nation_columns["export_control"]).sum()),
            "ree_shortfall_cost_usd_bn": float(m["shortfall_cost_total_usd_bn"][played].sum()),
            "ree_break_even_usd_per_kg": _nanmax(m["ree_break_even_usd_per_kg"][:-1]),
            "gini_welfare": float(m["gini_welfare"][-1]),
        } | {f"channel_{name}_usd_bn": value for name, value in self.channels.items()}


def control_episodes(flags: np.ndarray) -> np.ndarray:
    """Spells under the holder's export control, per nation, from [steps, N] flags (row 0:
    the start, when nobody is yet under control)."""
    on = np.asarray(flags, dtype=bool)
    return (on[1:] & ~on[:-1]).sum(axis=0).astype(np.int64)


def _unworked(m: Columns) -> float:
    """Share of all the regolith brought over the run that crowding left unworked (NaN if none
    was brought)."""
    brought = float(m["regolith_brought_step_t"][1:].sum())
    if brought <= 0:
        return float("nan")
    unworked = m["unworked_share"][1:] * m["regolith_brought_step_t"][1:]
    return float(np.nansum(unworked) / brought)


def _nanmax(values: np.ndarray) -> float:
    """Largest value, NaN if there is none (a run too short for plants to exist)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[~np.isnan(finite)]
    return float(finite.max()) if finite.size else float("nan")


def run_scenario(
    scenario: Scenario,
    seed: int,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run ``scenario`` with master seed ``seed`` (a whole number, 0 or more) to its horizon or
    ``steps``. A bad argument raises :class:`~sim.base.errors.BadType` (a TypeError) or
    :class:`~sim.base.errors.BadValue` (a ValueError) naming it; a run whose numbers overflow
    raises :class:`~sim.base.errors.RunFailed`."""
    if not isinstance(scenario, Scenario):
        raise BadType(f"scenario: expected a Scenario (sim.load_scenario(...)), got "
                      f"{type(scenario).__name__}")
    seed = whole_number(seed, "seed", low=0)
    steps = scenario.steps_to_run(steps)
    if progress is not None and not callable(progress):
        raise BadType(f"progress: expected a function progress(done, total), got "
                      f"{type(progress).__name__}")
    with np.errstate(all="ignore"):  # overflow in extreme corners: check_finite reports it
        model = LunarModel(scenario, rng=seed, steps=steps).run(progress)
    result = result_of(model, seed)
    model.release()  # batches run thousands of models in one process
    check_finite(result)
    return result


def result_of(model: LunarModel, seed: int) -> RunResult:
    """The numbers of ``model`` as stepped so far: the whole run once it reaches its horizon
    (what ``lunarsim run`` reports), or the run to date (what the interactive page shows).
    A metric of a run that overflowed is computed without a warning: :func:`check_finite`
    reports the run."""
    with np.errstate(all="ignore"):
        table = model.recorder.model_table()
        columns = {"step": table.pop("step")}
        columns["year"] = model.spec.time.start_year + columns["step"] / model.steps_per_year
        history = model.recorder.history()
        channels = {name: float(history[f"channel_{name}"].sum()) for name in CHANNELS}
        return RunResult(model.spec, seed, model.steps, model.names, columns | table,
                         model.recorder.nation_table(), model.pair_cooperation(),
                         list(model.event_log), channels)


def headline(result: RunResult) -> list[tuple[str, str]]:
    """The run's outcomes in words and numbers, as ``lunarsim run`` and the page show them."""
    o = result.overall
    return [("total welfare", f"{o['welfare_total_usd_bn']:,.2f} USD bn"),
            ("incidents", f"{o['incidents']}"),
            ("cooperation", _shown("{:.0%}", o["cooperation_rate"])),
            ("best-site depletion", f"{o['best_site_depletion']:.2%}"),
            ("rare earths to Earth", f"{o['ree_delivered_t']:,.0f} t"),
            ("leverage", f"{o['leverage_index']:.0%}")]


# Each nation's outcomes as ``lunarsim run`` and the page show them: (heading, column, format)
NATION_ROWS = (("welfare", "welfare_usd_bn", "{:,.2f}"), ("propellant", "propellant_t", "{:,.0f}"),
               ("cooperation", "cooperation_rate", "{:.0%}"), ("incidents", "incidents", "{}"))


def nation_rows(result: RunResult) -> list[list[str]]:
    """One row per nation: name, bloc, then the :data:`NATION_ROWS` formatted."""
    summary = result.nation_summary_columns()
    return [[str(summary["nation"][i]), str(summary["bloc"][i])]
            + [_shown(fmt, summary[column][i]) for _, column, fmt in NATION_ROWS]
            for i in range(len(result.names))]


def _shown(fmt: str, value: float) -> str:
    """``value`` formatted; a dash where it is undefined (no cooperation before any step)."""
    return "—" if isinstance(value, float) and np.isnan(value) else fmt.format(value)


# Shares of C among pairs of a kind are undefined (NaN) where there are no such pairs, and
# every share of C is undefined at step 0, before anyone has played.
UNDEFINED_WITHOUT_PAIRS = {"cooperation_within_blocs", "cooperation_across_blocs"}
UNDEFINED_AT_START = {"cooperation_rate", "cooperation", "cooperation_received"}
# The rare-earth break-even is undefined until plants exist, and without a KREEP site to work.
UNDEFINED_WITHOUT_PLANTS = {"ree_break_even_usd_per_kg", "unworked_share"}
# What membership is worth is undefined for a nation that does not choose it.
UNDEFINED_UNLESS_CHOSEN = {"membership_gain_usd_bn_per_yr", "membership_gain_sharing_usd_bn_per_yr",
                           "membership_gain_sanctions_usd_bn_per_yr",
                           "membership_gain_fee_usd_bn_per_yr",
                           "membership_gain_standing_usd_bn_per_yr"}


def check_finite(result: RunResult) -> None:
    """Raise :class:`RunFailed` if any reported number is infinite, or NaN where it must be
    defined: such a run is a failure with its reason, never a result."""
    tables = (("model", result.model_columns), ("nations", result.nation_columns))
    for table, columns in tables:
        for name, values in columns.items():
            values = np.asarray(values)
            if values.dtype.kind != "f" or name in (UNDEFINED_WITHOUT_PAIRS | UNDEFINED_WITHOUT_PLANTS
                                                     | UNDEFINED_UNLESS_CHOSEN):
                bad = np.isinf(values) if values.dtype.kind == "f" else None
            else:
                bad = ~np.isfinite(values)
                if name in UNDEFINED_AT_START:
                    bad[0] = np.isinf(values[0])
            if bad is not None and bad.any():
                step = int(np.argwhere(bad)[0][0])
                raise RunFailed(f"{result.scenario.name}, seed {result.seed}: {table} metric "
                                f"{name!r} is {values[bad].flat[0]} at step {step}; the model "
                                "cannot handle these parameters (please report it)")


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a run folder lunarsim wrote: its manifest says so and lists every
    other file in it with its SHA-256 (so a folder where the user has put or edited anything is
    not)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        entries = {p.name: p for p in folder.iterdir()}
    except (OSError, ValueError, RecursionError):
        return False
    if not isinstance(manifest, dict) or manifest.get("kind") != "run":
        return False
    claimed = manifest.pop("manifest_sha256", None)
    if claimed != _digest(manifest):
        return False  # the manifest was edited: the folder is the user's now
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return False
    for name, path in entries.items():
        if name in ("manifest.json", STAGE_MARK):  # the mark: a run cut short as it finished
            continue
        if name not in listed or path.is_symlink() or not path.is_file():
            return False  # something of the user's
        if sha256_file(path) != listed[name]:
            return False  # edited since lunarsim wrote it: the user's now
    return True


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_run(result: RunResult, out: Path, *, source: Path | None = None,
              overrides: tuple[str, ...] = (), figure: bool = True) -> Path:
    """Write a run's folder at ``out`` atomically: it appears complete, or not at all. ``out``
    may be new, an empty folder or an earlier run folder; anything else is refused."""
    with run_folder(out) as stage:
        fill_run_folder(result, stage, source=source, overrides=overrides, figure=figure)
    return out


def run_folder(out: Path, label: str | None = None) -> contextlib.AbstractContextManager[Path]:
    """A staging folder that becomes the run folder ``out`` when the block succeeds. Open it
    before running, so that an ``--out`` that cannot be written costs no simulation.
    ``label`` names the output in messages (default ``--out OUT``)."""
    return staged_dir(Path(out), owned=is_run_folder, label=label)


def fill_run_folder(result: RunResult, stage: Path, *, source: Path | None = None,
                    overrides: tuple[str, ...] = (), figure: bool = True) -> None:
    """A run's files: series, summary, pairs, figure, and the manifest listing them all."""
    atomic_write_parquet(stage / "series_model.parquet", result.model_series)
    atomic_write_parquet(stage / "series_nations.parquet", result.nation_series)
    atomic_write_parquet(stage / "summary_nations.parquet", result.nation_summary)
    atomic_write_bytes(stage / "summary_nations.csv",
                       result.nation_summary.to_csv(index=False).encode())
    atomic_write_parquet(stage / "pairs.parquet", result.pairs)
    if figure:
        from sim.experiment.figure import plot_run  # matplotlib is imported only when drawing

        plot_run(result.model_series, result.nation_series, result.scenario.time.steps_per_year,
                 result.title, stage / "run.png")
    manifest = {
        "kind": "run",
        "scenario": result.scenario.name,
        "scenario_file": None if source is None else shown_path(source),  # (no one's folders)
        "scenario_sha256": content_hash(result.scenario),
        "overrides": list(overrides),
        "seed": result.seed,
        "steps": result.steps,
        "summary": result.overall,
        "events": [{"step": s, "year": y, "what": w} for s, y, w in result.events],
        "units": series_units(),
        "versions": versions(),
        "command": shown_argv(sys.argv),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {p.name: sha256_file(p) for p in sorted(stage.iterdir())
                  if p.name != STAGE_MARK},
    }
    manifest = json.loads(json.dumps(manifest, default=json_default))  # as it will read back
    atomic_write_json(stage / "manifest.json", manifest | {"manifest_sha256": _digest(manifest)})


def _digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of a manifest's canonical JSON (so an edited manifest is noticed)."""
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
