"""Rules defined by bloc membership."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.base.registry import Params
from sim.rules.strategies.base import STRATEGIES, Observation, Roster, Strategy


class _FollowerParams(Params):
    leader: str | None = Field(
        None, description="nation to follow; default: the bloc member with the largest budget"
    )


@STRATEGIES.register
class BlocFollower(Strategy):
    """Copies the bloc leader's posture: toward each nation it plays what its leader played
    toward that nation at the last step; toward the leader itself, what the leader played toward
    it (reciprocity inside the bloc). ``C`` toward all at the first step. A leader following
    itself plays tit for tat.

    Names: bandwagoning (Walt 1987, *The Origins of Alliances*; Schweller 1994, International
    Security 19(1)): junior partners align their posture with the bloc's leading power.
    """

    name = "bloc_follower"
    classifier = {"memory_depth": 1, "stochastic": False, "observes": frozenset({"actions", "blocs"})}
    Params = _FollowerParams

    def __init__(self, me: int, roster: Roster, params: Params, rng: np.random.Generator) -> None:
        super().__init__(me, roster, params, rng)
        if params.leader is not None:
            self.leader = roster.names.index(params.leader)
        else:
            same = np.flatnonzero(roster.blocs == roster.blocs[me])
            self.leader = int(same[np.argmax(roster.budgets_usd_bn[same])])

    def decide(self, obs: Observation) -> np.ndarray:
        if obs.last_actions is None:
            return self.cooperate_with_all()
        if self.leader == self.me:
            return self.received(obs).copy()
        row = obs.last_actions[self.leader, :].copy()
        row[self.leader] = obs.last_actions[self.leader, self.me]
        return row

    @classmethod
    def decide_all(cls, players: list[Strategy], obs: Observation) -> np.ndarray:
        from sim.economy.kernels.rules import follow  # (the compiler loads with the step)

        last = obs.last_actions
        if last is None:
            return np.ones((len(players), players[0].n), dtype=bool)
        # who each is and follows, kept with the first player for the same group of players
        group = tuple(players)
        kept = getattr(players[0], "_group", None)
        if kept is None or kept[0] != group:
            kept = players[0]._group = (group, np.array([p.me for p in players]),
                                        np.array([p.leader for p in players]))  # type: ignore
        return follow(np.ascontiguousarray(last), kept[1], kept[2])
