"""Reports people look at: the HTML report of a run, and what ``status`` says.

- :mod:`.model` reads a reports folder (``run.json``, ``gate.json``, the merged JUnit file)
  into a :class:`~.model.ReportData`, in bounded memory (:func:`~.model.collect`; the JUnit
  files through :mod:`.junit_results`, the run record through :mod:`.runs`);
- :mod:`.grid` lays the cells out as the report's matrix;
- :mod:`.html` renders that as one self-contained HTML page (its stylesheet: ``html/report.css``);
- :mod:`.status` says what ``pytest-pipeline status`` prints (with the verdicts the gate
  keeps in ``history.jsonl``, :mod:`pytest_pipeline.gate.history`).
"""
