"""numba against Cython on the step's hottest kernel, the pairwise contest, on its real calls.

    python benchmarks/compilers.py      # needs cython and a C compiler (pip install cython)

Records every call of the contest in a baseline run (the batches of counterfactuals and the
steps that happen) and in five steps of the 500-nation synthetic world, then times the numba
kernel (``sim/economy/kernels/contest.py``) and a line-for-line Cython translation
(``benchmarks/contest_cython.pyx``, built here with pyximport) on the same calls, and checks
that they agree. Prints; never fails a build. docs/performance.md records the result and why
the project uses numba.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import synthetic_scenario  # noqa: E402

from sim.economy.kernels import contest as numba_module  # noqa: E402
from sim.model.model import LunarModel  # noqa: E402


def recorded_calls(scenario, steps: int | None = None) -> list[tuple]:
    """The arguments of every contest in one run of ``scenario``: recorded from the calls of
    the compiled step (which calls the contest inside the kernel), as it builds them, with
    ``value_moved`` set (both outputs computed, so both are compared and timed)."""
    import sim.economy.kernels.step as k

    calls = []
    original = k.resolve

    def spy(*args):
        actions, demand, site_cap, worth, respects, p = (args[0], args[2], args[3], args[5],
                                                         args[17], args[29])
        compete = ~actions & ~np.eye(actions.shape[-1], dtype=bool)
        calls.append((demand, site_cap, np.ascontiguousarray(compete), respects,
                      float(p[k.P_RHO]), float(p[k.P_ZONE]), worth, True))  # value_moved
        return original(*args)

    k.resolve = spy  # sim.economy.step looks the kernel up at each call
    try:
        LunarModel(scenario, rng=1, steps=steps).run()
    finally:
        k.resolve = original
    return calls


def main() -> None:
    try:
        import pyximport
    except ImportError:
        print("Cython is not installed (pip install cython): nothing to compare")
        return
    pyximport.install(setup_args={"include_dirs": np.get_include()}, language_level=3)
    import contest_cython

    for label, scenario, steps in (("baseline run", "baseline", None),
                                   ("500 nations, 5 steps", synthetic_scenario(500, years=5), 5)):
        calls = recorded_calls(scenario, steps)
        worst = 0.0
        for args in calls:
            a, b = numba_module.contest(*args), contest_cython.contest(*args)
            for x, y in zip(a, b, strict=True):
                worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1.0),
                                                initial=0.0)))
        times = {}
        for name, fn in (("numba", numba_module.contest), ("cython", contest_cython.contest)):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                for args in calls:
                    fn(*args)
                best = min(best, time.perf_counter() - start)
            times[name] = best
        numba_ms, cython_ms = 1000 * times["numba"], 1000 * times["cython"]
        print(f"{label}: {len(calls)} calls; numba {numba_ms:.1f} ms, cython {cython_ms:.1f} ms "
              f"(cython / numba {cython_ms / numba_ms:.2f}); largest relative difference "
              f"{worst:.1e}")


if __name__ == "__main__":
    main()
