"""Layer 6, experiment: one run (:mod:`.run`) and batches of runs. Seeded replicates and parameter
designs over scenarios, run serially, on local processes or on Dask, into a resumable results
folder.

>>> from sim.experiment import run_experiment, ResultStore
>>> outcome = run_experiment("coop_vs_compete", workers=2)
>>> runs = ResultStore(outcome.folder).read("runs")
"""

from sim.experiment.batch import BatchOutcome, run_experiment
from sim.experiment.design import design_points, plan, replicate_seeds
from sim.experiment.spec import Experiment, ExperimentSpec, load_experiment
from sim.experiment.store import ResultStore

__all__ = ["BatchOutcome", "Experiment", "ExperimentSpec", "ResultStore", "design_points",
           "load_experiment", "plan", "replicate_seeds", "run_experiment"]
