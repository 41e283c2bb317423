"""The figures' one style: the Okabe-Ito colour-blind-safe palette, a colour for each nation and
a line style for each bloc, matplotlib settings, the mark that makes a PNG lunarsim's, and the
axis helpers every figure shares."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no screen is needed
from matplotlib.ticker import MaxNLocator  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour deficiency.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# One per nation: Okabe-Ito without its yellow (too pale for a thin line on white), then Tol's
# (2021) wine, olive and indigo and a grey: no two of the eleven alike (CIE76 distance >= 26).
NATION_COLOURS = [c for c in OKABE_ITO if c != "#F0E442"] + ["#882255", "#999933", "#332288",
                                                             "#999999"]
LINE_STYLES = ["-", "--", ":", "-."]  # one per bloc

# Marks every PNG as lunarsim's (see sim.base.io.check_replaceable_file): the Software text chunk.
PNG_METADATA = {"Software": f"lunarsim (matplotlib {matplotlib.__version__})"}
STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "text.parse_math": False,  # names and labels are drawn literally: "$" is not mathtext
}


def count_axis(ax) -> None:
    """Whole-number ticks on the y axis of a count (no 2.5 incidents), which reaches 1 at least
    so that a run without any still shows 0 and 1."""
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(top=max(ax.get_ylim()[1], 1.0))


def at_least(ax, values, span: float) -> None:
    """Give the y axis at least ``span`` units around the data, so tiny changes look tiny."""
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < span:
        mid = 0.5 * (lo + hi)
        ax.set_ylim(mid - span / 2, mid + span / 2)
