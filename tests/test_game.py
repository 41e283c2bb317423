"""The stage game a pair of nations plays: derived from the economics, named, solved."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from helpers import raw_scenario, scenario_from, with_strategies

from sim.explore.game import (
    DEADLOCK,
    PD,
    describe,
    equilibria,
    format_game,
    game_path,
    games_at,
    games_figure,
    stage_game,
)
from sim.explore.game import classify as _classify
from sim.model.model import LunarModel
from sim.scenario import load_scenario


def symmetric(R, S, T, P):
    """A symmetric game from the row player's R, S, T, P: (A, B) with B = A transposed."""
    A = np.array([[R, S], [T, P]], dtype=float)
    return A, A.T.copy()


def classify(A, B):
    return _classify(A, B, ("Blue", "Red"))


TEXTBOOK = {  # (R, S, T, P)
    PD: (3, 0, 5, 1),  # Axelrod's 5, 3, 1, 0
    "stag hunt": (5, 0, 3, 1),
    "chicken": (3, 1, 5, 0),
    "harmony": (5, 3, 2, 0),
    DEADLOCK: (1, 0, 3, 2),
}


@pytest.mark.parametrize("name", TEXTBOOK)
def test_textbook_games_are_named(name):
    assert classify(*symmetric(*TEXTBOOK[name])) == name


@pytest.mark.parametrize("name", TEXTBOOK)
@pytest.mark.parametrize("scale, shift", [(1e-4, -3.0), (250.0, 1e4), (0.37, 0.0)])
def test_a_positive_affine_change_of_either_players_payoffs_changes_no_class(name, scale, shift):
    A, B = symmetric(*TEXTBOOK[name])
    assert classify(scale * A + shift, B) == name
    assert classify(A, scale * B + shift) == name
    assert classify(scale * A + shift, 3.0 * B - 7.0) == name


def test_stag_hunt_allows_a_tie_between_temptation_and_punishment():
    assert classify(*symmetric(4, 0, 2, 2)) == "stag hunt"  # R > T = P > S (Skyrms 2004)


def test_an_asymmetric_game_names_what_each_player_sees():
    A, _ = symmetric(*TEXTBOOK[PD])
    _, B = symmetric(*TEXTBOOK[DEADLOCK])
    assert _classify(A, B, ("United States", "China")) == \
        "asymmetric: prisoner's dilemma for United States, deadlock for China"


def test_degenerate_games_are_reported_as_such():
    flat = np.full((2, 2), 7.5)
    assert classify(flat, flat) == "degenerate: C and D alike for both"
    _, B = symmetric(*TEXTBOOK[DEADLOCK])
    assert classify(flat, B) == "degenerate: C and D alike for Blue, deadlock for Red"
    # T = R: between a prisoner's dilemma and a stag hunt, and it says so
    assert classify(*symmetric(3, 0, 3, 1)) == "boundary: prisoner's dilemma / stag hunt"


def test_float_noise_is_a_tie_but_a_real_difference_is_not():
    R, S, T, P = 0.0123, -0.0310, 0.0123 * (1 + 1e-15), -0.0020
    assert classify(*symmetric(R, S, T, P)).startswith("boundary")
    assert classify(*symmetric(R, S, 0.0124, P)) == PD


def _points(eqs):
    return sorted((e.p[0], e.q[0]) for e in eqs if e.is_point)


def test_prisoners_dilemma_has_only_mutual_defection():
    eqs = equilibria(*symmetric(*TEXTBOOK[PD]))
    assert [str(e) for e in eqs] == ["(D, D)"]
    assert eqs[0].is_pure and (eqs[0].p, eqs[0].q) == ((0.0, 0.0), (0.0, 0.0))


def test_stag_hunt_has_two_pure_equilibria_and_the_hand_computed_mix():
    # R=5, S=0, T=3, P=1: C pays 5q, D pays 3q + (1 - q): indifferent at q = 1/3
    eqs = equilibria(*symmetric(*TEXTBOOK["stag hunt"]))
    assert len(eqs) == 3
    np.testing.assert_allclose(_points(eqs), [(0, 0), (1 / 3, 1 / 3), (1, 1)])
    assert [e.kind for e in eqs] == ["pure", "pure", "mixed"]


def test_chicken_has_two_asymmetric_pure_equilibria_and_one_mix():
    # R=3, S=1, T=5, P=0: C pays 3q + (1 - q), D pays 5q: indifferent at q = 1/3
    eqs = equilibria(*symmetric(*TEXTBOOK["chicken"]))
    np.testing.assert_allclose(_points(eqs), [(0, 1), (1 / 3, 1 / 3), (1, 0)])
    assert sorted(str(e) for e in eqs if e.is_pure) == ["(C, D)", "(D, C)"]


def test_matching_pennies_has_only_the_even_mix():
    A = np.array([[1.0, -1.0], [-1.0, 1.0]])
    eqs = equilibria(A, -A)
    np.testing.assert_allclose(_points(eqs), [(0.5, 0.5)])
    assert str(eqs[0]) == "mixed (P(C) = 0.5, 0.5)"


def test_degenerate_games_give_sets_of_equilibria_without_a_warning():
    flat = np.zeros((2, 2))
    _, B = symmetric(*TEXTBOOK[DEADLOCK])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning from nashpy fails the test
        everything = equilibria(flat, flat)
        row_free = equilibria(flat, B)
        weak = equilibria(*symmetric(3, 0, 3, 1))
    assert [str(e) for e in everything] == ["(any, any)"]
    assert [str(e) for e in row_free] == ["(any, D)"]  # Red races; Blue does anything
    assert [str(e) for e in weak] == ["(C, C)", "(D, D)"]


def test_equilibria_cover_exactly_the_equilibria_of_games_with_ties():
    # every profile on a fine grid is an equilibrium exactly when a reported one covers it
    rng = np.random.default_rng(4)
    grid = np.linspace(0.0, 1.0, 11)
    for _ in range(40):
        A, B = rng.integers(0, 3, (2, 2)) * 0.5 - 1.0, rng.integers(0, 3, (2, 2)) * 1e-3
        eqs = equilibria(A, B)
        for p in grid:
            for q in grid:
                x, y = np.array([p, 1 - p]), np.array([q, 1 - q])
                best = (x @ A @ y >= (A @ y).max() - 1e-12) and (x @ B @ y >= (x @ B).max() - 1e-15)
                covered = any(e.p[0] <= p <= e.p[1] and e.q[0] <= q <= e.q[1] for e in eqs)
                assert best == covered, (A, B, p, q, [str(e) for e in eqs])


def test_when_no_ones_own_action_matters_every_profile_is_an_equilibrium():
    A = np.array([[2.0, 0.0], [2.0, 0.0]])  # the row player gets what the column player decides
    assert [str(e) for e in equilibria(A, A.T)] == ["(any, any)"]


# --- the project's own games ---------------------------------------------------------------


def _one_step(raw, strategy):
    model = LunarModel(scenario_from(with_strategies(raw, strategy, strategy)), rng=0, steps=1)
    model.step()
    return model.last_outcome


def test_two_player_pd_is_a_prisoners_dilemma_that_pays_what_a_step_pays(pd_raw):
    model = LunarModel(scenario_from(pd_raw), rng=0, steps=3)
    game = stage_game(model, "Blue", "Red")
    assert game.kind == PD and game.types == (PD, PD)
    assert [str(e) for e in game.equilibria] == ["(D, D)"]
    assert (game.year, game.step, game.barred) == (2030.0, 1, False)
    # R and P are what one step of mutual cooperation, or of mutual competition, pays
    both_c, both_d = _one_step(pd_raw, "always_cooperate"), _one_step(pd_raw, "always_compete")
    np.testing.assert_allclose([game.A[0, 0], game.B[0, 0]], both_c.utility, rtol=1e-12)
    np.testing.assert_allclose([game.A[1, 1], game.B[1, 1]], both_d.utility, rtol=1e-12)
    np.testing.assert_allclose(both_c.utility, both_c.welfare)  # the recorder's payoff
    # S and T: always_cooperate against always_compete
    raw = with_strategies(pd_raw, "always_cooperate", "always_compete")
    model = LunarModel(scenario_from(raw), rng=0, steps=1)
    model.step()
    np.testing.assert_allclose([game.A[0, 1], game.B[0, 1]], model.last_outcome.utility,
                               rtol=1e-12)
    assert "prisoner's dilemma" in describe(game) and "(D, D)" in describe(game)


def test_game_path_is_the_stage_game_of_every_step(pd_raw):
    scenario = scenario_from(pd_raw)
    path = game_path(scenario, "Blue", "Red", seed=0, steps=4)
    assert path["step"].tolist() == [1, 2, 3, 4]
    assert path["year"].tolist() == [2030.0, 2031.0, 2032.0, 2033.0]
    assert (path["class"] == PD).all() and (path["equilibria"] == "(D, D)").all()
    game = stage_game(LunarModel(scenario, rng=0), "Blue", "Red")
    np.testing.assert_allclose(path.loc[0, ["a_CC", "a_CD", "a_DC", "a_DD"]].to_numpy(float),
                               game.A.ravel())
    sparse = game_path(scenario, "Blue", "Red", steps=6, every=4)
    assert sparse["step"].tolist() == [1, 5, 6]  # every fourth step, and the last


def test_asking_for_the_stage_game_leaves_the_run_as_it_was(baseline_raw):
    scenario = scenario_from(baseline_raw)
    plain, asked = LunarModel(scenario, rng=5, steps=6), LunarModel(scenario, rng=5, steps=6)
    for _ in range(6):
        stage_game(asked, "United States", "China")
        plain.step()
        asked.step()
    for key, values in plain.recorder.nation_table().items():
        np.testing.assert_array_equal(values, asked.recorder.nation_table()[key], err_msg=key)


def test_inside_and_outside_the_step_the_game_is_the_same_when_no_event_falls_due(baseline_raw):
    scenario = scenario_from(baseline_raw)  # the first events (refineries) fall due in 2027
    path = game_path(scenario, seed=1, steps=3)
    model = LunarModel(scenario, rng=1, steps=3)
    for k in range(3):
        game = stage_game(model, "United States", "China")
        np.testing.assert_allclose(path.loc[k, ["b_CC", "b_CD", "b_DC", "b_DD"]].to_numpy(float),
                                   game.B.ravel(), rtol=1e-12)
        model.step()


def _baseline_at_year_three(baseline_raw):
    model = LunarModel(scenario_from(baseline_raw), rng=0, steps=12)
    for _ in range(12):
        model.step()
    return model


def test_the_wolf_amendment_leaves_the_us_and_china_nothing_to_gain_by_coordinating(baseline_raw):
    # Same state, law in force and lifted. The bar stops coordination (mutual C: synergy,
    # deconfliction, no incident hazard) but not racing: it can change only what mutual C pays.
    model = _baseline_at_year_three(baseline_raw)
    barred = stage_game(model, "United States", "China")
    model.set_law("wolf_amendment", False)
    free = stage_game(model, "United States", "China")
    assert barred.barred and barred.law == "wolf_amendment" and not free.barred
    for M_bar, M_free in ((barred.A, free.A), (barred.B, free.B)):
        np.testing.assert_array_equal(M_bar.ravel()[1:], M_free.ravel()[1:])  # S, T, P alike
        # under the bar, mutual C is no coordination and no racing: the pro-rata shares that
        # mutual racing (equal weights) gives too, so R = P; lifted, coordination pays
        np.testing.assert_allclose(M_bar[0, 0], M_bar[1, 1], rtol=1e-9)
        assert M_free[0, 0] > M_bar[0, 0]
    assert barred.kind == "boundary: deadlock / prisoner's dilemma"
    assert free.kind == PD  # at the defaults racing a cooperator still pays: T > R > P > S
    assert "bars their coordination" in describe(barred)
    assert "bars" not in describe(free)


def test_lifting_the_law_turns_a_game_with_nothing_to_gain_into_a_dilemma():
    baseline, lifted = (games_at(name, [2029.0])[0] for name in
                        ("baseline", "us_china_cooperation"))
    assert baseline.barred and not lifted.barred
    assert baseline.kind == "boundary: deadlock / prisoner's dilemma" and lifted.kind == PD
    assert [str(e) for e in baseline.equilibria] == [str(e) for e in lifted.equilibria] == \
        ["(D, D)"]  # the same equilibrium, for different reasons
    text = format_game(lifted)
    assert "United States C" in text and "class: prisoner's dilemma" in text


def test_the_cooperation_condition_is_stated_for_a_player_that_weighs_plans():
    """Axelrod's PD (R, S, T, P = 3, 0, 5, 1) played once a year: δ* = (5 − 3)/(5 − 1) = 0.5,
    and at δ = 0.9 the basin of always-D is 1 × 0.1 / (−2 + 0.9 × 4 + 0.1) = 1/17 ≈ 0.059. The
    words say met or not as patience and belief clear both, and only for a player whose rule
    weighs plans (an outlook); for the other they say nothing."""
    from dataclasses import replace

    from sim.explore.game import StageGame
    from sim.explore.game.words import conditions

    A, B = symmetric(*TEXTBOOK[PD])
    game = StageGame(year=2030.0, step=5, players=("Blue", "Red"), A=A, B=B, kind=PD,
                     types=(PD, PD), orders=("T>R>P>S", "T>R>P>S"), equilibria=(),
                     steps_per_year=1, outlook=((0.9, 0.5), None))
    (said,) = conditions(game)
    assert said.startswith("Blue's cooperation condition: patience δ* = 0.5 a year")
    assert "q* = 0.059" in said and said.endswith(": met")
    assert conditions(replace(game, outlook=((0.45, 0.5), None)))[0].endswith("not met")
    assert conditions(replace(game, outlook=((0.9, 0.05), None)))[0].endswith("not met")
    both = conditions(replace(game, outlook=((0.9, 0.5), (0.6, 0.2))))
    # at δ = 0.6: 1 × 0.4 / (−2 + 0.6 × 4 + 0.4) = 0.5, above Red's belief 0.2
    assert len(both) == 2 and "q* = 0.5 " in both[1] and both[1].endswith("not met")
    assert "cooperation condition" in describe(game)
    assert conditions(replace(game, outlook=(None, None))) == []


def test_before_anyone_has_plants_nothing_is_at_stake():
    game = stage_game(LunarModel(load_scenario("us_china_cooperation"), rng=0), "United States",
                      "China")
    assert game.kind == "degenerate: C and D alike for both"
    assert [str(e) for e in game.equilibria] == ["(any, any)"]
    assert "no plants on the Moon yet" in describe(game)


def test_years_outside_the_run_are_refused():
    from sim.base.errors import UserError

    with pytest.raises(UserError, match="outside the run"):
        games_at("two_player_pd", [2029.0])
    with pytest.raises(UserError, match="no nation"):
        games_at("two_player_pd", [2030.0], "Blue", "Green")


def test_figure_has_one_band_per_scenario_and_a_legend_of_the_classes(pd_raw, baseline_raw):
    paths = {
        "two_player_pd": game_path(scenario_from(pd_raw), "Blue", "Red", steps=3),
        "other": game_path(scenario_from(raw_scenario("two_player_pd")), "Blue", "Red",
                           steps=3),
    }
    fig = games_figure(paths, labels={"other": "the same again"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["the same again",
                                                            "two_player_pd\n(open_access)"]
    assert "Blue–Red" in ax.get_title()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [PD]
    plt.close(fig)


# --- the command line and the report ---------------------------------------------------------

def test_explore_game_prints_each_scenarios_game_and_draws_the_path(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    out = tmp_path / "games.png"
    result = CliRunner().invoke(app, ["explore", "game", "us_china_cooperation", "baseline",
                                      "--year", "2035", "--figure", str(out)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("us_china_cooperation") < text.index("prisoner's dilemma") < \
        text.index("baseline") < text.index("boundary")
    assert out.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("args, expected", [
    (["nope"], "nope"),
    (["baseline", "--year", "1990"], "year 1990 is outside the run of baseline"),
    (["baseline", "--pair", "United States", "Atlantis"], "Atlantis"),
    (["baseline", "--figure", "games.txt"], "--figure games.txt: figures are written as PNG"),
])
def test_explore_game_refuses_mistakes_in_one_line(args, expected, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sim.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["explore", "game", *args])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0], result.stderr
    assert not list(tmp_path.iterdir()) and not result.stdout.strip()  # nothing half-said
