"""Prose for the About tab: the benchmark, how each number is computed, caveats and citation.

Metric definitions are generated from :data:`leaderboard.metrics.registry.METRICS`, so the page always lists
exactly the metrics the table can contain. Nothing is computed at import time.
"""

from __future__ import annotations

from leaderboard.metrics.registry import METRICS, tasks_of_kind
from leaderboard.schema import (
    AVERAGE,
    POOLED,
    PROVENANCE_IMPORTED,
    PROVENANCE_PAPER,
    PROVENANCE_PUBLISHED,
    PROVENANCE_RUN,
)

CITATION = """@inproceedings{chen2024mllmasajudge,
  title     = {MLLM-as-a-Judge: Assessing Multimodal LLM-as-a-Judge with Vision-Language Benchmark},
  author    = {Chen, Dongping and Chen, Ruoxi and Zhang, Shilin and Wang, Yaochen and Liu, Yinuo and
               Zhou, Huichi and Zhang, Qihui and Wan, Yao and Zhou, Pan and Sun, Lichao},
  booktitle = {Proceedings of the 41st International Conference on Machine Learning (ICML)},
  year      = {2024},
  eprint    = {2402.04788},
  archivePrefix = {arXiv}
}"""

BENCHMARK = """\
## The benchmark

**MLLM-as-a-Judge** (Chen et al., ICML 2024, [arXiv 2402.04788](https://arxiv.org/abs/2402.04788)) asks
a multimodal model to judge other models' answers about an image, and compares its verdicts with human
annotators'. The data is released under MIT on the Hugging Face Hub as `shuaishuaicdp/MLLM-Judge`.

| mode | the judge sees | its verdict | the human label |
|---|---|---|---|
| score | image, instruction, one response | an integer 1-5 | an integer 1-5 |
| pair | image, instruction, responses A and B | A, B, or C = tie | A, B or C |
| batch | image, instruction, N responses lettered A, B, C, ... | a full ranking, best first | a ranking such as "CDAB" |

Items come from 14 source datasets in the final paper (COCO, C.C., Diff., Graphics, Math, Text, WIT,
Chart, VisIT, CC-3M, M2W, SciQA, Aes, MM-Vet); the released files also contain LLaVA-Bench items,
shown under that name.
"""

HEADLINE = f"""\
## How the numbers are computed

- **Score**: Pearson correlation between judge and human scores, computed per source dataset; the
  headline "{AVERAGE}" is the unweighted mean of the per-dataset values (datasets with no usable output
  are skipped and named in the row's reason; the table shows "-" for them). Also shown: pooled Pearson,
  Spearman and Kendall (dataset "{POOLED}": all items of a run at once), exact and within-1 agreement.
- **Pair**: accuracy per source dataset, "w. tie" over all items (labels A/B/C) and "w.o. tie" over
  items without ties. The authors' released metric code drops an item when the human OR the judge says
  tie; another published re-implementation drops only human ties. Both are offered and named:
  `accuracy_without_tie` is the authors' rule (the default), `accuracy_without_tie_human_only` the
  other. Also macro-F1 over A/B/C.
- **Batch**: normalized Levenshtein distance between the judge's ranking string and the human's (edit
  distance / length of the longer string), mean per dataset, then the unweighted mean over datasets.
  Lower is better. (The authors' notebook forgot to normalize; the paper's 0.07-0.61 values are
  normalized.)
- **Unscored**: items whose judge output could not be parsed into a valid verdict are "unscored".
  **Coverage** (parsed / total) is reported beside every metric; unscored items never count as
  agreement or as a fixed label. For agreement metrics the total counts the run's items that have a
  usable human label; for label-free columns, all of the run's judgments.
- **Confidence intervals**: 95% percentile bootstrap over items with 1,000 resamples, seeded per run.
  Every metric depends on the items only through a small contingency table, so a resample of n items
  is drawn as a multinomial table with the observed proportions (the same distribution as resampling
  the items). {AVERAGE} rows resample within each dataset and average; resamples where a correlation
  is undefined are left out of the percentiles. A share of items (agreement, accuracy, a rate) of
  exactly 0 or 1 repeats in every resample, so it gets the Wilson score interval instead (10 of 10:
  [0.72, 1]); another metric whose every resample is equal keeps that one-point interval and says
  so in its reason.
"""

CAVEATS = f"""\
## Provenance and caveats

- **{PROVENANCE_IMPORTED}**: verdicts stored in the authors' release, re-parsed with this project's
  parser (`judges.parsing`). Unparsable raw verdicts (for example a score field holding every digit
  found in the output, such as "2141342145") are unscored, not repaired.
- **{PROVENANCE_PUBLISHED}**: per-item verdicts another project ran with its own prompt and
  published (the full-benchmark and Polaris runs of VLM-Judge-Uncertainty, Kumar et al., 2026);
  each run's manifest names who ran the judges and with which prompt.
- **{PROVENANCE_RUN}**: judgments made with this project's judges and prompts.
- **{PROVENANCE_PAPER}**: the numbers printed in the paper's main table, shown as separate reference
  rows and never mixed into computed rows.
- **HQ subset** (`subset = hq`): items were selected *because* judges agreed with human annotators, so
  agreement on them is inflated and not comparable with the full benchmark. Rows are labelled as such.
- **Hard subset** (`subset = hard`): items where judges struggle; the released Hard files carry almost
  no human labels, so few agreement numbers can be computed from them alone.
- A human label that cannot be used (for example a ranking that names a response the item does not
  have) is left out of the metrics and counted in the import summary.
"""


def benchmark_table() -> str:
    """A markdown table of every registered benchmark: title, tasks, subsets, source datasets, release."""
    from leaderboard.benchmarks import BENCHMARKS

    lines = ["| benchmark | tasks | subsets | source datasets | release |", "|---|---|---|---|---|"]
    for b in BENCHMARKS.values():
        datasets = ", ".join(b.dataset_order) or "-"
        lines.append(
            f"| **{b.title}** (`{b.name}`) | {', '.join(b.modes)} | {', '.join(b.subsets)} | {datasets} | "
            f"`{b.repo_id}` |"
        )
    return "\n".join(lines)


def metric_table() -> str:
    """A markdown table of every metric: readable name and name, task, direction, definition."""
    from leaderboard.ui.table import metric_title

    direction = {True: "higher", False: "lower", None: "descriptive"}
    lines = ["| metric | task | better | definition |", "|---|---|---|---|"]
    lines += [
        f"| {metric_title(m.name)} (`{m.name}`) | {', '.join(tasks_of_kind(m.kind))} | "
        f"{direction[m.higher_is_better]} | {m.definition} |"
        for m in METRICS
    ]
    return "\n".join(lines)


CONTRIBUTING = """## Add a judge

A judge is one entry in `judges/backends/catalog.py`: a `JudgeSpec` naming the backend (`openai` for
any OpenAI-compatible server, `hf` for a local transformers model), the model id, the secret holding
its key (`api_key_env`) and what the model accepts (`Capabilities`: vision, token log-probabilities,
temperature, system prompt). The Judge tab, `python -m judges` and the runner pick it up from there.
Any OpenAI-compatible endpoint can also be judged without code: choose "Custom OpenAI-compatible
endpoint" in the Judge tab, or pass `--model` and `--base-url` on the command line.

## Run the benchmark and submit the run

1. Download the benchmark once: `huggingface_hub.snapshot_download("shuaishuaicdp/MLLM-Judge",
   repo_type="dataset", local_dir="MLLM-Judge")`.
2. Judge it: `python -m leaderboard run --model MODEL --base-url URL --mode pair --benchmark MLLM-Judge
   --split all --out runs/my-judge-pair` (or `--judge NAME` from the catalog, or `--backend hf --model ID`).
   The run is resumable: start the same command again after a crash and only what is missing is judged.
3. Check it: `python -m leaderboard table --runs runs/ --mode pair`.
4. Submit it: in the Leaderboard tab, open **Submit a run** and upload `manifest.json` and
   `judgments.jsonl` (or a zip of both). It is validated against the benchmark's items and shown at once
   as an *unverified submission*; maintainers can push it to the runs repository with `--push`.
"""


def about_markdown() -> str:
    """The whole About tab as markdown."""
    return "\n\n".join(
        [
            BENCHMARK,
            "## Every benchmark\n\n" + benchmark_table(),
            HEADLINE,
            "## Every metric\n\n" + metric_table(),
            CAVEATS,
            CONTRIBUTING,
            "## Citation\n\nIf you use these numbers, cite the benchmark:\n\n```bibtex\n" + CITATION + "\n```",
        ]
    )
