"""Compiled kernels of the step's economics (numba), each the loop form of the equations its
numpy caller documents, with no temporaries in the hot loop: the pairwise contest
(:mod:`.contest`), the rare-earth market and the importers' diversification (:mod:`.market`),
the whole step, steps 4-8 (:mod:`.step`), where plants go and growth, steps 3 and 9
(:mod:`.growth`), what nations learn of a step, trust and standing (:mod:`.learning`), what a
step leaves in one call, those and the mines, the importers' refining and the accounts
(:mod:`.advance`), the forward-looking rule's arithmetic (:mod:`.plans`), the simple rules'
rows for all their players (:mod:`.rules`), and what the recorder counts over pairs
(:mod:`.tally`). Imported by the model only: listing or validating scenarios never loads the
compiler. Division follows numpy's rules (``error_model="numpy"``), as the code they replaced.

Compiled on first use (about 30 s, once) and cached on disk, so workers and later runs load
them instead of compiling. Numba renews a function's cache when its own file changes, but not
when a kernel it calls from another file does, or a constant it compiles in: the cache folder
is named by a hash of all the kernels' sources and ``sim/base/units.py``, so any change
compiles everything afresh. The folder is under this package's ``__pycache__``, or
``~/.cache/lunarsim/numba`` where the package is not writable, or ``NUMBA_CACHE_DIR`` where the
user sets it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

UNITS = Path(__file__).parents[2] / "base" / "units.py"  # its constants are compiled in


def cache_dir(here: Path = Path(__file__).parent, also: tuple[Path, ...] = (UNITS,)) -> Path:
    """The cache folder of the kernels whose sources are in ``here`` (and the ``also`` files
    whose constants they compile in)."""
    digest = hashlib.sha256()
    for path in [*sorted(here.glob("*.py")), *also]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    root = (here / "__pycache__" if os.access(here, os.W_OK)
            else Path.home() / ".cache" / "lunarsim" / "numba")
    return root / f"kernels-{digest.hexdigest()[:16]}"


# The folder applies to these kernels only: numba fixes a function's cache folder when it is
# decorated, so the setting is restored once they are (other numba code keeps its own).
CACHE = Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR") else cache_dir()
_previous, numba.config.CACHE_DIR = numba.config.CACHE_DIR, str(CACHE)
try:
    from sim.economy.kernels import (  # noqa: F401 (every module here: tested)
        advance,
        common,
        contest,
        growth,
        learning,
        market,
        plans,
        rules,
        step,
        tally,
    )
finally:
    numba.config.CACHE_DIR = _previous


def cold() -> bool:
    """Whether the kernels have yet to be compiled into the cache: the first run after an
    install or an upgrade compiles them (about 30 s)."""
    return not any(CACHE.rglob("*.nbi"))
