"""How the Judge tab shows a judgment: a JudgeResult in, HTML, Markdown and a plotly figure out.

The verdict block itself comes from the task kind (:meth:`judges.tasks.TaskKind.verdict_html`);
this module frames it and adds the swap, consistency and run facts. No gradio here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from judges.tasks import get_task
from judges.types import JudgeResult, VerdictDistribution

if TYPE_CHECKING:
    from judges.ui.form import Judgment

# --------------------------------------------------------------------------- result -> display


@dataclass(frozen=True)
class ResultView:
    """A JudgeResult ready for display.

    Attributes:
        verdict_html: The verdict, prominent (stars, winner, ranked list) or "Unscored: why".
        details_md: Swap / consistency outcomes and the run facts (latency, tokens, setting).
        analysis_md: The judge's analysis.
        raw_output: The judge's raw text.
        probabilities: Label -> probability when the backend gave token probabilities.
        plot_title: What the probability plot shows (one request, or the mean of several).
        prompt: The exact rendered prompt ("" when unknown).
    """

    verdict_html: str
    details_md: str
    analysis_md: str
    raw_output: str
    probabilities: dict[str, float] | None
    plot_title: str = "Verdict probabilities"
    prompt: str = ""


def verdict_text(verdict: Any) -> str:
    """A verdict as plain text: ``4``, ``A``, ``tie`` or ``C > A > B``."""
    if isinstance(verdict, tuple | list):
        return " > ".join(verdict)
    return "—" if verdict is None else str(verdict)


def verdict_html(result: JudgeResult, responses: Sequence[str] = ()) -> str:
    """The verdict as a small HTML block (styled by the ``verdict*`` classes of assets/app.css).

    Args:
        result: The judgment.
        responses: The judged responses, to quote the winner or the ranking.
    """
    kind = get_task(result.mode)
    # A structured task's parts (criteria, checks, steps ...) show under the verdict, scored or not:
    # one unscored criterion leaves the others standing.
    parts = kind.details_html(result.details) if result.details else ""
    if not result.parsed or result.verdict is None:
        reason = html.escape(result.reason or "no valid verdict in the output")
        return (
            '<div class="verdict verdict-unscored"><div class="verdict-kicker">Verdict</div>'
            f'<div class="verdict-main">Unscored: {reason}</div>'
            '<div class="verdict-sub">The judge answered, but no valid verdict could be read. '
            "See the raw output below.</div></div>" + parts
        )
    return kind.verdict_html(result.verdict, responses) + parts


def details_markdown(
    result: JudgeResult, *, expected: float | None = None, confidence: float | None = None, over: str = ""
) -> str:
    """Swap and consistency outcomes, then latency, tokens and prompt facts, as Markdown.

    Args:
        result: The judgment.
        expected: The expected score to show instead of the first request's (a combined one).
        confidence: The confidence in the verdict to show instead of the first request's.
        over: What ``expected`` and ``confidence`` are computed over ("mean of 2 orders").
    """
    lines = []
    dist = result.probabilities
    if expected is None and dist is not None:
        expected = dist.expected_score
    if confidence is None and dist is not None:
        confidence = dist.confidence
    where = f" ({over})" if over else ""
    if expected is not None:
        lines.append(f"**Expected score** from token probabilities{where}: {expected:.2f}")
    if confidence is not None:
        lines.append(f"**Confidence** in the verdict's label{where}: {confidence:.0%}")
    if result.swap is not None:
        swap = result.swap
        if swap.consistent is None:
            outcome = "could not be compared (one order was unscored)"
        elif swap.consistent:
            outcome = "consistent"
        else:
            outcome = "**inconsistent**, so the verdict is a tie"
        lines.append(
            f"**Position swap**: original order → {verdict_text(swap.original_verdict)}, "
            f"swapped order → {verdict_text(swap.swapped_verdict)} ({outcome})."
        )
    if result.consistency is not None:
        c = result.consistency
        what = "shuffled orders" if c.kind == "shuffles" else "samples"
        agreement = "n/a" if c.agreement is None else f"{c.agreement:.0%}"
        shown = ", ".join(verdict_text(v) if v is not None else "unscored" for v in c.verdicts)
        lines.append(
            f"**Consistency** over {len(c.verdicts)} {what}: {agreement} agree with "
            f"{verdict_text(c.majority)} ({shown})."
        )
    facts = [f"{result.latency_s:.2f} s"]
    if result.usage is not None and (result.usage.prompt_tokens or result.usage.completion_tokens):
        facts.append(f"{result.usage.prompt_tokens:,} prompt + {result.usage.completion_tokens:,} completion tokens")
    facts.append(f"{result.attempts} request{'s' if result.attempts != 1 else ''}")
    facts.append(f"setting `{result.setting}`")
    if result.template:
        facts.append(f"prompt `{result.template}`")
    lines.append(f"<small>{html.escape(result.judge)} · {' · '.join(facts)}</small>")
    return "\n\n".join(lines)


def present_result(result: JudgeResult, responses: Sequence[str] = ()) -> ResultView:
    """Everything the result panel shows for ``result``."""
    dist = result.probabilities
    return ResultView(
        verdict_html=verdict_html(result, responses),
        details_md=details_markdown(result),
        analysis_md=result.analysis.strip() or "_The judge gave no separate analysis._",
        raw_output=result.raw_output,
        probabilities=dict(dist.probabilities) if dist is not None else None,
    )


def present_judgment(judgment: Judgment) -> ResultView:
    """Everything the result panel shows, with the views of a swap, shuffles or samples combined.

    The plot and the confidence describe the final verdict: the mean of every view's distribution
    in the original letters. The analysis says which view it comes from, the raw output lists
    every view, and re-asks are counted.
    """
    result, views = judgment.result, judgment.views
    n = len(judgment.responses)
    base = present_result(result, judgment.responses)
    reconciled = judgment.reconciled
    several = len(views) > 1
    probabilities, title, over = base.probabilities, "Verdict probabilities (one request)", ""
    expected = confidence = None
    if reconciled is not None and several:
        probabilities = reconciled.probabilities
        over = _views_phrase(reconciled.views, reconciled.total)
        title = f"Verdict probabilities: {over}, in the original letters"
        expected, confidence = reconciled.expected_score, reconciled.confidence
    elif reconciled is None and several:
        probabilities = None  # one view's distribution would contradict a combined verdict
    details = details_markdown(result, expected=expected, confidence=confidence, over=over)
    reasked = sum(1 for v in views if v.attempts > 1)
    if reasked:
        details += (
            f"\n\n**Re-asked**: {reasked} output{'s' if reasked != 1 else ''} held no valid verdict, so the "
            "judge was asked once more to answer in the required format."
        )
    analysis = base.analysis_md
    if several and views:
        analysis = (
            f"_From the {views[0].describe(n)} (of {len(views)} requests; all are under Raw output)._\n\n{analysis}"
        )
    raw = base.raw_output
    if several:
        raw = "\n\n".join(
            f"--- {i + 1}/{len(views)}: {v.describe(n)}"
            + (f", asked {v.attempts} times" if v.attempts > 1 else "")
            + f" ---\n{v.raw_output or v.error}"
            for i, v in enumerate(views)
        )
    return ResultView(base.verdict_html, details, analysis, raw, probabilities, title, judgment.prompt)


def _views_phrase(known: int, total: int) -> str:
    if known == total:
        return f"mean of {total} requests"
    return f"mean of the {known} of {total} requests that reported probabilities"


def probability_figure(
    dist: VerdictDistribution | dict[str, float] | None, mode: str, title: str = "Verdict probabilities"
) -> Any:
    """A small plotly bar chart of the verdict probabilities, or None when there are none."""
    if dist is None:
        return None
    probs = dict(dist.probabilities) if isinstance(dist, VerdictDistribution) else dict(dist)
    if not probs:
        return None
    import plotly.graph_objects as go

    best = max(probs, key=lambda label: probs[label])
    fig = go.Figure(
        go.Bar(
            x=list(probs),
            y=list(probs.values()),
            marker_color=["#2563eb" if k == best else "#94a3b8" for k in probs],
            text=[f"{v:.0%}" for v in probs.values()],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        height=220,
        margin=dict(l=40, r=10, t=30, b=30),
        title=dict(text=title, font=dict(size=12)),
        xaxis=dict(title=get_task(mode).probability_axis, type="category"),
        yaxis=dict(range=[0, 1.15], tickformat=".0%", showgrid=False),
        showlegend=False,
        template="plotly_white",
    )
    return fig
