"""Compiled kernels of the step's economics (numba), each the loop form of the equations its
numpy caller documents, with no temporaries in the hot loop: the pairwise contest
(:mod:`.contest`), the rare-earth market and the importers' diversification (:mod:`.market`),
the whole step, steps 4-8 (:mod:`.step`), and where plants go and growth, steps 3 and 9
(:mod:`.growth`). Imported by the step only: listing or
validating scenarios never loads the compiler.

Compiled on first use (about 20 s, once) and cached on disk, so workers and later runs load
them instead of compiling. Numba renews a function's cache when its own file changes, but not
when a kernel it calls from another file does, so the cache folder is named by a hash of all
the kernels' sources: any change compiles everything afresh. The folder is under this
package's ``__pycache__``, or ``~/.cache/lunarsim/numba`` where the package is not writable; a
``NUMBA_CACHE_DIR`` the user sets is left alone.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba


def cache_dir(here: Path = Path(__file__).parent) -> Path:
    """The cache folder of the kernels whose sources are in ``here``."""
    digest = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    root = (here / "__pycache__" if os.access(here, os.W_OK)
            else Path.home() / ".cache" / "lunarsim" / "numba")
    return root / f"kernels-{digest.hexdigest()[:16]}"


if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = str(cache_dir())


def cold() -> bool:
    """Whether the kernels have yet to be compiled into the cache: the first run after an
    install or an upgrade compiles them (about 20 s)."""
    folder = Path(numba.config.CACHE_DIR) if numba.config.CACHE_DIR else None
    return folder is None or not any(folder.rglob("*.nbi"))
