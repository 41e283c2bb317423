"""Membership as a decision: who is in a regime whose members choose to be.

Once a year (the first step of each year from the second) every nation free to choose weighs
being in the regime against staying out: its utility with its membership as it is and flipped,
at this step's state, with expected incident losses, the rules recomputed for each membership
(fees, the detection they buy, sanctions, liability, benefit sharing, recognised claims, laws
lifted between members), averaged over the actions everyone meant to play in each step of the
past year (adaptive expectations: others will play as they have). Others are taken as they are,
so over any horizon the discounted difference has the sign of this one: a nation joins when being
in is worth more, leaves when it is worth less, and stays as it is on a tie.

Joining takes effect at once (an instrument of accession deposited); leaving takes effect
``notice_years`` after notice (Outer Space Treaty, Art. XVI; Moon Agreement, Art. 20), and a nation
that finds membership worth keeping again before then withdraws its notice. The founding members
apply the regime provisionally for the first year, so that the first review weighs a regime in
operation, not one with no plants yet to protect or share; at that review a founding member that
does not find membership worth it simply does not ratify, and provisional application ends for it
at once (Vienna Convention on the Law of Treaties, 1969, Art. 25). A nation an event moves in or
out is bound by that what-if from then on.

This is the internal and external stability of a coalition (d'Aspremont et al. 1983, Can. J.
Econ. 16: 17-25; Barrett 1994, Oxf. Econ. Pap. 46: 878-894), checked one nation at a time, once a
year, with the others as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from sim.economy.state import EconParams, Outcome, RegimeRules, State, World
from sim.economy.step import Accounts, Prepared, accounts_under

# What being in is worth, split: in less out of each, USD bn a year. "operations" is the rest:
# what recognised claims, monitoring and laws lifted between members do to a nation's output.
GAIN_PARTS: dict[str, tuple[str, Callable[[Outcome], np.ndarray]]] = {
    "sharing": ("benefit sharing", lambda o: o.transfers),
    "sanctions": ("fines and compensation", lambda o: o.sanctions + o.liability),
    "fee": ("the fee", lambda o: -o.entry_cost),
    "standing": ("standing beside rivals (relative gains)", lambda o: o.utility - o.welfare),
}


@dataclass
class Membership:
    """The yearly review's state: who may choose, who has given notice, and what being in was
    worth to each nation at the last review (NaN where it does not choose)."""

    chosen: bool  # the regime's members choose
    free: np.ndarray  # bool [N]: may choose (an event binds a nation)
    steps_per_year: int
    notice_steps: int
    leaving_at: np.ndarray = field(init=False)  # int [N]: step a notified withdrawal takes effect
    gain: np.ndarray = field(init=False)  # [N] USD bn a year, in less out
    parts: dict[str, np.ndarray] = field(init=False)
    reviews: int = 0

    def __post_init__(self) -> None:
        n = self.free.size
        self.leaving_at = np.full(n, -1)
        self.gain = np.full(n, np.nan)
        self.parts = {name: np.full(n, np.nan) for name in GAIN_PARTS}

    @classmethod
    def of(cls, chosen: bool, n: int, steps_per_year: int, notice_years: float) -> Membership:
        return cls(chosen, np.full(n, chosen), steps_per_year,
                   round(notice_years * steps_per_year))

    def bind(self, i: int) -> None:
        """An event set nation i's membership: it no longer chooses, and any notice lapses."""
        self.free[i] = False
        self.leaving_at[i] = -1
        self.gain[i] = np.nan
        for values in self.parts.values():
            values[i] = np.nan

    def due(self, step: int) -> bool:
        """Whether step ``step`` (1 for the first) opens a year of review (from the second)."""
        return (self.chosen and self.free.any() and step > 1
                and (step - 1) % self.steps_per_year == 0)

    def review(self, step: int, members: np.ndarray,
               worth_for: Callable[[np.ndarray], tuple[np.ndarray, dict[str, np.ndarray]]]
               ) -> tuple[np.ndarray, list[str]]:
        """The membership after this step's review and what changed, in words ("joins", "gives
        notice of withdrawal", ...) by nation index. ``worth_for(expected)`` gives what being in
        is worth to each nation [N] and its parts, given who is expected to be in.

        Nations decide one at a time, the most eager first (the largest gain from changing
        side), each seeing the decisions made before it, and each decides at most once: an
        asynchronous best response, which settles where simultaneous moves would cycle (all the
        small members joining together, diluting the pool, leaving together). Those serving a
        notice are expected out."""
        members = members.copy()
        n = members.size
        said = [""] * n
        first = self.reviews == 0
        self.reviews += 1
        expected = members & (self.leaving_at < 0)
        moved = np.zeros(n, dtype=bool)
        decided = np.full(n, np.nan)
        decided_parts = {name: np.full(n, np.nan) for name in GAIN_PARTS}
        while True:
            worth, parts = worth_for(expected)
            want = self.free & ~moved & np.where(expected, worth < 0, worth > 0)
            settled = self.free & ~moved
            decided[settled] = worth[settled]
            for name in GAIN_PARTS:
                decided_parts[name][settled] = parts[name][settled]
            if not want.any():
                break
            i = int(np.argmax(np.where(want, np.abs(worth), -np.inf)))
            moved[i], expected[i] = True, not expected[i]
        self.gain, self.parts = decided, decided_parts
        for i in np.flatnonzero(moved):
            if expected[i] and members[i]:
                self.leaving_at[i], said[i] = -1, "withdraws its notice"
            elif expected[i]:
                members[i], said[i] = True, "joins"
            elif first:
                members[i], said[i] = False, "does not ratify"
            else:
                self.leaving_at[i] = step + self.notice_steps
                said[i] = "gives notice of withdrawal"
        return self.leave(step, members, said), said

    def leave(self, step: int, members: np.ndarray, said: list[str] | None = None) -> np.ndarray:
        """``members`` less those whose notice takes effect at or before ``step``."""
        due = (self.leaving_at >= 0) & (self.leaving_at <= step) & members
        if due.any():
            members = members.copy()
            members[due] = False
            self.leaving_at[due] = -1
            for i in np.flatnonzero(due):
                if said is not None:
                    said[i] = (said[i] + "; " if said[i] else "") + "leaves"
        return members


def worth_of_membership(world: World, state: State, actions: np.ndarray, econ: EconParams,
                        members: np.ndarray, free: np.ndarray,
                        rules_for: Callable[[np.ndarray], RegimeRules],
                        prepared: Prepared) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """What being in the regime is worth to each nation free to choose [N], USD bn a year (its
    utility in less its utility out, mean over the action matrices ``actions`` [B, N, N] that
    everyone plays), and the parts of it (:data:`GAIN_PARTS`); NaN for the others.
    ``rules_for(members)`` gives the rules in force for a membership; ``prepared`` is this
    state's preparation (:func:`sim.economy.step.prepare`, under any rules)."""
    n = members.size
    worth = np.full(n, np.nan)
    parts = {name: np.full(n, np.nan) for name in GAIN_PARTS}
    choosing = np.flatnonzero(free)
    rule_sets = [rules_for(members)]
    for i in choosing:
        flipped = members.copy()
        flipped[i] = not members[i]
        rule_sets.append(rules_for(flipped))
    accounts = accounts_under(world, state, actions, rule_sets, econ, prepared)  # [F, B, N] each
    flip = np.arange(1, len(rule_sets))  # nation choosing[k]'s flipped membership: rule set k + 1
    inside, outside = _side(accounts, np.where(members[choosing], 0, flip), choosing), \
        _side(accounts, np.where(members[choosing], flip, 0), choosing)
    per_year = 1.0 / world.dt
    worth[choosing] = _mean(inside.utility - outside.utility) * per_year
    for name, (_, part) in GAIN_PARTS.items():
        parts[name][choosing] = _mean(part(inside) - part(outside)) * per_year
    return worth, parts


def _side(accounts: Accounts, rule_set: np.ndarray, nation: np.ndarray) -> SimpleNamespace:
    """Each nation's accounts [k, B] (``nation[k]`` under ``rule_set[k]``): what its gain and
    its parts read."""
    return SimpleNamespace(**{name: getattr(accounts, name)[rule_set, :, nation]
                              for name in _READ})


# the accounts a nation's gain and its parts read (:data:`GAIN_PARTS`)
_READ = ("utility", "welfare", "transfers", "sanctions", "liability", "entry_cost")


def _mean(values: np.ndarray) -> np.ndarray:
    """Each row's mean [k] of ``values`` [k, B]: its sum over its length, as ``np.mean`` of
    the row alone computes it (to the last bit), for all rows at once."""
    return values.sum(axis=-1) / values.shape[-1]
