"""Every parameter's plausible range and its source, read from one home: ``sim/scenario/calibration.toml``.

``docs/calibration.md``'s parameter tables are written from it (``python -m sim.scenario.calibration
docs/calibration.md``; a test checks that they are current), and sensitivity analysis, scenario
discovery and ``benchmarks/levers.py`` read it. Defaults are not repeated there: they are the
schema's and the scenario files' own, and the tables show both.

A parameter acts on a scenario's raw table (:meth:`Parameter.apply`), so one name can stand for
several fields: ``strategy.S.P`` sets P on every nation playing S, ``nations.*.budget_usd_bn``
scales every nation's budget.
"""

from __future__ import annotations

import copy
import re
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

HOME = Path(__file__).with_name("calibration.toml")
Kind = Literal["economics", "market", "trust", "strategy", "regime", "nations", "sites"]
SECTIONS: dict[str, Kind] = {"economics": "economics", "market": "market", "trust": "trust",
                             "strategies": "strategy", "regime": "regime", "facts": "nations"}
NAME = re.compile(r"^(economics|market|trust|strategy|regime|nations|sites)(\.[^.]+){1,3}$")


class Parameter(BaseModel):
    """One entry of ``calibration.toml`` (see its header for the fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name: str = Field(pattern=NAME.pattern)
    label: str = Field(min_length=1, description="the parameter in words")
    unit: str
    source: str = Field(min_length=1)
    range: tuple[float, float] | None = None
    log: bool = False
    symbol: str | None = None
    range_note: str | None = None
    where: str = "baseline"
    inert: str | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        if self.range is not None:
            low, high = self.range
            if not low < high:
                raise ValueError(f"{self.name}: range must run from low to high")
            if self.log and low <= 0:
                raise ValueError(f"{self.name}: a log range must be positive")
        return self

    @property
    def kind(self) -> Kind:
        return self.name.split(".", 1)[0]  # type: ignore[return-value]

    @property
    def parts(self) -> list[str]:
        return self.name.split(".")

    @property
    def relative(self) -> bool:
        """Its values multiply each scenario's own (budgets, site grades)."""
        return self.kind in ("nations", "sites")

    @property
    def assumption(self) -> bool:
        return self.source.lower().startswith("assumption")

    def scale(self, unit: np.ndarray) -> np.ndarray:
        """Points of [0, 1] mapped onto the range (on a log scale if ``log``)."""
        assert self.range is not None
        low, high = self.range
        unit = np.asarray(unit, dtype=float)
        if self.log:
            values = np.exp(np.log(low) + unit * (np.log(high) - np.log(low)))
        else:
            values = low + unit * (high - low)
        return np.clip(values, low, high)  # exactly the ends at 0 and 1, despite rounding

    def apply(self, raw: dict[str, Any], value: float) -> bool:
        """Set this parameter to ``value`` in the scenario table ``raw`` (resolved, changed in
        place). False if the scenario has nothing it acts on (no nation plays the strategy, the
        regime is another)."""
        parts = self.parts
        if self.kind in ("economics", "market") or (self.kind == "trust" and parts[1] != "pair"):
            raw.setdefault(self.kind, {})[parts[1]] = value
            return True
        if self.kind == "trust":
            return _set_pair(raw, parts[2], parts[3], value)
        if self.kind == "strategy":
            acted = False
            for nation in raw.get("nations", []):
                spec = _named(nation.get("strategy"))
                if parts[1] in EVERY_RULE or spec.get("name") == parts[1]:
                    nation["strategy"] = spec | {parts[-1]: value}
                    acted = True
            return acted
        if self.kind == "regime":
            regime = _named(raw.get("regime"))
            if regime.get("name") != parts[1]:
                return False
            raw["regime"] = regime | {parts[2]: value}
            return True
        items = raw.get("nations" if self.kind == "nations" else "sites", [])
        chosen = [item for item in items if parts[1] in ("*", item.get("name"), item.get("kind"))
                  and isinstance(item.get(parts[2]), int | float)]
        for item in chosen:
            item[parts[2]] = item[parts[2]] * value
        return bool(chosen)

    def value_in(self, raw: dict[str, Any]) -> Any:
        """The value a scenario table sets (None where it leaves the default, or has nothing
        this parameter acts on); relative parameters are 1 by definition."""
        parts = self.parts
        if self.relative:
            return 1.0
        if self.kind in ("economics", "market") or (self.kind == "trust" and parts[1] != "pair"):
            return raw.get(self.kind, {}).get(parts[1])
        if self.kind == "trust":
            return next((p.get("value") for p in raw.get("trust", {}).get("pairs", [])
                         if {p.get("a"), p.get("b")} == {parts[2], parts[3]}), None)
        if self.kind == "strategy":
            values = {_named(n.get("strategy")).get(parts[-1]) for n in raw.get("nations", [])
                      if parts[1] in EVERY_RULE or _named(n.get("strategy")).get("name") == parts[1]}
            return values.pop() if len(values) == 1 else None
        regime = _named(raw.get("regime"))
        return regime.get(parts[2]) if regime.get("name") == parts[1] else None

    def schema_default(self) -> Any:
        """The default the code gives this parameter (None for facts a scenario must state)."""
        from sim.rules.regimes import REGIMES
        from sim.rules.strategies import STRATEGIES
        from sim.scenario.schema import EconomicsSpec, MarketSpec, StrategySpec, TrustSpec

        parts = self.parts
        specs = {"economics": EconomicsSpec, "market": MarketSpec, "trust": TrustSpec}
        if self.kind in specs and parts[1] != "pair":
            return specs[self.kind].model_fields[parts[1]].default
        if self.kind == "strategy" and parts[1] in EVERY_RULE:
            return StrategySpec.model_fields[parts[1]].default
        if self.kind == "strategy":
            return STRATEGIES.get(parts[1]).Params.model_fields[parts[2]].default
        if self.kind == "regime":
            return REGIMES.get(parts[1]).Params.model_fields[parts[2]].default
        return None


EVERY_RULE = ("tremble", "linked")  # strategy.X for a field of every rule, not of one rule's


def _named(spec: Any) -> dict[str, Any]:
    """A strategy or regime as a table (``"x"`` is shorthand for ``{ name = "x" }``)."""
    if isinstance(spec, str):
        return {"name": spec}
    return dict(spec) if isinstance(spec, dict) else {}


def _set_pair(raw: dict[str, Any], a: str, b: str, value: float) -> bool:
    names = {n.get("name") for n in raw.get("nations", [])}
    if not {a, b} <= names:
        return False
    pairs = raw.setdefault("trust", {}).setdefault("pairs", [])
    for pair in pairs:
        if {pair.get("a"), pair.get("b")} == {a, b}:
            pair["value"] = value
            return True
    pairs.append({"a": a, "b": b, "value": value})
    return True


@cache
def parameters() -> tuple[Parameter, ...]:
    """Every entry of ``calibration.toml``, in its order."""
    with HOME.open("rb") as f:
        entries = tomllib.load(f)["parameter"]
    found = tuple(Parameter.model_validate(e) for e in entries)
    names = [p.name for p in found]
    twice = {n for n in names if names.count(n) > 1}
    if twice:
        raise ValueError(f"{HOME}: listed twice: {', '.join(sorted(twice))}")
    return found


def ranged() -> list[Parameter]:
    """The parameters with a range: what sensitivity analysis varies."""
    return [p for p in parameters() if p.range is not None]


def find(name: str) -> Parameter | None:
    """The parameter of that name, None if there is none."""
    return next((p for p in parameters() if p.name == name), None)


def get(name: str) -> Parameter:
    found = find(name)
    if found is None:
        raise KeyError(name)
    return found


def with_values(raw: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """A copy of the scenario table ``raw`` with each named parameter set."""
    out = copy.deepcopy(raw)
    for name, value in values.items():
        get(name).apply(out, value)
    return out


# --- the tables of docs/calibration.md ---------------------------------------------------------

MARK = re.compile(r"(<!-- calibration: (\w+) -->\n)(.*?)(<!-- /calibration -->)", re.S)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value).lower()
    if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
        return f"{value:g}"
    return f"{value:,.10g}"


def _default(p: Parameter, scenarios: dict[str, dict[str, Any]]) -> str:
    if p.default is not None:
        return p.default
    if p.relative:
        return "× 1"
    ours = p.schema_default()
    where = "baseline" if p.kind != "regime" else p.where
    theirs = p.value_in(scenarios[where])
    shown = _number(ours)
    if theirs is not None and theirs != ours:
        shown = f"{_number(theirs)} ({where})" if ours is None else f"{shown} ({where} {_number(theirs)})"
    return shown


def _range(p: Parameter) -> str:
    if p.range is None:
        text = "—"
    else:
        low, high = (_number(v) for v in p.range)
        text = f"× {low} – {high}" if p.relative else f"{low} – {high}"
        text += " (log)" if p.log else ""
    return f"{text} ({p.range_note})" if p.range_note else text


def table(section: str) -> str:
    """One section's table in Markdown."""
    from sim.scenario.loader import find_scenario, resolve_raw

    if section == "inert":
        rows = ["| parameter | why it does not move the outcomes measured |", "|---|---|"]
        rows += [f"| `{_short(p)}` | {p.inert} |" for p in parameters() if p.inert]
        return "\n".join(rows) + "\n"
    kinds = {"facts": ("nations", "sites")}.get(section, (SECTIONS[section],))
    chosen = [p for p in parameters() if p.kind in kinds]
    scenarios = {w: resolve_raw(find_scenario(w)) for w in {"baseline", *(p.where for p in chosen)}}
    rows = ["| parameter | default | unit | source | range |", "|---|---|---|---|---|"]
    for p in chosen:
        name = f"`{_short(p)}`" + (f" ({p.symbol})" if p.symbol else "")
        rows.append(f"| {name} | {_default(p, scenarios)} | {p.unit or '—'} | {p.source} | "
                    f"{_range(p)} |")
    return "\n".join(rows) + "\n"


def _short(p: Parameter) -> str:
    """The name as its section's table shows it (without the section's own prefix)."""
    return p.name.split(".", 1)[1] if p.kind in ("economics", "market", "trust", "strategy", "regime") \
        else p.name


def write_tables(text: str) -> str:
    """``text`` (docs/calibration.md) with every generated table replaced by a current one."""
    return MARK.sub(lambda m: m.group(1) + table(m.group(2)) + m.group(4), text)


def main(argv: list[str]) -> int:
    """``python -m sim.scenario.calibration FILE``: rewrite FILE's generated tables in place."""
    if len(argv) != 1:
        print("usage: python -m sim.scenario.calibration docs/calibration.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(write_tables(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
