"""Layer 9, report: the main job's analysis and its report. :func:`sim.report.compare.analyse`
reads a results folder and writes the statistics, figures and report; the report's sections are
:mod:`.summary`, :mod:`.rare_earths`, :mod:`.games` and :mod:`.appendix`, laid out by
:mod:`.render` and worded with :mod:`.text`."""
