"""The root of every error the leaderboard raises on purpose.

Each package keeps its own small error classes beside the code that raises them, and each derives
from :class:`LeaderboardError`, so a caller that only wants to say "the leaderboard refused" catches
one class. They also keep the built-in base they had (``ValueError`` for bad input, ``RuntimeError``
for a state that does not allow the action), so older ``except`` clauses still work:

=======================  ===================================  ==============================
error                    raised by                            also a
=======================  ===================================  ==============================
``RunFormatError``       :mod:`leaderboard.store` (format)    ``ValueError``
``HubError``             :mod:`leaderboard.store` (hub)       ``RuntimeError``
``BenchmarkError``       :mod:`leaderboard.benchmarks`        ``ValueError``
``RunnerError``          :mod:`leaderboard.runner` (config)   ``RuntimeError``
``RunStateError``        :mod:`leaderboard.runner` (folder)   ``RuntimeError``
``SubmissionError``      :mod:`leaderboard.submissions`       ``ValueError``
=======================  ===================================  ==============================

Every message says what to change. This module imports nothing.
"""

from __future__ import annotations


class LeaderboardError(Exception):
    """Something the leaderboard refused to do; the message says how to fix it."""
