"""The leaderboard of judge-human agreement on the MLLM-as-a-Judge benchmark (data side).

Modules: :mod:`~leaderboard.runs` (the stored-run contract and RunWriter), :mod:`~leaderboard.loader`
(reading and merging runs), :mod:`~leaderboard.labels` (human labels, dataset names),
:mod:`~leaderboard.importer` (the released data -> stored runs), :mod:`~leaderboard.metrics` (pure
metric functions), :mod:`~leaderboard.bias`, :mod:`~leaderboard.aggregate` (runs -> long table),
:mod:`~leaderboard.reference` (the paper's numbers), :mod:`~leaderboard.columns` (column schema and
the metric registry), :mod:`~leaderboard.about` (About-tab prose). ``python -m leaderboard --help``
lists the commands. Importing this package does no work.
"""

from __future__ import annotations

__version__ = "0.1.0"
