"""A small benchmark in the released data's Hub layout, with a scripted judge for it.

:func:`write_fixture` writes, under a folder::

    Benchmark/score.jsonl   12 items  (human label field: Human_answer)
    Benchmark/pair.jsonl    12 items  (human label field: human; one row spells it human_answer)
    Benchmark/batch.jsonl    9 items  (answers list; one item has 3 answers; human_answer; one line
                                       repeated, as in the released file)
    Hard & HQ/HQ/Score.jsonl 4 items  (a copy of some score items with a stored judge result)
    image/<id>.jpg          one drawn picture per image id

over three source datasets (``coco``, ``Concept Caption``, ``mathvista`` -> COCO, C.C., Math), with
the test's own instructions and responses. Every instruction starts with a tag ``[mode-item_id]`` so
that a fake judge server can tell which item a request is about (:func:`item_of`), and each item
carries the reply the scripted judge gives (``judge_reply``) and the verdict that reply means
(``judge_verdict``; None when the reply holds no valid verdict). The tables below are the whole
truth of the fixture; tests compute their expected numbers from them by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw

DATASETS = ("coco", "Concept Caption", "mathvista")
UNPARSABLE = "I looked at both answers carefully but I would rather not pick one."

#: score: per dataset, (human, judge) for 4 items.
#: COCO judge = human + 1 (Pearson 1); C.C. judge reverses (Pearson -1); Math Pearson 0.8.
SCORE_TABLE = {
    "coco": [(1, 2), (2, 3), (3, 4), (4, 5)],
    "Concept Caption": [(5, 1), (4, 2), (3, 3), (2, 4)],
    "mathvista": [(1, 1), (2, 3), (3, 2), (4, 4)],
}
#: pair: per dataset, (human, judge) for 4 items; judge None = an unparsable reply.
PAIR_TABLE = {
    "coco": [("A", "A"), ("B", "B"), ("A", "B"), ("C", "C")],
    "Concept Caption": [("A", "A"), ("A", "C"), ("B", "B"), ("B", None)],
    "mathvista": [("B", "B"), ("B", "A"), ("A", "A"), ("A", "A")],
}
#: batch: per dataset, (human ranking, judge ranking, number of answers) for 3 items. Judges either
#: agree or swap two neighbours (Levenshtein distance 2): normalised distances COCO [0, 2/4, 0],
#: C.C. [2/4, 0, 2/3], Math [2/4, 0, 0].
BATCH_TABLE = {
    "coco": [("ABCD", "ABCD", 4), ("ABCD", "BACD", 4), ("DCBA", "DCBA", 4)],
    "Concept Caption": [("ABCD", "ABDC", 4), ("BADC", "BADC", 4), ("CAB", "ACB", 3)],
    "mathvista": [("ABCD", "ABDC", 4), ("ACBD", "ACBD", 4), ("BCDA", "BCDA", 4)],
}


@dataclass(frozen=True)
class FixtureItem:
    """One item of the fixture.

    Attributes:
        mode: score, pair or batch.
        item_id: Its id as runs and labels spell it.
        dataset: Source dataset as the data spells it.
        human: The human label as the file stores it.
        judge_reply: What the scripted judge answers.
        judge_verdict: The verdict that reply means in the run's canonical form, or None.
        image_id: The image's id.
    """

    mode: str
    item_id: str
    dataset: str
    human: object
    judge_reply: str
    judge_verdict: object
    image_id: str


@dataclass(frozen=True)
class Fixture:
    """A written fixture: its folder and its items by mode."""

    root: Path
    items: dict[str, tuple[FixtureItem, ...]]

    def item(self, mode: str, item_id: str) -> FixtureItem:
        """Look up one item."""
        return next(i for i in self.items[mode] if i.item_id == item_id)

    def reply_for(self, mode: str, item_id: str) -> str:
        """The scripted judge's reply for an item."""
        return self.item(mode, item_id).judge_reply


def verdict_reply(label: str, analysis: str = "The figure supports this.") -> str:
    """A judge reply in the benchmark's JSON format, verdict written as ``[[label]]``."""
    return json.dumps({"Analysis": analysis, "Judgement": f"[[{label}]]"})


def ranking_reply(ranking: str) -> str:
    """A batch reply ranking the letters best first: ``[[C]], [[A]], [[B]]``."""
    return json.dumps({"Analysis": "Compared all answers.", "Judgement": ", ".join(f"[[{c}]]" for c in ranking)})


_TAG = re.compile(r"\[(score|pair|batch)-([0-9A-Za-z~]+)\]")


def item_of(text: str) -> tuple[str, str] | None:
    """The ``(mode, item_id)`` named by the tag in a request's text, or None."""
    found = _TAG.search(text)
    return (found.group(1), found.group(2)) if found else None


def _draw(path: Path, seed: int) -> None:
    colors = ["navy", "darkred", "seagreen", "goldenrod", "purple", "teal", "sienna", "slategray"]
    image = Image.new("RGB", (64, 48), colors[seed % len(colors)])
    draw = ImageDraw.Draw(image)
    draw.rectangle((4 + seed % 20, 4, 30 + seed % 20, 30), fill="white")
    draw.ellipse((34, 10 + seed % 10, 60, 36 + seed % 10), fill=colors[(seed + 3) % len(colors)])
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="JPEG", quality=80)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_fixture(root: str | Path) -> Fixture:
    """Write the fixture benchmark under ``root`` and return its description."""
    root = Path(root)
    items: dict[str, list[FixtureItem]] = {"score": [], "pair": [], "batch": []}
    rows: dict[str, list[dict]] = {"score": [], "pair": [], "batch": []}
    image_ids: set[str] = set()

    n = 0
    for dataset, pairs in SCORE_TABLE.items():
        for human, judge in pairs:
            item_id, image_id = str(n), str(100 + n)
            instruction = f"[score-{item_id}] Describe what the figure from {dataset} shows."
            rows["score"].append(
                {
                    "score_id": n,
                    "name": "llava",
                    "answer": f"It shows shape number {n} on a coloured background.",
                    "id": 100 + n,
                    "instruction": instruction,
                    "image_path": f"image/{image_id}.jpg",
                    "original_dataset": dataset,
                    "Human_answer": human,
                }
            )
            items["score"].append(
                FixtureItem("score", item_id, dataset, human, verdict_reply(str(judge)), judge, image_id)
            )
            image_ids.add(image_id)
            n += 1

    n = 0
    for dataset, pairs in PAIR_TABLE.items():
        for human, judge in pairs:
            pair_id, image_id = str(200 + n), str(100 + n)
            row = {
                "id": 100 + n,
                "pair_id": 200 + n,
                "image_path": f"image/{image_id}.jpg",
                "original_dataset": dataset,
                "instruction": f"[pair-{pair_id}] Which colour dominates the figure from {dataset}?",
                "answer1": {"name": "gpt4", "answer": f"The background colour dominates (item {n})."},
                "answer2": {"name": "gemini", "answer": f"The white rectangle dominates (item {n})."},
            }
            row["human_answer" if n == 5 else "human"] = human
            rows["pair"].append(row)
            reply = UNPARSABLE if judge is None else verdict_reply(judge)
            verdict = None if judge is None else ("tie" if judge == "C" else judge)
            items["pair"].append(FixtureItem("pair", pair_id, dataset, human, reply, verdict, image_id))
            n += 1

    n = 0
    models = ("llava", "cogvlm", "gpt4", "gemini")
    for dataset, triples in BATCH_TABLE.items():
        for human, judge, count in triples:
            batch_id, image_id = str(300 + n), str(100 + n)
            rows["batch"].append(
                {
                    "id": batch_id,
                    "instruction": f"[batch-{batch_id}] List the shapes in the figure from {dataset}.",
                    "image_path": f"image/{image_id}.jpg",
                    "original_dataset": dataset,
                    "answers": [
                        {"name": models[k], "answer": f"Answer {k} for item {n}: " + "a rectangle. " * (k + 1)}
                        for k in range(count)
                    ],
                    "human_answer": human,
                }
            )
            items["batch"].append(FixtureItem("batch", batch_id, dataset, human, ranking_reply(judge), judge, image_id))
            n += 1

    rows["batch"].insert(2, rows["batch"][1])  # a repeated line, as in the released batch file: read once
    for mode, mode_rows in rows.items():
        _write_jsonl(root / "Benchmark" / f"{mode}.jsonl", mode_rows)
    hq = [
        dict(r, result={"name": "gpt4", "judge": str(r["Human_answer"]), "analysis": "ok"}) for r in rows["score"][::3]
    ]
    _write_jsonl(root / "Hard & HQ" / "HQ" / "Score.jsonl", hq)
    for image_id in sorted(image_ids, key=int):
        _draw(root / "image" / f"{image_id}.jpg", int(image_id))
    return Fixture(root, {mode: tuple(v) for mode, v in items.items()})


def import_labels(fixture: Fixture, out: str | Path) -> pd.DataFrame:
    """The fixture's label table, made by the project's importer (as for the real benchmark)."""
    from leaderboard.benchmarks.mllm_judge.importer import import_mllm_judge
    from leaderboard.store.labels import read_labels

    import_mllm_judge(fixture.root, out)
    return read_labels(Path(out) / "benchmark" / "labels.csv")
