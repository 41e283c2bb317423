"""Cooperation against patience: a pair of forward-looking players over a range of δ, beside the
folk-theorem threshold and the size of the basin of attraction of always-defect that their stage
game implies — the laboratory's regularities (Dal Bó & Fréchette 2018) checked on the model.

``python -m sim.explore.game.patience docs/figures/patience.png`` draws the figure docs/ODD.md
shows (section 7.1); tests/test_plans.py asserts what it shows.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.explore.game.classes import _rst_p
from sim.rules.strategies.plans import Payoffs, basin_of_defection, cooperation_threshold


def patience_sweep(scenario: str = "two_player_pd", deltas: Iterable[float] = (0.5, 0.9),
                   seeds: Iterable[int] = range(4), tremble: float = 0.02,
                   **params: float) -> pd.DataFrame:
    """Every nation of ``scenario`` plays ``forward_looking`` with δ = each of ``deltas`` (and
    ``params``), trembling with probability ``tremble``. One row per δ and seed: the share of
    steps in which the first two nations both played C toward each other (``mutual``), the
    threshold δ* (per year) and the basin of always-D at δ of the first nation's stage game at
    the first step (the two-player scenario's game never changes)."""
    from sim.explore.game.stage import stage_game
    from sim.model.model import LunarModel
    from sim.scenario.loader import find_scenario, resolve_raw, validate

    source = find_scenario(scenario)
    rows = []
    for delta in deltas:
        raw = resolve_raw(source)
        for nation in raw["nations"]:
            nation["strategy"] = {"name": "forward_looking", "discount_per_year": float(delta),
                                  "tremble": tremble, **params}
        spec = validate(raw, source, {})
        for seed in seeds:
            model = LunarModel(spec, rng=seed)
            spy = model.steps_per_year
            game = Payoffs(*_rst_p(stage_game(model, 0, 1).A, row=True))
            mutual = 0
            while model.running and model.steps < model.horizon:
                model.step()
                mutual += bool(model.last_actions[0, 1] and model.last_actions[1, 0])
            rows.append({"delta": float(delta), "seed": seed,
                         "mutual": mutual / max(model.steps, 1),
                         "threshold": cooperation_threshold(game) ** spy,
                         "basin": basin_of_defection(game, float(delta) ** (1.0 / spy))})
            model.release()
    return pd.DataFrame(rows)


def patience_figure(sweep: pd.DataFrame, path: Path) -> Path:
    """Mutual cooperation against δ (with δ* marked) and against the basin's size, one line per
    prior belief in tit for tat (column ``prior``), each marked where the basin equals it."""
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt

    from sim.base.style import PNG_METADATA, STYLE

    colours = ("#CC79A7", "#0072B2", "#009E73", "#E69F00")
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8), constrained_layout=True)
        for k, (prior, rows) in enumerate(sweep.groupby("prior")):
            mean = rows.groupby("delta")[["mutual", "basin", "threshold"]].mean().reset_index()
            colour = colours[k % len(colours)]
            label = f"prior belief in tit for tat {prior:g}"
            left.plot(mean["delta"], mean["mutual"], "o-", color=colour, ms=4, label=label)
            right.plot(mean["basin"], mean["mutual"], "o", color=colour, ms=4)
            right.axvline(prior, color=colour, ls=":", lw=1)
        left.axvline(sweep["threshold"].iloc[0], color="#D55E00", ls="--",
                     label="δ*: cooperation is an equilibrium above")
        left.set(xlabel="discount factor δ (per year)", ylabel="share of steps both play C",
                 ylim=(-0.03, 1.03))
        left.legend(loc="upper left", fontsize="x-small")
        right.set(xlabel="size of the basin of attraction of always-D (dotted: each prior)",
                  ylabel="share of steps both play C", xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
        fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("patience.png")
    deltas = np.round(np.arange(0.3, 0.991, 0.03), 2)
    sweep = pd.concat([
        patience_sweep("two_player_pd", deltas, seeds=range(8), prior_conditional=prior)
        .assign(prior=prior) for prior in (0.25, 0.5, 0.75)])
    patience_figure(sweep, out)
    table = sweep.pivot_table(index="delta", columns="prior", values="mutual")
    print(table.join(sweep.groupby("delta")[["basin", "threshold"]].first()).round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
