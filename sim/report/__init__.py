"""The main job's analysis and its report: :func:`sim.report.compare.analyse` reads a results
folder and writes the statistics, figures and report (:mod:`.report`)."""
