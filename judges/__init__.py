"""Multimodal LLMs as judges: verdicts of registered judge tasks from API or local vision-language models.

The public API, importable without pulling in torch, transformers or openai::

    from judges import Judge, JudgeOptions, get_task, create_backend
    backend = create_backend("openai", "gpt-4o-mini", base_url="http://localhost:8000/v1")
    task = get_task("pair").make_task("What is shown?", ["A cat.", "A dog."], ["photo.png"])
    result = Judge(backend, "pair", JudgeOptions(swap=True)).judge(task)
"""

from judges.backends.catalog import CATALOG, JudgeSpec, build_backend, custom_spec, get_spec, judge_names
from judges.backends.registry import create_backend
from judges.errors import BackendError, BadInput, ConfigError, JudgeError
from judges.images import load_image
from judges.judge import Judge, JudgeOptions
from judges.prompts import SETTINGS, get_setting
from judges.settings import Settings
from judges.tasks import TASKS, get_task, parse_verdict, task_label, task_names
from judges.types import BatchTask, JudgeResult, PairTask, ParseResult, Sampling, ScoreTask

__all__ = [
    "CATALOG",
    "TASKS",
    "SETTINGS",
    "BackendError",
    "BadInput",
    "BatchTask",
    "ConfigError",
    "Judge",
    "JudgeError",
    "JudgeOptions",
    "JudgeResult",
    "JudgeSpec",
    "PairTask",
    "ParseResult",
    "Sampling",
    "ScoreTask",
    "Settings",
    "build_backend",
    "create_backend",
    "custom_spec",
    "get_setting",
    "get_spec",
    "get_task",
    "judge_names",
    "load_image",
    "parse_verdict",
    "task_label",
    "task_names",
]
