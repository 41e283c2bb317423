"""Loaded by the fork server that local workers start from (:class:`~sim.experiment.executors.
ProcessExecutor`): two steps of the library's baseline load the model's compiled kernels there
once, so every worker forked from it starts with them in memory instead of loading them from
the disk cache (about 0.4 s a worker, at every batch: measured). Where the cache is cold, they
compile here once instead of in every worker. A warm-up only: should it fail, each worker loads
what it needs as before."""

from __future__ import annotations


def warm() -> None:
    try:
        from sim.model.model import LunarModel
        from sim.scenario import load_scenario

        model = LunarModel(load_scenario("baseline"), rng=0)
        model.step()
        model.step()
        model.release()
    except Exception:  # noqa: BLE001 - nothing a worker needs is lost
        pass


warm()
