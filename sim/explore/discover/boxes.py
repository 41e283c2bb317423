"""PRIM's boxes and a CART tree over the design points where a condition holds or fails (the
method, and which box is reported, are in :mod:`sim.explore.discover`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.base.arguments import finite_number, whole_number
from sim.base.errors import BadValue, UserError
from sim.explore.discover.conditions import Condition, parse
from sim.explore.discover.paired import _folder, _numeric, holds

if TYPE_CHECKING:
    from sim.analysis.results import Results

MIN_POINTS = 10  # fewer design points than this describe no region
SIGNIFICANT = 0.05  # a restriction with a quasi-p-value below this is significant

# --- discovery ---------------------------------------------------------------------------------



PRIM_WORDS = ("coverage: the share of the points where the condition holds that fall in the "
              "box; density: the share of the box's points where it holds; mass: the share of "
              "all points in the box; qp: the quasi-p-value of a restriction (the chance of a "
              "box that good without it, Bryant & Lempert 2010; below 0.05: significant).")

@dataclass(frozen=True)
class Discovery:
    """Where a condition holds: PRIM's boxes and a CART tree over the design points.

    ``boxes``: one row per box and analysed parameter: ``box`` (1, 2, ...), ``parameter``
    (dotted path), ``restricted``, the box's ``low``/``high``, the data's ``range_low``/
    ``range_high``, the restriction's quasi-p-value ``qp`` (NaN where unrestricted) and
    ``significant`` (qp < 0.05), and the box's ``coverage``, ``density``, ``mass``, ``points``
    (design points inside) and ``holding`` (of those, where the condition holds).
    ``trajectory``: every box on PRIM's peeling and pasting trajectory, ``chosen`` marking the
    reported ones. ``points``: :func:`holds`'s table (the data PRIM and CART saw).
    """

    condition: str
    points: pd.DataFrame
    parameters: dict[str, str]  # column of ``points`` -> dotted path, the ones analysed
    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    cart: str
    cart_accuracy: float
    cart_cv_accuracy: float  # NaN when a class has too few points to cross-validate
    base_rate: float  # share of design points where the condition holds
    rule: str
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """A few lines for the terminal."""
        n = len(self.points)
        held = int(self.points["holds"].sum())
        lines = [self.condition, (f"holds at {held} of {n} design points "
                                  f"({self.base_rate:.0%}); {self.rule}")]
        if self.boxes.empty or not self.boxes["restricted"].any():
            lines.append("PRIM: no box (see the notes)")
        for box, rows in self.boxes.groupby("box", sort=True):
            first = rows.iloc[0]
            lines.append(f"box {box}: coverage {first['coverage']:.2f}, density "
                         f"{first['density']:.2f}, mass {first['mass']:.2f} "
                         f"({int(first['holding'])} of {int(first['points'])} points hold)")
            for row in rows[rows["restricted"]].itertuples():
                flag = "" if row.significant else ", not significant"
                lines.append(f"  {row.parameter}: {_range_words(row)} (sampled "
                             f"{row.range_low:.4g} to {row.range_high:.4g}; qp {row.qp:.2g}{flag})")
        cv = ("" if math.isnan(self.cart_cv_accuracy)
              else f", cross-validated {self.cart_cv_accuracy:.2f}")
        lines.append(f"CART: accuracy {self.cart_accuracy:.2f}{cv} (always guessing the commoner "
                     f"answer: {max(self.base_rate, 1 - self.base_rate):.2f})")
        if not self.boxes.empty:
            lines.append(PRIM_WORDS)
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _range_words(row: Any) -> str:
    low_cut = row.low > row.range_low
    high_cut = row.high < row.range_high
    if low_cut and high_cut:
        return f"{row.low:.4g} to {row.high:.4g}"
    return f">= {row.low:.4g}" if low_cut else f"<= {row.high:.4g}"


def _design(results: Any) -> dict[str, str]:
    parameters = {c: p for c, p in dict(results.parameters).items() if c in results.runs.columns}
    if not parameters:
        raise UserError(f"{_folder(results)}: no sampled design (the experiment varies no "
                        "parameter); scenario discovery needs a [sample] of ranges")
    return parameters


def discover(results: Results, condition: str | Condition, *, threshold: float | None = None,
             min_coverage: float = 0.5, max_boxes: int = 1, peel_alpha: float = 0.05,
             paste_alpha: float = 0.05, mass_min: float = 0.05,
             tree_depth: int = 3) -> Discovery:
    """Where in the design does ``condition`` hold? PRIM's boxes and a CART tree over the
    design points of ``results`` (see the module's docstring for the rules)."""
    parameters = _design(results)
    parsed = condition if isinstance(condition, Condition) else parse(condition)
    points = holds(results, parsed)
    notes = []
    undefined = points["replicates"] == 0
    if undefined.any():
        notes.append(f"{int(undefined.sum())} design point(s) left out: the condition is "
                     "undefined on every replicate there (a NaN outcome or a failed run)")
        points = points[~undefined].reset_index(drop=True)
    if undefined.all():
        raise UserError(f"condition '{parsed.text}': no defined answer at any design point of "
                        f"{_folder(results)} (a division by zero, a number too large, or an "
                        "outcome undefined in every run)")
    if len(points) < MIN_POINTS:
        defined = " with a defined answer" if undefined.any() else ""
        raise UserError(f"{_folder(results)}: {len(points)} design point(s){defined}; scenario "
                        f"discovery needs at least {MIN_POINTS} (more [sample] points)")
    held = int(points["holds"].sum())
    if held in (0, len(points)):
        where = "every one" if held else "none"
        raise UserError(f"condition '{parsed.text}' holds at {where} of the {len(points)} design "
                        f"points of {_folder(results)}: nothing to discover (the region is "
                        f"{'all' if held else 'none'} of the sampled ranges)")
    return discover_points(points, points["holds"].to_numpy(dtype=bool), parameters=parameters,
                           condition=parsed.text, threshold=threshold, min_coverage=min_coverage,
                           max_boxes=max_boxes, peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                           mass_min=mass_min, tree_depth=tree_depth, notes=notes)


def discover_points(x: pd.DataFrame, y: Sequence[bool] | np.ndarray, *,
                    parameters: dict[str, str] | None = None, condition: str = "",
                    threshold: float | None = None, min_coverage: float = 0.5,
                    max_boxes: int = 1, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
                    mass_min: float = 0.05, tree_depth: int = 3,
                    notes: Sequence[str] = ()) -> Discovery:
    """PRIM and CART on a table of design points ``x`` and whether the condition holds at each
    (``y``). ``parameters`` maps the columns of ``x`` to analyse to their dotted paths (default:
    every numeric column, named as it is). The lower-level entry point of :func:`discover`."""
    y = np.asarray(y, dtype=bool)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must be one flag per row of x ({len(x)}), got shape {y.shape}")
    _check_options(threshold, min_coverage, max_boxes, peel_alpha, paste_alpha, mass_min,
                   tree_depth)
    notes = list(notes)
    if parameters is None:
        parameters = {c: str(c) for c in x.columns if _numeric(x[c]) or
                      pd.api.types.is_bool_dtype(x[c])}
    used: dict[str, str] = {}
    for column, path in parameters.items():
        values = x[column]
        if not (_numeric(values) or pd.api.types.is_bool_dtype(values)):
            notes.append(f"{path} left out: its values are not numbers")
        elif values.nunique(dropna=True) < 2:
            notes.append(f"{path} left out: it takes one value")
        elif values.isna().any():
            notes.append(f"{path} left out: it has missing values")
        else:
            used[column] = path
    if not used:
        raise UserError("no design parameter takes two numeric values or more: nothing to "
                        "describe the region by")
    if len(x) < MIN_POINTS:
        raise UserError(f"{len(x)} design points; scenario discovery needs at least {MIN_POINTS}")
    if y.all() or not y.any():
        raise UserError(f"the condition holds at {'every one' if y.all() else 'none'} of the "
                        f"{len(y)} design points: nothing to discover")
    frame = pd.DataFrame({path: x[column].to_numpy(dtype=float)
                          for column, path in used.items()})
    boxes, trajectory, rule = _prim(frame, y, threshold, min_coverage, max_boxes, peel_alpha,
                                    paste_alpha, mass_min, notes)
    text, accuracy, cv = _cart(frame, y, tree_depth, notes)
    points = x.reset_index(drop=True)
    if "holds" not in points.columns:
        points = points.assign(holds=y)
    return Discovery(condition, points, used, boxes, trajectory, text, accuracy, cv,
                     float(y.mean()), rule, tuple(notes))


def _check_options(threshold, min_coverage, max_boxes, peel_alpha, paste_alpha, mass_min,
                   tree_depth) -> None:
    def share(name: str, value: Any, low_open: bool) -> None:
        value = finite_number(value, name)
        if not (0 < value <= 1 if low_open else 0 <= value <= 1):
            raise BadValue(f"{name}: {value!r} is not a share "
                           f"({'above 0' if low_open else 'from 0'} up to 1)")

    if threshold is not None:
        share("threshold", threshold, True)
    share("min_coverage", min_coverage, False)
    share("mass_min", mass_min, True)
    for name, value in (("peel_alpha", peel_alpha), ("paste_alpha", paste_alpha)):
        share(name, value, True)
        if value >= 0.5:
            raise BadValue(f"{name}: {value!r}; PRIM peels less than half a box at a time")
    for name, value in (("max_boxes", max_boxes), ("tree_depth", tree_depth)):
        whole_number(value, name, low=1, high=20)


def _import(module: str):
    """Import an optional dependency (lunarsim[explore]); the workbench warns at import that
    ipyparallel is missing, which does not matter here."""
    import importlib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError as err:
        raise UserError(f"scenario discovery needs {module.split('.')[0]}: "
                        "pip install -e \".[explore]\" in the lunarsim folder") from err


def _choose(trajectory: pd.DataFrame, scale: float, threshold: float | None,
            min_coverage: float) -> int | None:
    """The box on a peeling trajectory to report (rule in the module's docstring)."""
    t = trajectory.assign(cov=trajectory["coverage"].to_numpy(dtype=float) / scale,
                          step=np.arange(len(trajectory)))
    if threshold is None:
        pick = t[t["cov"] >= min_coverage - 1e-12]
        order = ["density", "cov", "step"]
        ascending = [False, False, True]
    else:
        pick = t[t["density"] >= threshold - 1e-12]
        order = ["cov", "density", "res_dim", "step"]
        ascending = [False, False, True, True]
    if pick.empty:
        return None
    return int(pick.sort_values(order, ascending=ascending).iloc[0]["step"])


def _prim(frame: pd.DataFrame, y: np.ndarray, threshold: float | None, min_coverage: float,
          max_boxes: int, peel_alpha: float, paste_alpha: float, mass_min: float,
          notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    prim = _import("ema_workbench.analysis.prim")
    rule = ("box chosen: the densest on PRIM's trajectory with coverage >= "
            f"{min_coverage:g}" if threshold is None else
            f"box chosen: the highest coverage on PRIM's trajectory with density >= {threshold:g}")
    cases = int(y.sum())
    rows, steps = [], []
    init_low, init_high = frame.min(), frame.max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' FutureWarnings from inside the workbench
        # The workbench's threshold both counts the cases of interest (y >= it) and discards a
        # final box less dense than it: a tiny one counts y == 1 and keeps every trajectory, so
        # the choice is made here, by the stated rule.
        alg = prim.Prim(frame, y.astype(int), threshold=1e-9, peel_alpha=peel_alpha,
                        paste_alpha=paste_alpha, mass_min=mass_min)
        covered = np.zeros(len(y), dtype=bool)
        for number in range(1, max_boxes + 1):
            remaining = int((y & ~covered).sum())
            if remaining == 0:
                break
            box = alg.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory.reset_index(drop=True)
            i = _choose(trajectory, remaining / cases, threshold, min_coverage)
            steps.append(trajectory.assign(box=number, step=np.arange(len(trajectory)),
                                           chosen=np.arange(len(trajectory)) == i))
            if i is None:
                densest = float(trajectory["density"].max())
                if number == 1:
                    raise UserError(f"threshold: no PRIM box reaches density {threshold:g} (the "
                                    f"densest on the trajectory has {densest:.2f}); lower it")
                notes.append(f"no box {number}: none among the remaining points reaches density "
                             f"{threshold:g} (the densest has {densest:.2f})")
                break
            box.select(i)
            limits = box.box_lims[i]
            restricted = [p for p in frame.columns
                          if limits.at[0, p] > init_low[p] or limits.at[1, p] < init_high[p]]
            if not restricted:
                if number == 1:
                    notes.append("PRIM found no box: no peel of one range's edge raised the "
                                 "share of points where the condition holds (PRIM peels one edge "
                                 "at a time, so e.g. opposite corners escape it; see the CART "
                                 "tree)")
                break
            stats = trajectory.iloc[i]
            qp = {p: max([v for v in box.qp[i].get(p, []) if v >= 0], default=math.nan)
                  for p in restricted}
            for p in frame.columns:
                q = qp.get(p, math.nan)
                rows.append({"box": number, "parameter": p, "restricted": p in restricted,
                             "low": float(limits.at[0, p]), "high": float(limits.at[1, p]),
                             "range_low": float(init_low[p]), "range_high": float(init_high[p]),
                             "qp": q, "significant": bool(q < SIGNIFICANT),
                             "coverage": float(stats["coverage"]),
                             "density": float(stats["density"]), "mass": float(stats["mass"]),
                             "points": int(stats["n"]), "holding": int(stats["k"])})
            inside = np.ones(len(y), dtype=bool)
            for p in restricted:
                values = frame[p].to_numpy()
                inside &= (values >= limits.at[0, p]) & (values <= limits.at[1, p])
            covered |= inside
            weak = [p for p in restricted if not qp[p] < SIGNIFICANT]
            if weak:
                notes.append(f"box {number}: the restriction of {', '.join(weak)} is not "
                             f"significant (quasi-p >= {SIGNIFICANT:g}); it may be noise")
    columns = ["box", "parameter", "restricted", "low", "high", "range_low", "range_high", "qp",
               "significant", "coverage", "density", "mass", "points", "holding"]
    boxes = pd.DataFrame(rows, columns=columns)
    if not boxes.empty:  # restricted first, the most significant first
        boxes = (boxes.assign(_free=~boxes["restricted"], _qp=boxes["qp"].fillna(2.0))
                 .sort_values(["box", "_free", "_qp"], kind="stable")
                 .drop(columns=["_free", "_qp"]).reset_index(drop=True))
    keep = ["box", "step", "coverage", "density", "mass", "res_dim", "n", "k", "chosen"]
    trajectory = (pd.concat(steps, ignore_index=True)[keep] if steps else
                  pd.DataFrame(columns=keep))
    trajectory = trajectory.rename(columns={"res_dim": "restricted", "n": "points",
                                            "k": "holding"})
    return boxes, trajectory, rule


def _cart(frame: pd.DataFrame, y: np.ndarray, depth: int,
          notes: list[str]) -> tuple[str, float, float]:
    tree_module = _import("sklearn.tree")
    selection = _import("sklearn.model_selection")
    leaf = max(1, math.ceil(0.05 * len(y)))
    model = tree_module.DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf,
                                               random_state=0)
    model.fit(frame, y)
    names = list(frame.columns)
    classes = ["holds" if c else "fails" for c in model.classes_]
    text = tree_module.export_text(model, feature_names=names, class_names=classes,
                                   decimals=4, show_weights=True)
    accuracy = float(model.score(frame, y))
    smaller = int(min(y.sum(), (~y).sum()))
    cv = math.nan
    if smaller >= 2:
        folds = selection.StratifiedKFold(n_splits=min(5, smaller), shuffle=True, random_state=0)
        fresh = tree_module.DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf,
                                                   random_state=0)
        cv = float(selection.cross_val_score(fresh, frame, y, cv=folds).mean())
    else:
        notes.append("CART not cross-validated: the condition holds (or fails) at one point only")
    return text, accuracy, cv
