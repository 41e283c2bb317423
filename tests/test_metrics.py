"""Metrics whose definitions are choices: each checked against values known by hand."""

from __future__ import annotations

import numpy as np
import pytest


def test_gini_is_the_usual_one_for_gains_and_counts_unequal_losses():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sim.model.metrics import gini

    assert gini(np.array([1.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 3.0])) == pytest.approx(2 / 3)  # one holds all: (n-1)/n
    assert gini(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.25)  # textbook value
    assert gini(np.array([-2.0, -2.0])) == pytest.approx(0.0)  # equal losses are equal
    assert gini(np.array([-3.0, 0.0, 0.0])) == pytest.approx(2 / 3)  # one bears all the loss
    assert gini(np.zeros(4)) == 0.0

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=12))
    def bounded(values):
        g = float(gini(np.array(values)))
        assert -1e-12 <= g <= 1 + 1e-12
        assert g == pytest.approx(float(gini(np.array(values) * 3.7)), abs=1e-9)  # scale-free

    bounded()
