"""Regimes: the rules of play a scenario sets. A regime changes rules, never outcomes.

A regime turns the current membership and the laws in force into :class:`RegimeRules`, arrays
that the step's economics reads. Each acts through what nations can do, see or pay:

* who may cooperate with whom (a law bars a pair; an agreement may lift it);
* whose safety zones (claims) are recognised by whom: priority at crowded sites;
* monitoring funded by the members' fees, with graduated sanctions: a member that races a
  member and is caught pays it a multiple of what it took, growing with its record of breaches
  (Ostrom 1990, design principles 4-5; Becker 1968);
* liability through a dispute mechanism: after an incident, the side that raced compensates the
  side that did not (the Liability Convention, 1972, Art. III, made enforceable);
* benefit sharing with its entry cost (the Moon Agreement, 1979, Art. 11).

No regime scales an outcome directly: whether cooperation pays must emerge from play.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from sim.base.registry import Params, Registry
from sim.economy.state import RegimeRules


@dataclass(frozen=True)
class Polity:
    """What a regime needs to know of the nations: names, blocs, members and the laws' bars."""

    names: tuple[str, ...]
    blocs: np.ndarray  # str [N]
    members: np.ndarray  # bool [N], regime membership now
    barred: np.ndarray  # bool [N, N], pairs that a law in force forbids to cooperate
    lifted: np.ndarray  # bool [N, N], pairs barred only by laws this regime lifts

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
        """Laws this regime sets aside (an agreement can lift a legal bar); see :meth:`rules`
        for between whom."""
        return frozenset()

    @property
    def membership_chosen(self) -> bool:
        """Whether nations choose their membership each year (``membership = "chosen"``)."""
        return getattr(self.params, "membership", "fixed") == "chosen"

    @property
    def notice_years(self) -> float:
        """How long after notice a withdrawal takes effect."""
        return float(getattr(self.params, "notice_years", 1.0))

    def rules(self, polity: Polity) -> RegimeRules:
        raise NotImplementedError


REGIMES: Registry[Regime] = Registry("regime")


def _pairs(mask: np.ndarray) -> np.ndarray:
    """Pairs (i, j), i != j, where both are in ``mask``."""
    both = np.logical_and.outer(mask, mask)
    np.fill_diagonal(both, False)
    return both


def _club_rules(polity: Polity, club: np.ndarray) -> RegimeRules:
    """Safety zones recognised between the pairs of ``club``."""
    return replace(_no_rules(polity), recognises_claims=club)


def _no_rules(polity: Polity) -> RegimeRules:
    n = polity.n
    none = np.zeros((n, n), dtype=bool)
    return RegimeRules(
        may_cooperate=~polity.barred,  # a lifted law is lifted for everyone

        recognises_claims=none,
        benefit_share=0.0,
        sharing_members=np.zeros(n, dtype=bool),
        entry_cost_usd_bn_per_yr=np.zeros(n),
        monitored=none,
        fine_multiple=0.0,
        detection=0.0,
        escalation=0.0,
        liable=none,
        liability_share=0.0,
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


Membership = Literal["fixed", "chosen"]
NOTICE = Field(1.0, ge=0.0, le=10.0, description="years from notice of withdrawal to its effect "
               "(Outer Space Treaty, 1967, Art. XVI; Moon Agreement, 1979, Art. 20: one year)")


class _ClubParams(Params):
    members: list[str] | None = Field(
        None, description="signatories at the start; default: every nation of bloc 'artemis'"
    )
    membership: Membership = Field(
        "fixed", description="'fixed': the members and the accession events decide who is in "
        "(signing follows alliance politics, as it has); 'chosen': once a year each nation "
        "joins or leaves as membership is worth more or less to it than staying out"
    )
    notice_years: float = NOTICE


@REGIMES.register
class ArtemisAccords(Regime):
    """Signatories recognise each other's safety zones; others do not.

    Artemis Accords (2020), sections 10-11: extraction is not appropriation; temporary, notified
    safety zones that signatories respect. A recognised zone gives its holder priority at a
    crowded site over signatories who respect it. Deconfliction is what two operators do when
    both coordinate (mutual C: no incident hazard), as in every regime; the Accords set no
    sanctions and no liability mechanism. Membership grows by accession events. US law (the
    Wolf Amendment, a scenario ``[[laws]]`` entry) bars NASA's bilateral cooperation with China.
    """

    name = "artemis_accords"
    description = "signatories recognise each other's safety zones"
    Params = _ClubParams

    def initial_members(self, names: tuple[str, ...], blocs: np.ndarray) -> np.ndarray:
        if self.params.members is None:
            return blocs == "artemis"
        return np.isin(np.array(names), self.params.members)

    def rules(self, polity: Polity) -> RegimeRules:
        return _club_rules(polity, _pairs(polity.members))


class _BlocsParams(Params):
    blocs: list[str] = Field(
        ["artemis", "ilrs"], min_length=1, description="the blocs that coordinate inside"
    )


@REGIMES.register
class RivalBlocs(Regime):
    """Two rule sets side by side: the Artemis Accords and the Chinese-Russian ILRS. Inside each
    bloc safety zones are recognised; across blocs they are not. Nations of other blocs
    (non-aligned) are in neither club; accession with a bloc moves a nation into one.

    ILRS: China-Russia memorandum (Mar 2021) and agreement (Nov 2022), CNSA.
    """

    name = "rival_blocs"
    description = "Accords and ILRS each recognise claims inside, neither across"
    Params = _BlocsParams

    def initial_members(self, names: tuple[str, ...], blocs: np.ndarray) -> np.ndarray:
        return np.isin(blocs, self.params.blocs)

    def rules(self, polity: Polity) -> RegimeRules:
        same = polity.blocs[:, None] == polity.blocs[None, :]
        club = _pairs(polity.members & np.isin(polity.blocs, self.params.blocs)) & same
        return _club_rules(polity, club)


class _MultilateralParams(Params):
    members: list[str] | None = Field(
        None, description="the founding members invited; each ratifies only if membership is "
        "worth it (default: everyone)")
    membership: Membership = Field(
        "chosen", description="'chosen': each nation ratifies, joins or leaves once a year as "
        "membership is worth more or less to it than staying out; 'fixed': the members and "
        "the accession events decide"
    )
    notice_years: float = NOTICE
    benefit_share: float = Field(
        0.07, ge=0.0, le=1.0, description="share of members' output value pooled and shared equally"
    )
    fine_multiple: float = Field(
        3.0, ge=0.0, le=100, description="a detected breach (racing a member and taking from "
        "it) is fined this multiple of the value taken, paid to the member raced (before "
        "escalation)"
    )
    monitoring_cost_usd_bn_per_yr: float = Field(
        0.15, gt=0.0, le=100, description="pooled fees a year at which a breach is detected "
        "with probability 1 - 1/e (63 %): detection = 1 - exp(-fees / this)"
    )
    escalation: float = Field(
        1.0, ge=0.0, le=100, description="graduated sanctions: the fine is multiplied by 1 + "
        "escalation x the breaker's record (breaching steps, halving each year)"
    )
    liability_share: float = Field(
        1.0, ge=0.0, le=1.0, description="share of an incident's cost the side that raced pays "
        "the side that did not"
    )
    entry_cost_usd_bn_per_yr: float = Field(
        0.01, ge=0.0, le=1000, description="what membership costs each member per year; the "
        "pooled fees fund the regime's monitoring"
    )
    lifts: list[str] = Field(
        [], description="laws the regime sets aside (members change their law to join)"
    )


@REGIMES.register
class Multilateral(Regime):
    """One inclusive regime: recognised priority rights among all members; monitoring that the
    members' fees pay for, which detects a breach with probability 1 − exp(−fees / cost); graduated
    sanctions (a member caught racing a member pays it a multiple of what it took, growing with
    its record);
    a dispute mechanism that makes the side that raced liable for an incident's cost; a share of
    output value pooled and shared equally; and an entry cost.

    The Hague International Space Resources Governance Working Group's building blocks (2019):
    priority rights, safety zones, benefit sharing, dispute settlement; Ostrom (1990), design
    principles 4-6 (monitoring, graduated sanctions, conflict-resolution mechanisms); expected
    fines as detection times fine (Becker 1968, J. Polit. Econ. 76: 169-217); the
    Liability Convention (1972, Arts. III, XII: fault-based, full compensation); the Moon
    Agreement's "common heritage of mankind" (1979, Art. 11). ``lifts`` sets laws aside between
    members (an inclusive regime the US and China both join would need the Wolf Amendment
    lifted; a member that leaves is barred again). Membership is chosen by default: founding
    members ratify, and every nation joins or leaves once a year, as being in is worth more or
    less to it than staying out (a coalition stable in the sense of d'Aspremont et al. 1983 and
    Barrett 1994); a withdrawal takes effect ``notice_years`` after notice.
    """

    name = "multilateral"
    description = "one UN-style regime: priority rights, sanctions, liability, benefit sharing"
    Params = _MultilateralParams

    def initial_members(self, names: tuple[str, ...], blocs: np.ndarray) -> np.ndarray:
        if self.params.members is None:
            return np.ones(len(names), dtype=bool)
        return np.isin(np.array(names), self.params.members)

    def lifted_laws(self) -> frozenset[str]:
        return frozenset(self.params.lifts)

    def rules(self, polity: Polity) -> RegimeRules:
        p = self.params
        club = _pairs(polity.members)
        fees = p.entry_cost_usd_bn_per_yr * polity.members.sum()
        return replace(
            _club_rules(polity, club),
            may_cooperate=~polity.barred & ~(polity.lifted & ~club),  # lifted between members

            benefit_share=p.benefit_share,
            sharing_members=polity.members.copy(),
            entry_cost_usd_bn_per_yr=np.where(polity.members, p.entry_cost_usd_bn_per_yr, 0.0),
            monitored=club, fine_multiple=p.fine_multiple,
            detection=float(-np.expm1(-fees / p.monitoring_cost_usd_bn_per_yr)),
            escalation=p.escalation, liable=club, liability_share=p.liability_share,
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
    cooperation (the Wolf Amendment) and the two recognise each other's safety zones as
    signatories do. The course urged by those who argue the two powers must work together in
    space; whether it pays is left to play.
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
        return _club_rules(polity, club)
