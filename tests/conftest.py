"""Shared fixtures: library scenarios as raw tables that a test may change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import raw_scenario

from sim.scenario.loader import library_dir


@pytest.fixture(scope="session")
def library() -> Path:
    return library_dir()


@pytest.fixture()
def pd_raw() -> dict[str, Any]:
    return raw_scenario("two_player_pd")


@pytest.fixture()
def baseline_raw() -> dict[str, Any]:
    return raw_scenario("baseline")
