"""How the Judge tab shows a judgment: a JudgeResult in, HTML, Markdown and a plotly figure out.

The verdict block itself comes from the task kind (:meth:`judges.tasks.TaskKind.verdict_html`);
this module frames it and adds the swap, consistency and run facts. No gradio here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from judges.tasks import get_task
from judges.types import JudgeResult, VerdictDistribution

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
    """

    verdict_html: str
    details_md: str
    analysis_md: str
    raw_output: str
    probabilities: dict[str, float] | None


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
    if not result.parsed or result.verdict is None:
        reason = html.escape(result.reason or "no valid verdict in the output")
        return (
            '<div class="verdict verdict-unscored"><div class="verdict-kicker">Verdict</div>'
            f'<div class="verdict-main">Unscored: {reason}</div>'
            '<div class="verdict-sub">The judge answered, but no valid verdict could be read. '
            "See the raw output below.</div></div>"
        )
    return get_task(result.mode).verdict_html(result.verdict, responses)


def details_markdown(result: JudgeResult) -> str:
    """Swap and consistency outcomes, then latency, tokens and prompt facts, as Markdown."""
    lines = []
    dist = result.probabilities
    if dist is not None and dist.expected_score is not None:
        lines.append(f"**Expected score** from token probabilities: {dist.expected_score:.2f}")
    if dist is not None and dist.confidence is not None:
        lines.append(f"**Confidence** in the chosen label: {dist.confidence:.0%}")
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


def probability_figure(dist: VerdictDistribution | dict[str, float] | None, mode: str) -> Any:
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
        title=dict(text="Verdict probabilities", font=dict(size=13)),
        xaxis=dict(title=get_task(mode).probability_axis, type="category"),
        yaxis=dict(range=[0, 1.15], tickformat=".0%", showgrid=False),
        showlegend=False,
        template="plotly_white",
    )
    return fig
