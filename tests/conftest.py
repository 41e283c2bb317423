"""Shared fixtures: library scenarios as raw tables that a test may change."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers import raw_scenario

from sim.scenario.loader import library_dir

# Importing Solara (tests/test_app*.py) must neither report to its makers nor write an id file
# into the home folder: what `lunarsim app` sets for its server.
os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
os.environ.setdefault("SOLARA_TELEMETRY_SERVER_USER_ID", "lunarsim")


@pytest.fixture(scope="session")
def library() -> Path:
    return library_dir()


@pytest.fixture()
def pd_raw() -> dict[str, Any]:
    return raw_scenario("two_player_pd")


@pytest.fixture()
def baseline_raw() -> dict[str, Any]:
    return raw_scenario("baseline")
