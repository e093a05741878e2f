"""Side by side: several judges on the same input at once, their agreement and a panel verdict.

The ``/compare`` API takes the ``/judge`` inputs followed by ``judges`` (a list of catalog names,
:data:`~judges.ui.form.CUSTOM_JUDGE` for the endpoint the form describes); see
:data:`COMPARE_FIELDS`. A typed ``api_key`` belongs to ``judge`` (the judge the key box names)
and is sent to that judge only; the others use this Space's secrets, a custom endpoint none. Every judge gets the same task and options; they run concurrently, and a
judge that fails is shown with its error next to the others instead of failing the comparison.
The panel verdict is the majority the task's verdict space defines (a Borda count for rankings; a
split pair vote is a tie), and agreement is the share of pairs of judges that gave the same
verdict. No gradio here.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from judges.backends.catalog import build_backend
from judges.errors import BadInput, JudgeError, redact
from judges.settings import Settings
from judges.tasks import get_task
from judges.ui.form import INPUT_FIELDS, BackendFactory, JudgeForm, Judgment, judge_form
from judges.verdicts import Verdict

#: The ``/compare`` inputs: those of ``/judge``, then ``judges``.
COMPARE_FIELDS: tuple[str, ...] = (*INPUT_FIELDS, "judges")
#: Most judges one comparison runs (each costs a request or more).
MAX_COMPARED = 4


def compare_forms(values: Sequence[Any]) -> list[JudgeForm]:
    """One form per chosen judge from the ``/compare`` inputs in :data:`COMPARE_FIELDS` order.

    Raises:
        BadInput: Fewer than two or more than :data:`MAX_COMPARED` judges, a judge named twice, or
            any input :meth:`JudgeForm.from_inputs` refuses.
    """
    if len(values) > len(COMPARE_FIELDS):
        raise BadInput(f"/compare takes at most {len(COMPARE_FIELDS)} inputs, got {len(values)}.")
    index = COMPARE_FIELDS.index("judges")
    chosen = values[index] if len(values) > index else None
    names = [chosen] if isinstance(chosen, str) else list(chosen or [])
    if not all(isinstance(name, str) and name for name in names):
        raise BadInput("judges must be a list of judge names.")
    if len(set(names)) != len(names):
        raise BadInput("judges names a judge twice: list each judge once.")
    if not 2 <= len(names) <= MAX_COMPARED:
        raise BadInput(f"Pick 2 to {MAX_COMPARED} judges to compare side by side; {len(names)} chosen.")
    base = JudgeForm.from_inputs(list(values[:index]))
    # The typed key was typed for the judge the key box names; no other judge may receive it.
    return [replace(base, judge=name, api_key=base.api_key if name == base.judge else "") for name in names]


@dataclass(frozen=True)
class Entry:
    """One judge's column: its judgment, or the error that stopped it."""

    judge: str
    judgment: Judgment | None
    error: str = ""

    @property
    def verdict(self) -> Verdict | None:
        """The judge's verdict, None when it failed or was unscored."""
        if self.judgment is None or not self.judgment.result.parsed:
            return None
        return self.judgment.result.verdict


@dataclass(frozen=True)
class Comparison:
    """Several judges on one input.

    Attributes:
        mode: The task name.
        entries: One per judge, in the order chosen.
        panel: The majority verdict of the judges that gave one, None when none did.
        mean_score: For a numeric scale, the mean of the judges' scores.
        agreement: Share of pairs of scored judges that gave the same verdict (None with < 2).
        with_panel: Share of scored judges whose verdict is the panel verdict.
    """

    mode: str
    entries: tuple[Entry, ...]
    panel: Verdict | None
    mean_score: float | None
    agreement: float | None
    with_panel: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the ``/compare`` API's last output)."""
        space = get_task(self.mode).verdicts
        return {
            "mode": self.mode,
            "panel_verdict": None if self.panel is None else space.to_stored(self.panel),
            "mean_score": self.mean_score,
            "agreement": self.agreement,
            "agreement_with_panel": self.with_panel,
            "judges": [
                {
                    "judge": e.judge,
                    "verdict": None if e.verdict is None else space.to_stored(e.verdict),
                    "error": e.error,
                    "probabilities": (
                        e.judgment.reconciled.probabilities if e.judgment and e.judgment.reconciled else None
                    ),
                }
                for e in self.entries
            ],
        }


def compare(forms: Sequence[JudgeForm], settings: Settings, *, factory: BackendFactory = build_backend) -> Comparison:
    """Run every form's judge concurrently and summarise their agreement.

    Input problems shared by all judges (an empty response, a bad image) are raised once; a judge
    that fails on its own (no key, unreachable) keeps its column with the error.

    Raises:
        BadInput: The input cannot be judged by any judge.
    """
    from judges.ui.form import build_task

    build_task(forms[0])  # one readable error for the input, before any request
    secrets = [*settings.secrets(), *(f.api_key for f in forms if f.api_key)]

    def one(form: JudgeForm) -> Entry:
        try:
            return Entry(form.judge, judge_form(form, settings, factory=factory))
        except JudgeError as exc:
            return Entry(form.judge, None, redact(str(exc), secrets))

    with ThreadPoolExecutor(max_workers=len(forms)) as pool:
        entries = tuple(pool.map(one, forms))
    return summarise(forms[0].mode, entries)


def summarise(mode: str, entries: Sequence[Entry]) -> Comparison:
    """The panel verdict and the agreement of ``entries``."""
    space = get_task(mode).verdicts
    verdicts = [e.verdict for e in entries if e.verdict is not None]
    panel = space.majority(verdicts) if verdicts else None
    numbers = [v for v in verdicts if isinstance(v, int)]
    mean_score = sum(numbers) / len(numbers) if numbers and len(numbers) == len(verdicts) else None
    pairs = list(itertools.combinations(verdicts, 2))
    agreement = sum(a == b for a, b in pairs) / len(pairs) if pairs else None
    with_panel = sum(v == panel for v in verdicts) / len(verdicts) if verdicts else None
    return Comparison(mode, tuple(entries), panel, mean_score, agreement, with_panel)


# --------------------------------------------------------------------------- display


def comparison_html(comparison: Comparison) -> str:
    """The judges as columns (verdict, probabilities, reasoning), with the panel line above them."""
    space = get_task(comparison.mode).verdicts
    scored = sum(e.verdict is not None for e in comparison.entries)
    facts = [f"{scored} of {len(comparison.entries)} judges gave a verdict"]
    if comparison.agreement is not None:
        facts.append(f"pairwise agreement {comparison.agreement:.0%}")
    if comparison.with_panel is not None:
        facts.append(f"{comparison.with_panel:.0%} agree with the panel")
    panel = "—" if comparison.panel is None else space.text(comparison.panel)
    mean = "" if comparison.mean_score is None else f" · mean score {comparison.mean_score:.2f}"
    head = (
        '<div class="verdict compare-panel"><div class="verdict-kicker">Panel verdict (majority)</div>'
        f'<div class="verdict-main">{html.escape(panel)}{mean}</div>'
        f'<div class="verdict-sub">{html.escape(" · ".join(facts))}</div></div>'
    )
    columns = "".join(_column(entry, space) for entry in comparison.entries)
    return f'{head}<div class="compare-grid">{columns}</div>'


def _column(entry: Entry, space: Any) -> str:
    name = html.escape(entry.judge)
    if entry.judgment is None:
        return (
            f'<div class="compare-col compare-failed"><div class="compare-judge">{name}</div>'
            f'<div class="compare-verdict">Failed</div><div class="compare-why">{html.escape(entry.error)}</div></div>'
        )
    result = entry.judgment.result
    if entry.verdict is None:
        verdict = f"Unscored: {html.escape(result.reason or 'no valid verdict')}"
    else:
        verdict = html.escape(space.text(entry.verdict))
    bars = ""
    reconciled = entry.judgment.reconciled
    if reconciled is not None:
        rows = "".join(
            f'<div class="compare-bar"><span>{html.escape(label)}</span>'
            f'<div><div style="width:{p * 100:.0f}%"></div></div><span>{p:.0%}</span></div>'
            for label, p in reconciled.probabilities.items()
        )
        bars = f'<div class="compare-probs">{rows}</div>'
    analysis = html.escape(result.analysis.strip() or "The judge gave no separate analysis.")
    return (
        f'<div class="compare-col"><div class="compare-judge">{name}</div>'
        f'<div class="compare-verdict">{verdict}</div>{bars}'
        f'<div class="compare-why">{analysis}</div>'
        f'<div class="compare-facts">{result.latency_s:.2f} s · {result.attempts} request'
        f"{'s' if result.attempts != 1 else ''}</div></div>"
    )
