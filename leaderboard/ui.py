"""The Space's "Leaderboard" and "About" tabs: widgets and wiring only.

Every table, choice and figure comes from :mod:`leaderboard.view` and :mod:`leaderboard.plots`; the
numbers come from the engine through :class:`leaderboard.view.LazyLeaderboard`. The public
``/leaderboard`` API returns the table for a mode::

    client.predict("pair", api_name="/leaderboard")  # -> (table, caption, csv file)

with optional further inputs: metric, families, provenances, subsets, columns.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from leaderboard import plots
from leaderboard.columns import HEADLINE_METRIC, METRICS
from leaderboard.labels import SUBSETS
from leaderboard.runs import MODES
from leaderboard.view import (
    BIAS_METRICS,
    DEFAULT_COLUMNS,
    OPTIONAL_COLUMNS,
    PROVENANCES,
    LazyLeaderboard,
    family_choices,
    filter_rows,
    metric_label,
    resolve_metric,
    sample_state,
    sample_view,
    style_table,
    table_caption,
    wide_table,
    write_csv,
)

MODE_LABELS = {"score": "Score (1-5)", "pair": "Pair (A / B / tie)", "batch": "Batch ranking"}
DEFAULT_MODE = "score"


def _static_metric_choices(mode: str) -> list[tuple[str, str]]:
    # From the metric registry, not the data: the dropdown can be built before anything is loaded.
    names = [m.name for m in METRICS if m.mode in (mode, "any")]
    headline = HEADLINE_METRIC[mode]
    names.remove(headline)
    return [(metric_label(n), n) for n in (headline, *names)]


def build_leaderboard_tab(demo: gr.Blocks, store: LazyLeaderboard, benchmark_dir: Path | None = None) -> None:
    """Render the Leaderboard tab inside the current ``gr.Tab`` and fill it when the page loads.

    Args:
        demo: The enclosing Blocks (its ``load`` event fills the table).
        store: Loads the engine's table once, on first use.
        benchmark_dir: Local copy of the benchmark texts (``BENCHMARK_DIR``) for the sample view.
    """
    with gr.Row(equal_height=True):
        mode = gr.Radio(
            [(MODE_LABELS[m], m) for m in MODES], value=DEFAULT_MODE, label="Mode", scale=2, elem_id="lb-mode"
        )
        metric = gr.Dropdown(
            _static_metric_choices(DEFAULT_MODE),
            value=HEADLINE_METRIC[DEFAULT_MODE],
            label="Metric",
            # API callers may pass any mode's metric; an unknown one falls back to the headline metric.
            allow_custom_value=True,
            scale=2,
            elem_id="lb-metric",
        )
    with gr.Row(equal_height=True):
        families = gr.Dropdown(
            [],
            value=[],
            multiselect=True,
            # Choices arrive with the data at page load; API callers may name families directly.
            allow_custom_value=True,
            label="Judge family",
            info="Empty: all",
            elem_id="lb-families",
        )
        provenances = gr.Dropdown(
            list(PROVENANCES),
            value=[],
            multiselect=True,
            label="Provenance",
            info="Empty: all",
            elem_id="lb-provenance",
        )
        subsets = gr.Dropdown(
            list(SUBSETS),
            value=[],
            multiselect=True,
            label="Subset",
            info="Empty: all",
            elem_id="lb-subsets",
        )
    with gr.Accordion("Columns", open=False):
        columns = gr.CheckboxGroup(
            list(OPTIONAL_COLUMNS), value=list(DEFAULT_COLUMNS), show_label=False, elem_id="lb-columns"
        )
    table = gr.Dataframe(
        label="Leaderboard",
        interactive=False,
        show_search="filter",
        pinned_columns=2,
        max_height=520,
        wrap=False,
        buttons=["fullscreen", "copy"],
        elem_id="lb-table",
    )
    with gr.Row(equal_height=False):
        caption = gr.Markdown(elem_id="lb-caption")
        download = gr.DownloadButton("Download CSV", size="sm", scale=0, min_width=160, elem_id="lb-download")

    with gr.Accordion("Plots", open=True), gr.Tabs():
        with gr.Tab("Per dataset"):
            bars = gr.Plot(show_label=False, elem_id="lb-bars")
        with gr.Tab("Heatmap"):
            heat = gr.Plot(show_label=False, elem_id="lb-heatmap")
        with gr.Tab("Bias"):
            bias = gr.Plot(show_label=False, elem_id="lb-bias")

    with gr.Accordion("Samples: one benchmark item, every judge's verdict", open=False):
        with gr.Row():
            sample_subset = gr.Dropdown([], label="Subset", elem_id="lb-sample-subset")
            sample_dataset = gr.Dropdown([], label="Dataset", elem_id="lb-sample-dataset")
            sample_item = gr.Dropdown([], label="Item", elem_id="lb-sample-item")
        sample_header = gr.Markdown()
        with gr.Row():
            with gr.Column(scale=3):
                sample_verdicts = gr.Dataframe(interactive=False, label="Verdicts", max_height=260)
                sample_texts = gr.Markdown()
            sample_image = gr.Image(label="Image", interactive=False, visible=False, scale=2)

    filters = [mode, metric, families, provenances, subsets, columns]

    # -- the table
    def show_table(mode_value, metric_value, family_values, provenance_values, subset_values, column_values):
        data = store.get()
        chosen = resolve_metric(data.table, mode_value, metric_value)
        wide = wide_table(
            data.table,
            mode_value,
            chosen,
            families=family_values,
            provenances=provenance_values,
            subsets=subset_values,
            columns=column_values,
        )
        path = write_csv(wide, mode_value, chosen)
        return style_table(wide), table_caption(data.table, mode_value, chosen, wide), str(path)

    def show_plots(mode_value, metric_value, family_values, provenance_values, subset_values):
        data = store.get()
        chosen = resolve_metric(data.table, mode_value, metric_value)
        rows = filter_rows(
            data.table, mode_value, families=family_values, provenances=provenance_values, subsets=subset_values
        )
        return (
            plots.dataset_bars(rows, chosen),
            plots.heatmap(rows, chosen),
            plots.bias_bars(rows, BIAS_METRICS[mode_value]),
        )

    def on_mode(mode_value):
        return gr.Dropdown(choices=_static_metric_choices(mode_value), value=HEADLINE_METRIC[mode_value])

    def on_load():
        return gr.Dropdown(choices=family_choices(store.get().table))

    # -- the sample view
    def sample_outputs(mode_value, subset=None, dataset=None, item=None):
        data = store.get()
        state = sample_state(data, mode_value, subset, dataset, item)
        view = sample_view(data, mode_value, state.subset or "", state.item, benchmark_dir)
        return (
            gr.Dropdown(choices=state.subsets, value=state.subset),
            gr.Dropdown(choices=state.datasets, value=state.dataset),
            gr.Dropdown(choices=state.items, value=state.item),
            view.header_md,
            view.verdicts,
            view.texts_md,
            gr.Image(value=view.image_path, visible=view.image_path is not None),
        )

    sample_targets = [
        sample_subset,
        sample_dataset,
        sample_item,
        sample_header,
        sample_verdicts,
        sample_texts,
        sample_image,
    ]
    table_event = dict(fn=show_table, inputs=filters, outputs=[table, caption, download])
    plot_event = dict(fn=show_plots, inputs=filters[:5], outputs=[bars, heat, bias], api_visibility="private")

    # Page load: the table first (what people came for), then filters, plots and samples.
    loaded = demo.load(**table_event, api_name="leaderboard_initial", api_visibility="private")
    loaded.then(on_load, None, families, api_name="leaderboard_families", api_visibility="private").then(
        **plot_event, api_name="leaderboard_plots_initial"
    ).then(sample_outputs, mode, sample_targets, api_name="leaderboard_samples_initial", api_visibility="private")

    changed = mode.input(on_mode, mode, metric, api_name="leaderboard_mode", api_visibility="private", queue=False)
    changed.then(**table_event, api_name="leaderboard").then(**plot_event, api_name="leaderboard_plots_mode").then(
        sample_outputs, mode, sample_targets, api_name="leaderboard_samples_mode", api_visibility="private"
    )
    for i, control in enumerate((metric, families, provenances, subsets)):
        control.input(**table_event, api_name=f"leaderboard_filter_{i}", api_visibility="private").then(
            **plot_event, api_name=f"leaderboard_plots_filter_{i}"
        )
    columns.input(**table_event, api_name="leaderboard_columns", api_visibility="private")

    sample_subset.input(
        lambda m, s: sample_outputs(m, s),
        [mode, sample_subset],
        sample_targets,
        api_name="leaderboard_sample_subset",
        api_visibility="private",
    )
    sample_dataset.input(
        lambda m, s, d: sample_outputs(m, s, d),
        [mode, sample_subset, sample_dataset],
        sample_targets,
        api_name="leaderboard_sample_dataset",
        api_visibility="private",
    )
    sample_item.input(
        sample_outputs,
        [mode, sample_subset, sample_dataset, sample_item],
        sample_targets,
        api_name="leaderboard_sample_item",
        api_visibility="private",
    )


def build_about_tab() -> None:
    """Render the About tab: the engine's prose (benchmark, metric definitions, adding a judge, citation)."""
    from leaderboard.about import about_markdown

    gr.Markdown(about_markdown(), elem_id="about-text")
