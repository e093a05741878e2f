"""The Space's "Leaderboard" and "About" tabs: widgets and wiring only.

Every table, choice and figure comes from :mod:`leaderboard.ui.table`, :mod:`leaderboard.ui.views`,
:mod:`leaderboard.ui.samples`, :mod:`leaderboard.ui.compare` and :mod:`leaderboard.ui.plots`; the numbers come from the engine
through :class:`leaderboard.board.LazyLeaderboard`. This is the only module of the package that
imports gradio.

The tab opens on a comparable view (:func:`leaderboard.ui.views.default_view`: one benchmark, one
task, one subset) or on the view the page's query string names, and writes every change back into
the URL. The public ``/leaderboard`` API returns the table of a view::

    client.predict("pair", api_name="/leaderboard")  # -> (table, caption, csv file)

with optional further inputs, in this order: metric, families, provenances, subsets (empty: all),
columns, benchmark, search (``;`` = or), min n, same items only. ``/leaderboard_compare`` takes the
same ten inputs and then the run ids of judges A and B (None: the view's first two) and returns
their paired comparison, the reliability diagram of the view's runs with probabilities, and the
matrix of significant wins::

    client.predict("score", "pearson", [], [], ["all"], [], "mllm-as-a-judge", "", 10, False, None, None,
                   api_name="/leaderboard_compare")
    # -> (A's and B's dropdown updates, comparison table, its note, reliability plot, its caption,
    #     wins plot, its note)

``/refresh`` reloads the runs
(re-pulling ``RUNS_REPO``) and ``/submit`` checks and stores an uploaded run::

    client.predict(api_name="/refresh")  # -> status line
    client.predict([handle_file("manifest.json"), handle_file("judgments.jsonl")], api_name="/submit")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from judges.tasks import get_task, task_label
from leaderboard.board import LazyLeaderboard, problems_summary, refresh_leaderboard
from leaderboard.metrics.registry import BIAS_METRICS, HEADLINE_METRIC, metrics_for
from leaderboard.schema import DEFAULT_BENCHMARK, MODES, PROVENANCE_UNVERIFIED, SUBSETS
from leaderboard.store.format import JUDGMENTS_NAME, MANIFEST_NAME
from leaderboard.submissions.check import DEFAULT_MAX_BYTES
from leaderboard.submissions.panel import submit_run
from leaderboard.ui import compare, plots
from leaderboard.ui.comparable import same_items_table, table_at_min_n
from leaderboard.ui.samples import judge_inputs, sample_state, sample_view
from leaderboard.ui.table import (
    OPTIONAL_COLUMNS,
    PROVENANCES,
    family_choices,
    filter_rows,
    inflation_table,
    metric_choices,
    metric_label,
    metric_tooltip,
    resolve_metric,
    style_table,
    table_caption,
    wide_table,
    write_csv,
)
from leaderboard.ui.views import (
    DEFAULT_MIN_N,
    DEFAULT_MODE,
    View,
    benchmark_choices,
    default_subset,
    default_view,
    fit_view,
    has_view_query,
    mode_choices,
    query_js,
    subset_choices,
    view_from_inputs,
    view_from_query,
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

#: The ids app.py gives the Judge and Leaderboard tabs (``gr.Tab(id=...)``).
JUDGE_TAB = "judge"
LEADERBOARD_TAB = "leaderboard"
#: The Judge tab's form, by elem_id: what "Open in the Judge tab" fills in.
JUDGE_FORM_IDS = {
    "image": "judge-image",
    "mode": "judge-mode",
    "instruction": "judge-instruction",
    "count": "judge-count",
    "response": "judge-response-",
}
#: The URL's keys, in the order of the controls handed to the URL writer.
URL_CONTROLS = ("benchmark", "mode", "subsets", "metric", "families", "provenances", "search", "min_n", "same_items")


def _static_metric_choices(mode: str) -> list[tuple[str, str]]:
    # From the metric registry, not the data: the dropdown can be built before anything is loaded.
    names = [m.name for m in metrics_for(mode)]
    headline = HEADLINE_METRIC[mode]
    names.remove(headline)
    return [(metric_label(n), n) for n in (headline, *names)]


def _filter(label: str, choices: list[str], elem_id: str, **options) -> gr.Dropdown:
    """A multi-select filter whose empty selection means "all"."""
    return gr.Dropdown(choices, value=[], multiselect=True, label=label, info="Empty: all", elem_id=elem_id, **options)


def _judge_form(demo: gr.Blocks) -> dict[str, Any] | None:
    """The Judge tab's form components (found by elem_id), or None when the page has no Judge tab."""
    by_id = {getattr(block, "elem_id", None): block for block in demo.blocks.values()}
    form: dict[str, Any] = {key: by_id.get(elem_id) for key, elem_id in JUDGE_FORM_IDS.items() if key != "response"}
    responses = []
    i = 1
    while f"{JUDGE_FORM_IDS['response']}{i}" in by_id:
        responses.append(by_id[f"{JUDGE_FORM_IDS['response']}{i}"])
        i += 1
    if any(v is None for v in form.values()) or not responses:
        return None
    form["responses"] = responses
    return form


def build_leaderboard_tab(
    demo: gr.Blocks,
    store: LazyLeaderboard,
    benchmark_dir: Path | None = None,
    settings: Settings | None = None,
    *,
    tabs: gr.Tabs | None = None,
) -> None:
    """Render the Leaderboard tab inside the current ``gr.Tab`` and fill it when the page loads.

    Args:
        demo: The enclosing Blocks (its ``load`` event fills the table; the Judge tab's form is
            looked up in it for "Open in the Judge tab").
        store: Loads the engine's table on first use, and again on Refresh or after a submission.
        benchmark_dir: Local copy of the benchmark texts (``BENCHMARK_DIR``) for the sample view.
        settings: Where submissions are stored and pushed (default: the store's settings).
        tabs: The page's Tabs (ids :data:`JUDGE_TAB`, :data:`LEADERBOARD_TAB`): a leaderboard link
            opens on this tab, and a sample opened in the Judge tab switches to it. None: no switching.
    """
    with gr.Row(equal_height=True, elem_id="lb-view-row"):
        benchmark = gr.Dropdown(
            [(DEFAULT_BENCHMARK, DEFAULT_BENCHMARK)],
            value=DEFAULT_BENCHMARK,
            label="Benchmark",
            allow_custom_value=True,
            scale=1,
            elem_id="lb-benchmark",
        )
        mode = gr.Radio(
            # Every registered task is valid input (API callers); the page narrows the choices at load.
            [(task_label(m), m) for m in MODES],
            value=DEFAULT_MODE,
            label="Task",
            scale=2,
            elem_id="lb-mode",
        )
        subsets = gr.Dropdown(
            list(SUBSETS),
            value=[SUBSETS[0]],
            multiselect=True,
            label="Subset",
            info="One subset keeps rows comparable; empty: all",
            allow_custom_value=True,
            scale=1,
            elem_id="lb-subsets",
        )
        metric = gr.Dropdown(
            _static_metric_choices(DEFAULT_MODE),
            value=HEADLINE_METRIC[DEFAULT_MODE],
            label="Metric",
            info=metric_tooltip(HEADLINE_METRIC[DEFAULT_MODE]),
            # API callers may pass any metric; one without values in the view falls back to the headline.
            allow_custom_value=True,
            scale=2,
            elem_id="lb-metric",
        )
    with gr.Row(equal_height=True, elem_id="lb-filter-row"):
        search = gr.Textbox(
            "",
            label="Search judges",
            placeholder="gpt; llava (separate alternatives with ;)",
            scale=2,
            elem_id="lb-search",
        )
        # Choices of the family filter arrive with the data at page load; API callers may name families directly.
        families = _filter("Judge family", [], "lb-families", allow_custom_value=True, scale=1)
        provenances = _filter("Provenance", list(PROVENANCES), "lb-provenance", scale=1)
    with gr.Row(equal_height=True, elem_id="lb-rule-row"):
        min_n = gr.Slider(
            0,
            50,
            value=DEFAULT_MIN_N,
            step=1,
            label="Minimum n per dataset cell",
            info="Cells on fewer labelled, parsed items show –",
            scale=1,
            elem_id="lb-min-n",
        )
        same_items = gr.Checkbox(
            False,
            label="Same items only",
            info="Recompute every shown run on the items all of them judged",
            scale=1,
            elem_id="lb-same-items",
        )
    with gr.Accordion("Columns", open=False):
        columns = gr.CheckboxGroup(
            list(OPTIONAL_COLUMNS), value=list(View().columns), show_label=False, elem_id="lb-columns"
        )
    table = gr.Dataframe(
        label="Leaderboard",
        interactive=False,
        pinned_columns=1,
        max_height=520,
        wrap=False,
        buttons=["fullscreen", "copy"],
        elem_id="lb-table",
    )
    with gr.Row(equal_height=False, elem_id="lb-caption-row"):
        caption = gr.Markdown(elem_id="lb-caption")
        with gr.Row(elem_id="lb-actions"):
            download = gr.DownloadButton("Download CSV", size="sm", scale=0, min_width=150, elem_id="lb-download")
            refresh = gr.Button("Refresh", size="sm", scale=0, min_width=110, elem_id="lb-refresh")
    status = gr.Markdown(elem_id="lb-status")

    with gr.Accordion("Plots", open=True), gr.Tabs():
        with gr.Tab("Per dataset"):
            bars = gr.Plot(show_label=False, elem_id="lb-bars")
        with gr.Tab("Heatmap"):
            heat = gr.Plot(show_label=False, elem_id="lb-heatmap")
        with gr.Tab("Bias"):
            bias = gr.Plot(show_label=False, elem_id="lb-bias")
        with gr.Tab("HQ vs all"):
            gr.Markdown(
                "The same judge on the HQ subset (items chosen where judges agreed with people) and on the "
                "full benchmark: the gap is how much HQ inflates agreement."
            )
            inflation = gr.Plot(show_label=False, elem_id="lb-inflation")
            inflation_rows = gr.Dataframe(interactive=False, max_height=260, elem_id="lb-inflation-table")
        with gr.Tab("Calibration", elem_id="lb-calibration-tab"):
            reliability = gr.Plot(show_label=False, elem_id="lb-reliability")
            reliability_caption = gr.Markdown(elem_id="lb-calibration-caption")
        with gr.Tab("Paired comparison", elem_id="lb-paired-tab"):
            with gr.Row(equal_height=True, elem_id="lb-paired-row"):
                run_a = gr.Dropdown([], label="Judge A", elem_id="lb-run-a")
                run_b = gr.Dropdown([], label="Judge B", elem_id="lb-run-b")
            paired = gr.Dataframe(interactive=False, wrap=True, elem_id="lb-paired")
            paired_note = gr.Markdown(elem_id="lb-paired-note")
            wins = gr.Plot(show_label=False, elem_id="lb-wins")
            wins_note = gr.Markdown(elem_id="lb-wins-note")

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
        form = _judge_form(demo)
        open_in_judge = gr.Button(
            "Open this item in the Judge tab",
            size="sm",
            visible=form is not None and benchmark_dir is not None,
            elem_id="lb-sample-open",
        )
        open_message = gr.Markdown(elem_id="lb-sample-open-message")

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

    # The /leaderboard API's inputs: the first six keep the order older callers use.
    filters = [mode, metric, families, provenances, subsets, columns, benchmark, search, min_n, same_items]
    url_controls = [benchmark, mode, subsets, metric, families, provenances, search, min_n, same_items]

    view_of = view_from_inputs  # the filters' values, in `filters` order, as a View

    def view_table(view: View):
        """The long table the view reads, and a note for the caption (same items only, min n)."""
        data = store.get()
        source, applied = table_at_min_n(data, view.min_n, store.n_resamples)
        note = ""
        if view.same_items:
            source, note = same_items_table(data, view, store.n_resamples)
        return source, (None if applied else view.min_n), note

    # -- the table
    def show_table(*values):
        view = view_of(*values)
        source, ui_min_n, note = view_table(view)
        options = view.filters()
        chosen = resolve_metric(source, view.mode, view.metric, **options)
        wide = wide_table(source, view.mode, chosen, columns=list(view.columns), min_n=ui_min_n, **options)
        path = write_csv(wide, view.mode, chosen)
        text = table_caption(source, view.mode, chosen, wide, min_n=view.min_n, **options)
        return style_table(wide), f"{text} {note}".strip(), str(path)

    def show_plots(*values):
        view = view_of(*values)
        source, ui_min_n, _note = view_table(view)
        options = view.filters()
        chosen = resolve_metric(source, view.mode, view.metric, **options)
        from leaderboard.ui.table import apply_min_n

        rows = apply_min_n(filter_rows(source, view.mode, **options), ui_min_n)
        everything = store.get().table  # HQ next to all ignores the subset selector by design
        hq = inflation_table(everything, view.mode, chosen, benchmark=view.benchmark)
        return (
            plots.dataset_bars(rows, chosen),
            plots.heatmap(rows, chosen),
            plots.bias_bars(rows, BIAS_METRICS[view.mode]),
            plots.inflation_bars(hq, chosen),
            hq,
        )

    # -- calibration and paired comparisons of the view's runs (numbers from the engine, via compare.py)
    def show_paired(*values):
        *view_values, a, b = values
        view = view_of(*view_values)
        data = store.get()
        chosen = resolve_metric(data.table, view.mode, view.metric, **view.filters())
        choices = compare.run_labels(data, view)
        a, b = compare.default_pair(choices, a, b)
        result = compare.paired_view(data, view, chosen, a, b, store.n_resamples)
        return (
            gr.Dropdown(choices=choices, value=a),
            gr.Dropdown(choices=choices, value=b),
            result.table,
            result.note_md,
        )

    def show_compare(*values):
        view = view_of(*values[:-2])
        data = store.get()
        chosen = resolve_metric(data.table, view.mode, view.metric, **view.filters())
        calibration = compare.calibration_view(data, view)
        matrix = compare.wins_view(data, view, chosen, store.n_resamples)
        return (
            *show_paired(*values),
            plots.reliability_diagram(calibration.bins),
            calibration.caption_md,
            plots.win_heatmap(matrix.matrix, chosen),
            matrix.note_md,
        )

    def metric_update(view: View, keep: str | None = None):
        table_now = store.get().table
        choices = metric_choices(table_now, view.mode, **view.filters()) or _static_metric_choices(view.mode)
        chosen = resolve_metric(table_now, view.mode, keep, **view.filters())
        return gr.Dropdown(choices=choices, value=chosen, info=metric_tooltip(chosen))

    def on_benchmark(benchmark_value):
        table_now = store.get().table
        modes = mode_choices(table_now, benchmark_value)
        mode_value = DEFAULT_MODE if DEFAULT_MODE in [m for _, m in modes] else modes[0][1]
        subset = default_subset(table_now, benchmark_value, mode_value)
        view = View(benchmark=benchmark_value, mode=mode_value, subsets=(subset,) if subset else ())
        return (
            gr.Radio(choices=modes, value=mode_value),
            gr.Dropdown(choices=subset_choices(table_now, benchmark_value, mode_value), value=list(view.subsets)),
            metric_update(view),
        )

    def on_mode(benchmark_value, mode_value):
        table_now = store.get().table
        subset = default_subset(table_now, benchmark_value, mode_value)
        view = View(benchmark=benchmark_value, mode=mode_value, subsets=(subset,) if subset else ())
        return (
            gr.Dropdown(choices=subset_choices(table_now, benchmark_value, mode_value), value=list(view.subsets)),
            metric_update(view),
        )

    def on_view_filter(*values):
        view = view_of(*values)
        return metric_update(view, view.metric)

    def on_load(request: gr.Request):
        data = store.get()
        params = dict(request.query_params) if request is not None else {}
        view = fit_view(data.table, view_from_query(params, default_view(data.table)))
        opened_on_link = has_view_query(params)
        updates = [
            gr.Dropdown(choices=benchmark_choices(data.table), value=view.benchmark),
            gr.Radio(choices=mode_choices(data.table, view.benchmark), value=view.mode),
            gr.Dropdown(choices=subset_choices(data.table, view.benchmark, view.mode), value=list(view.subsets)),
            metric_update(view, view.metric or None),
            gr.Dropdown(choices=family_choices(data.table), value=list(view.families)),
            gr.Dropdown(value=list(view.provenances)),
            view.search,
            view.min_n,
            view.same_items,
            problems_summary(data),
        ]
        if tabs is not None:
            updates.append(gr.Tabs(selected=LEADERBOARD_TAB) if opened_on_link else gr.update())
        return updates

    # -- the sample view
    def sample_outputs(benchmark_value, mode_value, subset=None, dataset=None, item=None):
        data = store.get()
        state = sample_state(data, mode_value, subset, dataset, item, benchmark=benchmark_value)
        view = sample_view(data, mode_value, state.subset or "", state.item, benchmark_dir, benchmark_value)
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
    private: dict[str, Any] = dict(api_visibility="private")
    table_event: dict[str, Any] = dict(fn=show_table, inputs=filters, outputs=[table, caption, download])
    plot_event: dict[str, Any] = dict(
        fn=show_plots, inputs=filters, outputs=[bars, heat, bias, inflation, inflation_rows], **private
    )
    paired_outputs = [run_a, run_b, paired, paired_note]
    compare_outputs = [*paired_outputs, reliability, reliability_caption, wins, wins_note]
    compare_event: dict[str, Any] = dict(fn=show_compare, inputs=[*filters, run_a, run_b], outputs=compare_outputs)
    url_event: dict[str, Any] = dict(fn=None, inputs=url_controls, outputs=None, js=query_js(URL_CONTROLS), **private)

    def after(event, name: str, *, samples: bool = False):
        """Redraw the table, then the plots, then write the view into the URL (and the samples)."""
        drawn = event.then(**table_event, api_name=f"leaderboard_{name}_table", **private)
        plotted = drawn.then(**plot_event, api_name=f"leaderboard_{name}_plots")
        plotted.then(**url_event, api_name=f"leaderboard_{name}_url")
        plotted.then(**compare_event, api_name=f"leaderboard_{name}_compare", **private)
        if samples:
            plotted.then(
                sample_outputs, [benchmark, mode], sample_targets, api_name=f"leaderboard_{name}_samples", **private
            )

    # Page load: the view (from the URL or the default), then the table, plots and samples.
    load_outputs = [*url_controls, status, *([tabs] if tabs is not None else [])]
    loaded = demo.load(on_load, None, load_outputs, api_name="leaderboard_view_initial", **private)
    after(loaded, "initial", samples=True)

    # The public API: the table of a view, from its inputs alone.
    api = gr.Button(visible=False, elem_id="lb-api")
    api.click(**table_event, api_name="leaderboard")
    # ... and the view's calibration, paired comparison and wins: the view's inputs, then run ids A and B.
    gr.Button(visible=False, elem_id="lb-compare-api").click(**compare_event, api_name="leaderboard_compare")
    for name, picker in (("a", run_a), ("b", run_b)):
        picker.input(
            show_paired, [*filters, run_a, run_b], paired_outputs, api_name=f"leaderboard_paired_{name}", **private
        )

    changed_benchmark = benchmark.input(
        on_benchmark, benchmark, [mode, subsets, metric], api_name="leaderboard_benchmark", **private
    )
    after(changed_benchmark, "benchmark", samples=True)
    changed_mode = mode.input(on_mode, [benchmark, mode], [subsets, metric], api_name="leaderboard_mode", **private)
    after(changed_mode, "mode", samples=True)
    for name, control in (("subsets", subsets), ("families", families), ("provenances", provenances)):
        event = control.input(on_view_filter, filters, metric, api_name=f"leaderboard_{name}", **private)
        after(event, name)
    searched = search.submit(on_view_filter, filters, metric, api_name="leaderboard_search", **private)
    after(searched, "search")
    searched_blur = search.blur(on_view_filter, filters, metric, api_name="leaderboard_search_blur", **private)
    after(searched_blur, "search_blur")
    chosen = metric.input(
        lambda *v: gr.Dropdown(info=metric_tooltip(view_of(*v).metric)),
        filters,
        metric,
        api_name="leaderboard_metric",
        **private,
    )
    after(chosen, "metric")
    noop: dict[str, Any] = dict(fn=lambda: None, inputs=None, outputs=None, queue=False, **private)
    after(min_n.release(**noop, api_name="leaderboard_min_n"), "min_n")
    after(same_items.input(**noop, api_name="leaderboard_same_items"), "same_items")
    columns.input(**table_event, api_name="leaderboard_columns", **private)

    # -- reloading: Refresh, and a stored submission (the store is reloaded, then every view redrawn)
    def do_refresh():
        return refresh_leaderboard(store)

    def do_submit(files):
        return submit_run(files, store, settings).message

    def redraw(event, name):
        families_event = event.then(
            lambda: gr.Dropdown(choices=family_choices(store.get().table)),
            None,
            families,
            api_name=f"leaderboard_{name}_families",
            **private,
        )
        drawn = families_event.then(**table_event, api_name=f"leaderboard_{name}_table", **private)
        plotted = drawn.then(**plot_event, api_name=f"leaderboard_{name}_plots")
        plotted.then(**compare_event, api_name=f"leaderboard_{name}_compare", **private)
        plotted.then(
            sample_outputs,  # keeps the chosen item when it still exists
            [benchmark, mode, sample_subset, sample_dataset, sample_item],
            sample_targets,
            api_name=f"leaderboard_{name}_samples",
            **private,
        )

    # One reload at a time, server-wide: a refresh pulls RUNS_REPO and recomputes the table.
    reload_queue: dict[str, Any] = dict(concurrency_limit=1, concurrency_id="leaderboard-reload")
    redraw(refresh.click(do_refresh, None, status, api_name="refresh", **reload_queue), "refresh")
    redraw(submit.click(do_submit, upload, submit_message, api_name="submit", **reload_queue), "submit")

    sample_subset.input(
        lambda bm, m, s: sample_outputs(bm, m, s),
        [benchmark, mode, sample_subset],
        sample_targets,
        api_name="leaderboard_sample_subset",
        **private,
    )
    sample_dataset.input(
        lambda bm, m, s, d: sample_outputs(bm, m, s, d),
        [benchmark, mode, sample_subset, sample_dataset],
        sample_targets,
        api_name="leaderboard_sample_dataset",
        **private,
    )
    sample_item.input(
        sample_outputs,
        [benchmark, mode, sample_subset, sample_dataset, sample_item],
        sample_targets,
        api_name="leaderboard_sample_item",
        **private,
    )

    # -- from a sample to the Judge tab
    if form is not None:
        responses = form["responses"]

        def open_item(mode_value, subset, item, benchmark_value):
            found = judge_inputs(mode_value, subset, item, benchmark_dir, benchmark_value)
            if found is None:
                keep = [gr.update()] * (4 + len(responses))
                return [*keep, "This item's texts are not in the local benchmark copy.", *_stay()]
            texts = [*found.responses, *[""] * (len(responses) - len(found.responses))][: len(responses)]
            kind = get_task(found.mode)
            # Only a task with a variable number of responses has a count to set.
            count = len(texts) if kind.min_responses == kind.max_responses else len(found.responses)
            return [
                found.image_path,
                found.mode,
                found.instruction,
                gr.update() if kind.min_responses == kind.max_responses else count,
                *texts,
                found.message,
                *_switch(),
            ]

        def _stay() -> list:
            return [gr.update()] if tabs is not None else []

        def _switch() -> list:
            return [gr.Tabs(selected=JUDGE_TAB)] if tabs is not None else []

        open_in_judge.click(
            open_item,
            [mode, sample_subset, sample_item, benchmark],
            [
                form["image"],
                form["mode"],
                form["instruction"],
                form["count"],
                *responses,
                open_message,
                *([tabs] if tabs is not None else []),
            ],
            api_name="leaderboard_open_in_judge",
            **private,
        )


def build_about_tab() -> None:
    """Render the About tab: the benchmarks, metric definitions, adding a judge, citations."""
    from leaderboard.ui.about import about_markdown

    gr.Markdown(about_markdown(), elem_id="about-text")


__all__ = ["JUDGE_TAB", "LEADERBOARD_TAB", "build_about_tab", "build_leaderboard_tab"]
