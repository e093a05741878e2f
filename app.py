"""The Hugging Face Space: multimodal LLMs as judges, and how well they agree with people.

Composition only: ``Settings.from_env() -> build_demo(settings) -> demo.launch(...)``. Importing this
module loads no model and builds no table; the leaderboard is computed on first use (or in the
background once ``python app.py`` starts serving).

Run locally with ``python app.py`` (http://127.0.0.1:7860; ``GRADIO_SERVER_NAME`` and
``GRADIO_SERVER_PORT`` override the address).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr

from judges.settings import Settings

ROOT = Path(__file__).resolve().parent
ASSETS = ROOT / "assets"
EXAMPLES = ASSETS / "examples"
CSS_FILE = ASSETS / "app.css"
MAX_UPLOAD = "25mb"
#: Loggers that write one INFO line per HTTP request. Silenced because the lines are noise and,
#: worse, quote the URL: a base URL with ``user:password@`` would put a password in the log. The
#: openai and huggingface_hub clients log through ``httpx2``, not ``httpx``.
QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2")

HEADER = """
# MLLM-as-a-Judge Workbench
Use a multimodal LLM to **score** one answer about an image (1-5), pick the better of a **pair**, or
rank a **batch** of answers, and see how often such judges agree with people on
[MLLM-as-a-Judge](https://arxiv.org/abs/2402.04788) (ICML 2024), Polaris and MJ-Bench.
"""


def build_demo(settings: Settings | None = None, *, store: Any = None) -> gr.Blocks:
    """Build the Blocks (Judge, Leaderboard and About tabs) without launching or computing anything.

    Args:
        settings: Environment settings (default: ``Settings.from_env()``).
        store: A :class:`leaderboard.board.LazyLeaderboard`; default: one reading the runs ``settings``
            names (embedded, ``RUNS_DIR``, ``RUNS_REPO``).

    Returns:
        The unlaunched demo.
    """
    # Imported here so that `import app` stays cheap and side-effect free.
    from judges.ui.tab import build_judge_tab
    from leaderboard.board import LazyLeaderboard
    from leaderboard.ui import build_about_tab, build_leaderboard_tab

    settings = settings or Settings.from_env()
    store = store or LazyLeaderboard(settings)
    # delete_cache: uploads and CSV copies older than a day are removed hourly (a public Space).
    with gr.Blocks(title="MLLM-as-a-Judge Workbench", delete_cache=(3600, 86400)) as demo:
        gr.Markdown(HEADER, elem_id="header")
        with gr.Tabs() as tabs:
            with gr.Tab("Judge", id="judge"):
                build_judge_tab(settings, EXAMPLES)
            with gr.Tab("Leaderboard", id="leaderboard"):
                # tabs: a leaderboard link opens on this tab; a sample can be opened in the Judge tab.
                build_leaderboard_tab(demo, store, settings.benchmark_dir, settings, tabs=tabs)
            with gr.Tab("About", id="about"):
                build_about_tab()
    return demo


def launch_options(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``demo.launch``: theme and CSS (Gradio 6 takes them here), files, footer."""
    allowed = [str(EXAMPLES)]
    if settings is not None and settings.benchmark_dir is not None:
        allowed.append(str(settings.benchmark_dir))  # images of the sample view
    return {
        "theme": gr.themes.Soft(primary_hue="blue", neutral_hue="slate"),
        "css": CSS_FILE.read_text(encoding="utf-8") if CSS_FILE.is_file() else None,
        "allowed_paths": allowed,
        "footer_links": ["api", "gradio"],
        "show_error": True,
        # The largest image judges.images accepts; larger uploads are refused before they are stored.
        "max_file_size": MAX_UPLOAD,
    }


def configure_logging() -> None:
    """INFO logs for the Space's own modules; HTTP clients only from WARNING up (see :data:`QUIET_LOGGERS`)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def main() -> None:
    """Serve the Space (blocks until stopped)."""
    # ZeroGPU finds @spaces.GPU functions only in modules imported before launch; this one imports
    # no torch at module level, so it costs little (and nothing at `import app`, which tests check).
    import judges.backends.hf.device  # noqa: F401
    from leaderboard.board import LazyLeaderboard

    configure_logging()
    settings = Settings.from_env()
    store = LazyLeaderboard(settings)
    demo = build_demo(settings, store=store)
    store.prefetch()  # pulls RUNS_REPO; the table is ready by the time the first visitor opens the tab
    demo.queue(default_concurrency_limit=8).launch(**launch_options(settings))


if __name__ == "__main__":
    main()
