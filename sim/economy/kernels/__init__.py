"""Compiled kernels of the step's economics (numba), each the loop form of the equations its
numpy caller documents, with no temporaries in the hot loop: the pairwise contest
(:mod:`.contest`), the rare-earth market (:mod:`.market`) and the whole step, steps 4-8
(:mod:`.step`). Compiled on first use and cached on disk (next to these files, or under
``~/.cache/lunarsim/numba`` where this folder is not writable), so workers and later runs load
them instead of compiling. Imported by the step only: listing or validating scenarios never
loads the compiler.
"""

from __future__ import annotations

import os
from pathlib import Path

if "NUMBA_CACHE_DIR" not in os.environ and not os.access(Path(__file__).parent, os.W_OK):
    os.environ["NUMBA_CACHE_DIR"] = str(Path.home() / ".cache" / "lunarsim" / "numba")
