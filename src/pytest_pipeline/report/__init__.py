"""Reports people look at: the HTML report of a run, and the small history ``status`` reads.

- :mod:`.model` reads a reports folder (``run.json``, ``gate.json``, the merged JUnit file)
  into a :class:`~.model.ReportData`, in bounded memory;
- :mod:`.html` renders that as one self-contained HTML page;
- :mod:`.history` keeps one line per gate verdict (``history.jsonl``).
"""
