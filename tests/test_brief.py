"""The policy brief (``lunarsim brief``): its words come from the robust decision study's
numbers, and change when the numbers do."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.explore import robust
from sim.report import brief

NAMES = {"A": "Open access", "B": "Treaty", "C": "Cooperation"}.__getitem__


def long_table(values: pd.DataFrame, label: str = "China") -> pd.DataFrame:
    """A study's long table for one actor, as robust.analyse makes it: the reference A is the
    yardstick of satisficing, differences below 0.1 are negligible."""
    measure = robust.Measure("welfare[1]", label, "USD bn", True, True, 0.1)
    metrics = robust.robustness(values, True, values["A"], tolerance=0.1)
    metrics.loc["A", ["satisficing", "gains"]] = np.nan
    long = robust._long(metrics, measure, "A")
    long.insert(0, "worlds", len(values))
    return long


# B never loses more than 0.1 against A; C gains much in two worlds and loses 1 in the third
WORLDS = pd.DataFrame({"A": [0.0, 0.0, 0.0], "B": [0.5, 0.5, -0.05], "C": [5.0, 5.0, -1.0]})


def test_the_recommendation_names_the_most_robust_choice_with_its_numbers():
    said = brief.recommendation(long_table(WORLDS), "China", NAMES, "A")
    # C: regret 0, 0, 1 -> 90th percentile 0.8, at worst 1; no worse off than A in 2 of 3
    # worlds, better off in 2; B satisfices everywhere but gains in 2 of 3 worlds only
    assert said.startswith("**China.** The most robust choice is **Cooperation**, first under 4 "
                           "of the 5 metrics. In 90 % of the 3 worlds it comes within 0.8 USD bn")
    assert "(at worst 1 USD bn short)" in said
    assert "no worse off than under Open access in 67 % of worlds, and better off in 67 %" in said
    assert ("By satisficing alone Treaty would come first (no worse off in 100 % of worlds, but "
            "better off in only 67 %)") in said


def test_the_words_change_when_the_numbers_do():
    # C loses nothing in the third world: now first under every metric, and nothing else is said
    fixed = WORLDS.assign(C=[5.0, 5.0, 0.0])
    said = brief.recommendation(long_table(fixed), "China", NAMES, "A")
    assert "first under every metric" in said and "satisficing alone" not in said
    assert "better off in 67 %" in said and "no worse off than under Open access in 100 %" in said
    # B better than C everywhere: B is named
    swapped = WORLDS.assign(B=WORLDS["C"] + 1.0)
    assert "The most robust choice is **Treaty**" in brief.recommendation(
        long_table(swapped), "China", NAMES, "A")
    # the actor's name follows the label, with its article in the sentence
    said = brief.recommendation(long_table(WORLDS, "United States"), "United States", NAMES, "A")
    assert said.startswith("**United States.**") and "for the United States in that world" in said


def test_whether_the_us_and_china_agree_follows_their_tables():
    both = pd.concat([long_table(WORLDS, "United States"), long_table(WORLDS, "China")])
    pair = pd.DataFrame({"no_worse": [1.0, 1.0, 0.5], "better": [0.0, 0.25, 0.5]},
                        index=list("ABC"))
    said = brief.cooperate(both, pair, NAMES, "A")
    assert said.startswith("The United States' and China's most robust choices agree: "
                           "**Cooperation**.")
    assert "Cooperation most often leaves both better off than under Open access: in 50 % of " \
           "the 3 worlds (no worse off in 50 %)" in said
    china_b = long_table(WORLDS.assign(B=WORLDS["C"] + 1.0), "China")
    said = brief.cooperate(pd.concat([long_table(WORLDS, "United States"), china_b]),
                           pair.assign(better=[0.0, 0.5, 0.25]), NAMES, "A")
    assert "choices differ: Cooperation for the US, Treaty for China" in said
    assert "Treaty most often leaves both better off" in said


def test_the_satisficing_of_every_actor_is_said_as_it_is():
    rows = []
    for policy, share, gain in (("A", np.nan, np.nan), ("B", 0.4, 0.1), ("C", 0.7, 0.2)):
        rows += [{"worlds": 10, "label": robust.EVERY, "policy": policy, "metric": "satisficing",
                  "value": share}, {"worlds": 10, "label": robust.EVERY, "policy": policy,
                                    "metric": "gains", "value": gain}]
    said = brief.everyone(pd.DataFrame(rows), NAMES, "A")
    assert "in most of the worlds under Cooperation (70 %" in said and "at most 20 %" in said
    rows[4]["value"] = 0.3  # C now in fewer than half of them; B leads
    said = brief.everyone(pd.DataFrame(rows), NAMES, "A")
    assert "in fewer than half of the worlds under Treaty (40 %" in said


def test_what_would_change_the_answer_follows_the_sensitivity_table(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import sim.explore.robustness

    monkeypatch.setattr(sim.explore.robustness, "finished", lambda *a: object())
    (tmp_path / "study-morris").mkdir()
    table = pd.DataFrame({"output": "welfare_total_usd_bn[C-A]", "parameter": list("pqrs"),
                          "parameter_label": ["price", "trust", "budgets", "grade"],
                          "mu_star": [5.0, 9.0, 1.0, 3.0], "mu_star_conf": [1.0, 2.0, 1.0, 1.0]})
    table.to_csv(tmp_path / "study-morris" / "sensitivity.csv", index=False)
    results = SimpleNamespace(name="study-rdm", label=NAMES, manifest={"model_sha256": "x"})
    said = brief.drivers(tmp_path / "study-rdm", results, ["B", "C"], "A")[0]
    # B is not in the study: C, the next, is; trust first, then price, then grade; trust's
    # interval (7 to 11) clears grade's (2 to 4): the order is established
    assert said.startswith("For the world's gain from Cooperation over Open access (Treaty, more "
                           "robust, is not in that study), a Morris study ranks first trust (9, "
                           "95 % interval 7 to 11), price (5, 95 % interval 4 to 6) and grade")
    assert "not established" not in said
    table.loc[3, "mu_star_conf"] = 5.0  # grade's interval now reaches 8: overlap
    table.to_csv(tmp_path / "study-morris" / "sensitivity.csv", index=False)
    said = brief.drivers(tmp_path / "study-rdm", results, ["C"], "A")[0]
    assert "which of them matters most is not established" in said
    assert brief.drivers(tmp_path / "other-rdm", SimpleNamespace(
        name="other-rdm", label=NAMES, manifest={}), ["C"], "A")[0].startswith(
        "No sensitivity study of this experiment")
