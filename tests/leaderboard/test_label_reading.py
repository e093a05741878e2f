"""Reading label tables fast gives exactly what the plain readers give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leaderboard.metrics.bias import lengths_matrix
from leaderboard.store import labels as labels_module
from leaderboard.store.labels import LABEL_COLUMNS, read_labels, rows_where, with_benchmark
from leaderboard.store.sources import default_assets_dir

HEADER = ",".join(LABEL_COLUMNS)


@pytest.fixture(autouse=True)
def arrow_for_every_size(monkeypatch):
    """These files are small: read them the way large ones are, with pyarrow's reader."""
    monkeypatch.setattr(labels_module, "ARROW_CSV_BYTES", 0)


def plain_read(path) -> pd.DataFrame:
    """What :func:`read_labels` did with pandas' C reader alone."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    name = frame["benchmark"].astype(object)
    blank = name.isna() | (name.astype(str).str.strip() == "")
    frame["benchmark"] = name.where(~blank, "mllm-as-a-judge").astype(str)
    frame = frame[list(LABEL_COLUMNS)].copy()
    frame["n_responses"] = pd.to_numeric(frame["n_responses"], errors="coerce").fillna(0).astype(int)
    return frame


AWKWARD_ROWS = [
    "mllm-as-a-judge,score,all,1,coco,3,1,120,img-1,",
    ",pair,all,2,WIT,A,2,10|20,img-2,",  # no benchmark: the default
    '  ,batch,hard,3,"Concept, Caption",ABC,3,5|6|7,img-3,"two\nlines"',  # blank name, quoted comma and newline
    "polaris,score,all,4,NA,null,1,,img-4,NaN",  # words other readers take for missing values
    'mj-bench,image-pair,all,"he said ""5""",x,A,2,1|2,,',
    "",  # a blank line
    "mllm-as-a-judge,score,all,é,ünïcode,5,one,99,img-6,",  # a response count that is no number
]


def engines_used(monkeypatch) -> list[str]:
    """The engine of every ``pd.read_csv`` call from now on."""
    used: list[str] = []
    real = pd.read_csv

    def spy(*args, **kwargs):
        used.append(kwargs.get("engine", "c"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    return used


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_awkward_csv_reads_as_the_c_reader_reads_it(tmp_path, bom, monkeypatch):
    path = tmp_path / "labels.csv"
    path.write_text(bom + HEADER + "\n" + "\n".join(AWKWARD_ROWS) + "\n", encoding="utf-8")
    used = engines_used(monkeypatch)
    got = read_labels(path)
    assert used == ["pyarrow"]  # read by pyarrow, not by the fallback
    monkeypatch.undo()
    pd.testing.assert_frame_equal(got, plain_read(path), check_exact=True)
    assert list(got["benchmark"]) == [
        "mllm-as-a-judge",
        "mllm-as-a-judge",
        "mllm-as-a-judge",
        "polaris",
        "mj-bench",
        "mllm-as-a-judge",
    ]
    assert got.loc[2, "label_issue"] == "two\nlines" and got.loc[3, "dataset"] == "NA"


def test_a_ragged_row_is_read_by_the_c_reader(tmp_path, monkeypatch):
    path = tmp_path / "labels.csv"
    path.write_text(HEADER + "\nmllm-as-a-judge,score,all,1,coco,3,1\n", encoding="utf-8")  # three fields short
    used = engines_used(monkeypatch)
    got = read_labels(path)
    assert used == ["pyarrow", "c"]
    monkeypatch.undo()
    pd.testing.assert_frame_equal(got, plain_read(path), check_exact=True)
    assert got.loc[0, "item_id"] == "1"


def test_the_embedded_labels_read_the_same():
    path = default_assets_dir() / "benchmark" / "labels.csv"
    got = read_labels(path)
    assert len(got) > 1000
    pd.testing.assert_frame_equal(got, plain_read(path), check_exact=True)


def test_a_normalised_table_comes_back_equal_and_independent():
    table = read_labels(default_assets_dir() / "benchmark" / "labels.csv")
    again = with_benchmark(table)
    pd.testing.assert_frame_equal(again, table, check_exact=True)
    again.loc[0, "item_id"] = "changed"
    assert table.loc[0, "item_id"] != "changed"  # the caller's table is not touched


def test_lengths_parse_as_one_float_per_value():
    texts = ["120|88|301", "", "5", "1|2|3|4|5|6|7|8|9|10", "0.5|1e3", " 7 |8"]
    got = lengths_matrix(texts)
    expected = np.full((len(texts), 8), np.nan)
    for i, text in enumerate(texts):
        values = [float(x) for x in text.split("|")][:8] if text else []
        expected[i, : len(values)] = values
    np.testing.assert_array_equal(got, expected)
    assert got[3, 7] == 8.0 and np.isnan(got[1]).all()
    with pytest.raises(ValueError):
        lengths_matrix(["1||2"])


def test_rows_where_is_the_masked_frame_whether_or_not_the_rows_are_contiguous():
    frame = pd.DataFrame({"mode": ["score", "score", "pair", "pair", "score"], "item_id": list("abcde")})
    for mode in ("pair", "score", "batch"):  # a run of rows, rows apart, no rows
        mask = frame["mode"] == mode
        pd.testing.assert_frame_equal(rows_where(frame, mask), frame[mask], check_exact=True)
    assert rows_where(frame, frame["mode"] == "pair").index.tolist() == [2, 3]
