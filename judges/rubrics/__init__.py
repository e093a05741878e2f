"""Rubrics for the ``rubric`` task: the model, the presets, loading, the prompt, reading and combining.

See :mod:`judges.tasks.rubric` for the task itself.
"""

from judges.rubrics.load import Checklist, load_rubric, parse_checklist
from judges.rubrics.model import Criterion, Rubric
from judges.rubrics.presets import ARTIFACTS, JUDGE_ANYTHING, PRESETS

__all__ = [
    "ARTIFACTS",
    "JUDGE_ANYTHING",
    "PRESETS",
    "Checklist",
    "Criterion",
    "Rubric",
    "load_rubric",
    "parse_checklist",
]
