"""Contrite reciprocity: how a rule that does not weigh the rare-earth arena itself acts in it.

A nation answers a rival's defection with its own — a restriction of its rare-earth trade, or,
if it links the arenas, a race at the pole answered by a restriction and a restriction answered
at the pole — for as long as the rival stays in *bad standing*, and it accepts a punishment it
provoked. Standing (Sugden 1986, *The Economics of Rights, Co-operation and Welfare*; Boyd
1989, J. Theor. Biol. 136: 47-56, "contrite tit for tat"): a nation is in good standing toward
a rival until it defects against it while the rival is in good standing toward it; it regains
good standing by cooperating. A nation defects exactly toward rivals in bad standing while it
is itself in good standing. One slip at the pole is then punished once and forgiven, instead of
echoing for ever between two reciprocators; a rival that keeps defecting is punished for as
long as it does. That is how the record reads: China's controls of 2010, 2023 and 2025 each
answered a move of the other side, and the November 2025 suspension answered the United States'
own suspension of its October measures.

Standing is kept per pair twice: counting defections in the rare-earth arena only (for a nation
that does not link the arenas) and in either arena (for one that does).
"""

from __future__ import annotations

import numpy as np

TRADE_ONLY, EITHER = 0, 1  # the two ways of counting defections


def initial_standing(n: int) -> np.ndarray:
    """[2, N, N]: everyone in good standing toward everyone, both ways of counting."""
    return np.ones((2, n, n), dtype=bool)


def update_standing(standing: np.ndarray, actions: np.ndarray, trade: np.ndarray) -> np.ndarray:
    """Standing after a step in which nations played ``actions`` at the pole and ``trade`` in
    the rare-earth arena (True = C): ``good[i, j]`` stays or becomes True if i did not defect
    against j, or defected while in good standing against a j in bad standing (a justified
    punishment). Whether a punishment is justified is judged the same way by everyone, counting
    defections in either arena: a nation that does not link the arenas does not answer a race
    at the pole with a restriction, but it knows a restriction that answered its own race for
    the punishment it is (as Japan did not retaliate in 2010). Without that, a nation that links
    and one that does not would each see the other's answer as the provocation, for ever."""
    from sim.economy.kernels.learning import update_standing as compiled  # (with the step)

    return compiled(standing, actions, trade)


def reciprocate(me: int, standing: np.ndarray, linked: bool) -> np.ndarray:
    """[N] bool: the rivals toward whom nation ``me`` defects by contrite reciprocity — those in
    bad standing toward it while it is in good standing toward them, counting defections in the
    rare-earth arena only or, if it ``linked`` the arenas, in either."""
    good = standing[EITHER if linked else TRADE_ONLY]
    out = good[me, :] & ~good[:, me]
    out[me] = False
    return out
