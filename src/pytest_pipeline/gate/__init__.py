"""The release gate: results + policy -> one verdict and one exit code; and the publish guard.

The verdict itself (:func:`pytest_pipeline.gate.verdict.decide`) is a pure function of
the results, the policy, the git/CI context and the time, so every way of failing
closed can be tested with hand-built data. Everything that touches the outside world
(reading files, asking git, writing ``gate.json``) lives in its own module around it.
"""
