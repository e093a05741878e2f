"""The Space's "Leaderboard" and "About" tabs: widgets and wiring only.

Every table, choice and figure comes from :mod:`leaderboard.ui.table`, :mod:`leaderboard.ui.samples`
and :mod:`leaderboard.ui.plots`; the numbers come from the engine through
:class:`leaderboard.board.LazyLeaderboard`. This is the only module of the package that imports gradio. The public
``/leaderboard`` API returns the table for a mode::

    client.predict("pair", api_name="/leaderboard")  # -> (table, caption, csv file)

with optional further inputs: metric, families, provenances, subsets, columns. ``/refresh`` reloads
the runs (re-pulling ``RUNS_REPO``) and ``/submit`` checks and stores an uploaded run::

    client.predict(api_name="/refresh")  # -> status line
    client.predict([handle_file("manifest.json"), handle_file("judgments.jsonl")], api_name="/submit")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from judges.tasks import task_label
from leaderboard.board import LazyLeaderboard, problems_summary, refresh_leaderboard
from leaderboard.metrics.registry import BIAS_METRICS, HEADLINE_METRIC, metrics_for
from leaderboard.schema import MODES, PROVENANCE_UNVERIFIED, SUBSETS
from leaderboard.store.format import JUDGMENTS_NAME, MANIFEST_NAME
from leaderboard.submissions.check import DEFAULT_MAX_BYTES
from leaderboard.submissions.panel import submit_run
from leaderboard.ui import plots
from leaderboard.ui.samples import sample_state, sample_view
from leaderboard.ui.table import (
    DEFAULT_COLUMNS,
    OPTIONAL_COLUMNS,
    PROVENANCES,
    family_choices,
    filter_rows,
    metric_label,
    resolve_metric,
    style_table,
    table_caption,
    wide_table,
    write_csv,
)

SUBMIT_HELP = f"""
Upload a run of your judge on the benchmark, in the format `python -m leaderboard run` writes:
**{MANIFEST_NAME}** (`schema_version` 1, `run_id`, `judge`, `mode`: score, pair or batch, `split`:
all, hq or hard) and **{JUDGMENTS_NAME}** (one line per item, e.g.
`{{"item_id": "14", "dataset": "coco", "verdict": "A"}}`; verdicts: 1-5, A/B/tie, or a full ranking
such as "DCBA"; `null` with an `unscored_reason` when the judge gave none), or one zip of both, at most
{DEFAULT_MAX_BYTES // 2**20} MB. Every item id must be a benchmark item of the run's mode and split.
An accepted run is listed at once as *{PROVENANCE_UNVERIFIED}* (marked `[unverified]`) until the
maintainers re-run it.
"""

if TYPE_CHECKING:
    from judges.settings import Settings

#: The task the table opens on.
DEFAULT_MODE = "score"


def _static_metric_choices(mode: str) -> list[tuple[str, str]]:
    # From the metric registry, not the data: the dropdown can be built before anything is loaded.
    names = [m.name for m in metrics_for(mode)]
    headline = HEADLINE_METRIC[mode]
    names.remove(headline)
    return [(metric_label(n), n) for n in (headline, *names)]


def _filter(label: str, choices: list[str], elem_id: str, **options) -> gr.Dropdown:
    """A multi-select filter whose empty selection means "all"."""
    return gr.Dropdown(choices, value=[], multiselect=True, label=label, info="Empty: all", elem_id=elem_id, **options)


def build_leaderboard_tab(
    demo: gr.Blocks, store: LazyLeaderboard, benchmark_dir: Path | None = None, settings: Settings | None = None
) -> None:
    """Render the Leaderboard tab inside the current ``gr.Tab`` and fill it when the page loads.

    Args:
        demo: The enclosing Blocks (its ``load`` event fills the table).
        store: Loads the engine's table on first use, and again on Refresh or after a submission.
        benchmark_dir: Local copy of the benchmark texts (``BENCHMARK_DIR``) for the sample view.
        settings: Where submissions are stored and pushed (default: the store's settings).
    """
    with gr.Row(equal_height=True):
        mode = gr.Radio(
            [(task_label(m), m) for m in MODES], value=DEFAULT_MODE, label="Mode", scale=2, elem_id="lb-mode"
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
        # Choices of the family filter arrive with the data at page load; API callers may name families directly.
        families = _filter("Judge family", [], "lb-families", allow_custom_value=True)
        provenances = _filter("Provenance", list(PROVENANCES), "lb-provenance")
        subsets = _filter("Subset", list(SUBSETS), "lb-subsets")
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
        refresh = gr.Button("Refresh", size="sm", scale=0, min_width=120, elem_id="lb-refresh")
    status = gr.Markdown(elem_id="lb-status")

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

    with gr.Accordion("Submit a run", open=False, elem_id="lb-submit"):
        gr.Markdown(SUBMIT_HELP)
        upload = gr.File(
            file_count="multiple",
            file_types=[".json", ".jsonl", ".zip"],
            label="manifest.json + judgments.jsonl, or a zip of both",
            elem_id="lb-submit-files",
        )
        submit = gr.Button("Submit", variant="primary", elem_id="lb-submit-button")
        submit_message = gr.Markdown(elem_id="lb-submit-message")

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

    def on_families():
        return gr.Dropdown(choices=family_choices(store.get().table))

    def on_load():
        # The first load also says which stored runs had problems (a refresh says it in its status).
        return on_families(), problems_summary(store.get())

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
    table_event: dict[str, Any] = dict(fn=show_table, inputs=filters, outputs=[table, caption, download])
    plot_event: dict[str, Any] = dict(
        fn=show_plots, inputs=filters[:5], outputs=[bars, heat, bias], api_visibility="private"
    )

    # Page load: the table first (what people came for), then filters, plots and samples.
    loaded = demo.load(**table_event, api_name="leaderboard_initial", api_visibility="private")
    loaded.then(on_load, None, [families, status], api_name="leaderboard_families", api_visibility="private").then(
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

    # -- reloading: Refresh, and a stored submission (the store is reloaded, then every view redrawn)
    def do_refresh():
        return refresh_leaderboard(store)

    def do_submit(files):
        return submit_run(files, store, settings).message

    def redraw(event, name):
        event.then(**table_event, api_name=f"leaderboard_{name}_table", api_visibility="private").then(
            on_families, None, families, api_name=f"leaderboard_{name}_families", api_visibility="private"
        ).then(**plot_event, api_name=f"leaderboard_{name}_plots").then(
            sample_outputs,  # keeps the chosen item when it still exists
            [mode, sample_subset, sample_dataset, sample_item],
            sample_targets,
            api_name=f"leaderboard_{name}_samples",
            api_visibility="private",
        )

    # One reload at a time, server-wide: a refresh pulls RUNS_REPO and recomputes the table.
    reload_queue: dict[str, Any] = dict(concurrency_limit=1, concurrency_id="leaderboard-reload")
    redraw(refresh.click(do_refresh, None, status, api_name="refresh", **reload_queue), "refresh")
    redraw(submit.click(do_submit, upload, submit_message, api_name="submit", **reload_queue), "submit")

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
    from leaderboard.ui.about import about_markdown

    gr.Markdown(about_markdown(), elem_id="about-text")
