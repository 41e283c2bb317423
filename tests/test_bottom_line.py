"""The report's bottom line, actor by actor: which arrangement each actor is best off under,
and whether that is established against the runner-up, from the paired numbers; the words
change when the numbers do."""

from __future__ import annotations

import pandas as pd

from sim.report.bottom_line import sentence, why_negative

LABEL = {"A": "Open access", "B": "Treaty", "C": "Cooperation"}.__getitem__


def seeds(**columns: list[float]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_the_best_arrangement_is_named_with_its_paired_numbers():
    # C beats A by 2 on every seed and B by 1 on every seed but one
    values = seeds(A=[0.0, 1.0, 2.0, 3.0], B=[1.0, 2.0, 3.0, 5.5], C=[2.0, 3.0, 4.0, 5.0])
    said = sentence("China", values, "A", LABEL, resamples=999)
    assert said.startswith("China is best off under Cooperation: +2 bn [+2, +2] over Open "
                           "access, better off on 4 of 4 seeds.")
    # against B: differences 1, 1, 1, -0.5 (mean 0.625): the interval includes 0
    assert "Against the runner-up, Treaty, +0.625 bn [" in said
    assert "better on 3 of 4 seeds: not established: the interval includes 0." in said


def test_an_arrangement_level_with_the_reference_is_not_its_best():
    """Where another arrangement gives exactly the reference's numbers (nothing built at the
    pole), the reference stays the best whatever the order of the columns."""
    values = seeds(B=[1.0, 2.0, 3.0, 4.0], A=[1.0, 2.0, 3.0, 4.0], C=[0.0, 1.0, 2.0, 3.0])
    said = sentence("China", values, "A", LABEL, resamples=999)
    assert said.startswith("China is best off under Open access, the reference: no arrangement "
                           "raises its welfare on average; the nearest, Treaty, leaves it 0 bn")


def test_the_verdict_follows_the_numbers():
    values = seeds(A=[0.0, 1.0, 2.0, 3.0], B=[1.0, 2.0, 3.0, 4.0], C=[2.0, 3.1, 4.0, 5.2])
    said = sentence("ILRS partners", values, "A", LABEL, resamples=999)
    assert said.startswith("The ILRS partners are best off under Cooperation")
    assert said.endswith("established: the interval excludes 0.")
    # the reference best: nothing raises the actor's welfare; the nearest is named with its loss
    said = sentence("the world", values.assign(A=values["C"] + 1.0), "A", LABEL, resamples=999)
    assert said.startswith("The world as a whole is best off under Open access, the reference: "
                           "no arrangement raises its welfare on average; the nearest, "
                           "Cooperation, leaves it -1 bn [-1, -1].")


def test_negative_welfare_is_explained_only_where_it_is_negative_everywhere():
    levels = pd.DataFrame({"outcome": ["welfare_total_usd_bn"] * 2
                           + ["welfare_lunar_total_usd_bn"] * 2,
                           "scenario": ["A", "B", "A", "B"], "mean": [-3.0, -1.0, 5.0, 6.0]})
    assert why_negative(levels).startswith("Total welfare is negative in every scenario")
    levels.loc[1, "mean"] = 0.5  # B's total is positive: nothing to explain
    assert why_negative(levels) == ""
    levels.loc[1, "mean"] = -1.0
    levels.loc[3, "mean"] = -0.1  # B loses on the Moon too: the costs are not the whole story
    assert why_negative(levels) == ""


def test_two_channels_that_cancel_are_quoted_as_their_net_effect():
    from sim.report.summary import summary

    class Labels:
        holder = "China"

        def label(self, scenario):
            return scenario.upper()

    comparison = pd.DataFrame([{"outcome": "welfare_total_usd_bn", "scenario": "a",
                                "mean_difference": 2.0, "ci_low": 1.5, "ci_high": 2.5,
                                "negligible": False, "share_better": 1.0}])
    channels = pd.DataFrame({
        "scenario": "a", "channel": ["potential_output", "crowding", "incidents", "synergy"],
        "label": ["Output if all regolith brought were worked", "Crowding and racing",
                  "Capital destroyed in incidents", "Synergy with partners"],
        "mean_difference": [8.0, -7.5, 1.2, 0.3]})
    text = summary(comparison, channels, Labels(), "ref")
    assert "capital destroyed in incidents +1.2 bn; output worked (brought, less what crowding " \
           "and racing left unworked) +0.5 bn; synergy with partners +0.3 bn" in text
    assert "+8 bn" not in text and "-7.5 bn" not in text
    assert "each is what it adds to the difference, + raising welfare" in text


def test_how_often_the_us_and_china_cooperate_is_read_from_the_pairs():
    from sim.report.bottom_line import leaders_cooperate

    rows = []
    for scenario, share in (("A", 0.0), ("C", 0.9)):
        for a, b in (("United States", "China"), ("China", "United States")):
            rows.append({"scenario": scenario, "nation": a, "toward": b, "cooperation": share})
        rows.append({"scenario": scenario, "nation": "China", "toward": "India",
                     "cooperation": 1.0})  # not the pair: left out
    pairs = pd.DataFrame(rows)
    said = leaders_cooperate(pairs, "C", "A", LABEL)
    assert said == ("The United States and China play cooperatively toward each other in 90 % "
                    "of quarters under Cooperation, against 0 % under Open access.")
    pairs.loc[pairs["scenario"] == "C", "cooperation"] = 0.13
    assert "in 13 % of quarters under Cooperation" in leaders_cooperate(pairs, "C", "A", LABEL)
    assert leaders_cooperate(pairs, "A", "A", LABEL) == ""


def test_the_sampled_points_are_counted_where_a_robustness_study_is_there():
    values = seeds(A=[0.0, 1.0, 2.0, 3.0], B=[1.0, 2.0, 3.0, 4.0], C=[2.0, 3.1, 4.0, 5.2])
    sampled = pd.DataFrame({"A": [1.0, 2.0, 3.0], "B": [0.0, 0.0, 0.0], "C": [2.0, 1.0, 4.0]})
    said = sentence("China", values, "A", LABEL, resamples=999, sampled=sampled)
    assert "better off on 4 of 4 seeds and at 2 of 3 sampled points (one seed each)." in said
    sampled.loc[1, "C"] = 2.5
    said = sentence("China", values, "A", LABEL, resamples=999, sampled=sampled)
    assert "and at 3 of 3 sampled points (one seed each)." in said
    sampled.loc[1, "C"] = 2.0  # level with the reference there: neither better nor worse
    said = sentence("China", values, "A", LABEL, resamples=999, sampled=sampled,
                    each="the mean of 3 seeds each")
    assert "and at 2 of 3 sampled points (the mean of 3 seeds each; level at 1)." in said
    assert "sampled points" not in sentence("China", values, "A", LABEL, resamples=999)
