"""The About tab says what the issue asks of it: the benchmark, every metric, how to contribute, the citation."""

from __future__ import annotations

from leaderboard.metrics.registry import METRICS
from leaderboard.ui.about import about_markdown


def test_about_names_every_metric_and_how_to_contribute():
    text = about_markdown()
    for metric in METRICS:
        assert f"`{metric.name}`" in text, metric.name
    for heading in (
        "## The benchmark",
        "## Every metric",
        "## Add a judge",
        "## Run the benchmark and submit",
        "## Citation",
    ):
        assert heading in text
    assert "python -m leaderboard run" in text and "judges/backends/catalog.py" in text
    assert "arXiv" in text and "2402.04788" in text
    assert "inflated" in text  # the HQ caveat
