"""Regimes: the rules of play a scenario sets. A regime changes rules, never outcomes.

A regime turns the current membership and the laws in force into :class:`RegimeRules`, arrays
that the step's economics reads: who may cooperate with whom, whose safety zones (claims) are
recognised by whom, how much incident hazard deconfliction and dispute resolution remove, and
benefit sharing with its entry cost. Whether cooperation pays must emerge from play.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
from pydantic import Field

from sim.registry import Params, Registry


@dataclass(frozen=True)
class RegimeRules:
    """The rules in force at one step, as arrays over nations (N) and pairs (N x N).

    ``may_cooperate[i, j]``: i is allowed to play ``C`` toward j (a legal bar makes it False).
    ``recognises_claims[j, i]``: j respects i's declared safety zones (j yields to i's claims).
    ``hazard_reduction[i, j]``: the share of the i-j incident hazard removed by deconfliction or
    dispute resolution, in [0, 1).
    ``benefit_share``: fraction of each sharing member's output value pooled and shared equally.
    ``entry_cost_usd_bn_per_yr[i]``: what membership costs nation i each year.
    """

    may_cooperate: np.ndarray
    recognises_claims: np.ndarray
    hazard_reduction: np.ndarray
    benefit_share: float
    sharing_members: np.ndarray
    entry_cost_usd_bn_per_yr: np.ndarray


@dataclass(frozen=True)
class Polity:
    """What a regime needs to know of the nations: names, blocs, members and the laws' bars."""

    names: tuple[str, ...]
    blocs: np.ndarray  # str [N]
    members: np.ndarray  # bool [N], regime membership now
    barred: np.ndarray  # bool [N, N], pairs that a law in force forbids to cooperate

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def n(self) -> int:
        return len(self.names)


class Regime:
    """Base class: subclasses set ``name``, ``Params`` and implement :meth:`rules`."""

    name: ClassVar[str]
    description: ClassVar[str]

    class Params(Params):
        pass

    def __init__(self, params: Params) -> None:
        self.params = params

    def initial_members(self, names: tuple[str, ...], blocs: np.ndarray) -> np.ndarray:
        """Membership at the start; accession events add to it. Default: nobody."""
        return np.zeros(len(names), dtype=bool)

    def lifted_laws(self) -> frozenset[str]:
        """Laws this regime sets aside (an agreement can lift a legal bar)."""
        return frozenset()

    def rules(self, polity: Polity) -> RegimeRules:
        raise NotImplementedError


REGIMES: Registry[Regime] = Registry("regime")


def _pairs(mask: np.ndarray) -> np.ndarray:
    """Pairs (i, j), i != j, where both are in ``mask``."""
    both = np.logical_and.outer(mask, mask)
    np.fill_diagonal(both, False)
    return both


def _club_rules(polity: Polity, club: np.ndarray, hazard_reduction: float) -> RegimeRules:
    """Claims recognised, and ``hazard_reduction`` of incident hazard removed, inside ``club``."""
    return replace(_no_rules(polity), recognises_claims=club,
                   hazard_reduction=np.where(club, hazard_reduction, 0.0))


def _no_rules(polity: Polity) -> RegimeRules:
    n = polity.n
    return RegimeRules(
        may_cooperate=~polity.barred,
        recognises_claims=np.zeros((n, n), dtype=bool),
        hazard_reduction=np.zeros((n, n)),
        benefit_share=0.0,
        sharing_members=np.zeros(n, dtype=bool),
        entry_cost_usd_bn_per_yr=np.zeros(n),
    )


@REGIMES.register
class OpenAccess(Regime):
    """No recognised claims, no coordination mechanism: first come, first served.

    The reading of the Outer Space Treaty (1967, Art. II) with no further agreement.
    """

    name = "open_access"
    description = "no recognised claims or coordination; first come, first served"

    def rules(self, polity: Polity) -> RegimeRules:
        return _no_rules(polity)


class _ClubParams(Params):
    members: list[str] | None = Field(
        None, description="signatories at the start; default: every nation of bloc 'artemis'"
    )
    deconfliction: float = Field(
        0.5, ge=0.0, lt=1.0, description="share of incident hazard removed between signatories"
    )


@REGIMES.register
class ArtemisAccords(Regime):
    """Signatories recognise each other's safety zones and deconflict; others do not.

    Artemis Accords (2020), sections 10-11: extraction is not appropriation; temporary, notified
    safety zones that signatories respect. Membership grows by accession events. US law (the Wolf
    Amendment, a scenario ``[[laws]]`` entry) bars NASA's bilateral cooperation with China.
    """

    name = "artemis_accords"
    description = "signatories recognise each other's safety zones and deconflict"
    Params = _ClubParams

    def initial_members(self, names: tuple[str, ...], blocs: np.ndarray) -> np.ndarray:
        if self.params.members is None:
            return blocs == "artemis"
        return np.isin(np.array(names), self.params.members)

    def rules(self, polity: Polity) -> RegimeRules:
        return _club_rules(polity, _pairs(polity.members), self.params.deconfliction)


class _BlocsParams(Params):
    blocs: list[str] = Field(
        ["artemis", "ilrs"], min_length=1, description="the blocs that coordinate inside"
    )
    deconfliction: float = Field(
        0.5, ge=0.0, lt=1.0, description="share of incident hazard removed inside a bloc"
    )


@REGIMES.register
class RivalBlocs(Regime):
    """Two rule sets side by side: the Artemis Accords and the Chinese-Russian ILRS. Inside each
    bloc claims are recognised and operations deconflicted; across blocs, neither. Nations of
    other blocs (non-aligned) are in neither club; accession with a bloc moves a nation into one.

    ILRS: China-Russia memorandum (Mar 2021) and agreement (Nov 2022), CNSA.
    """

    name = "rival_blocs"
    description = "Accords and ILRS each coordinated inside, neither across"
    Params = _BlocsParams

    def initial_members(self, names: tuple[str, ...], blocs: np.ndarray) -> np.ndarray:
        return np.isin(blocs, self.params.blocs)

    def rules(self, polity: Polity) -> RegimeRules:
        same = polity.blocs[:, None] == polity.blocs[None, :]
        club = _pairs(polity.members & np.isin(polity.blocs, self.params.blocs)) & same
        return _club_rules(polity, club, self.params.deconfliction)


class _MultilateralParams(Params):
    members: list[str] | None = Field(None, description="members at the start; default: everyone")
    benefit_share: float = Field(
        0.1, ge=0.0, le=1.0, description="share of members' output value pooled and shared equally"
    )
    dispute_resolution: float = Field(
        0.7, ge=0.0, lt=1.0, description="share of incident hazard removed between members"
    )
    entry_cost_usd_bn_per_yr: float = Field(
        0.01, ge=0.0, le=1000, description="what membership costs each member per year"
    )


@REGIMES.register
class Multilateral(Regime):
    """One inclusive regime: recognised priority rights among all members, a share of output
    value pooled and shared equally, a dispute mechanism, and an entry cost.

    The Hague International Space Resources Governance Working Group's building blocks (2019):
    priority rights, safety zones, benefit sharing, dispute settlement; the Moon Agreement's
    "common heritage of mankind" (1979, Art. 11); Ostrom (1990) on conflict-resolution
    mechanisms for common-pool resources.
    """

    name = "multilateral"
    description = "one UN-style regime: priority rights, benefit sharing, dispute resolution"
    Params = _MultilateralParams

    def initial_members(self, names: tuple[str, ...], blocs: np.ndarray) -> np.ndarray:
        if self.params.members is None:
            return np.ones(len(names), dtype=bool)
        return np.isin(np.array(names), self.params.members)

    def rules(self, polity: Polity) -> RegimeRules:
        p = self.params
        return replace(
            _club_rules(polity, _pairs(polity.members), p.dispute_resolution),
            benefit_share=p.benefit_share,
            sharing_members=polity.members.copy(),
            entry_cost_usd_bn_per_yr=np.where(polity.members, p.entry_cost_usd_bn_per_yr, 0.0),
        )


class _AgreementParams(_ClubParams):
    parties: list[str] = Field(
        ["United States", "China"], min_length=2, max_length=2,
        description="the two nations of the bilateral agreement"
    )
    lifts: list[str] = Field(
        ["wolf_amendment"], description="laws the agreement sets aside"
    )


@REGIMES.register
class UsChinaCooperation(ArtemisAccords):
    """The Artemis Accords plus a US-China agreement: it lifts the legal bar on their
    cooperation (the Wolf Amendment) and the two recognise each other's safety zones and
    deconflict as signatories do. The course urged by those who argue the two powers must work
    together in space; whether it pays is left to play.
    """

    name = "us_china_cooperation"
    description = "the Accords plus a US-China agreement lifting the legal bar"
    Params = _AgreementParams

    def lifted_laws(self) -> frozenset[str]:
        return frozenset(self.params.lifts)

    def rules(self, polity: Polity) -> RegimeRules:
        club = _pairs(polity.members)
        a, b = (polity.index(name) for name in self.params.parties)
        club[a, b] = club[b, a] = True  # the agreement: the two parties treat each other as signatories
        return _club_rules(polity, club, self.params.deconfliction)
