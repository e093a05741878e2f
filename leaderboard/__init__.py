"""The leaderboard of judge-human agreement (data side): stored runs, benchmarks, metrics, the Space's tabs.

Rooms, in import order (each imports only those before it; ``judges`` never imports this package):

* :mod:`~leaderboard.errors`: :class:`~leaderboard.errors.LeaderboardError`, the root of every error here;
* :mod:`~leaderboard.schema`: the long table's columns and the values they take (modes, subsets,
  provenances, Average/Pooled, the default benchmark);
* :mod:`~leaderboard.store`: the stored-run format, reading, writing, the human-label table, where
  runs live (embedded, ``RUNS_DIR``, ``RUNS_REPO``, submissions), the Hub;
* :mod:`~leaderboard.benchmarks`: the benchmark registry; ``mllm_judge/`` reads the MLLM-as-a-Judge
  release, imports its judge outputs and holds the paper's numbers;
* :mod:`~leaderboard.metrics`: the metric registry, contingency-table metrics, bias, runs -> table;
* :mod:`~leaderboard.runner`: judge a benchmark into a run (``python -m leaderboard run``);
* :mod:`~leaderboard.board`: sources -> labels -> runs -> table, and the lazy store the Space reads;
* :mod:`~leaderboard.submissions`: check, store and show uploaded runs;
* :mod:`~leaderboard.ui`: the Leaderboard and About tabs (gradio only in ``ui/tab.py``).

``python -m leaderboard --help`` lists the commands (:mod:`leaderboard.__main__`). Importing this
package does no work and loads none of its rooms.
"""

from __future__ import annotations

__version__ = "0.1.0"
