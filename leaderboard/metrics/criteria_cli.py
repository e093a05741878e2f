"""``python -m leaderboard.metrics.criteria_cli RUN_DIR ... --labels CSV``: per-criterion agreement as CSV.

See :mod:`leaderboard.metrics.criteria` for the label table and the metrics.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence

from leaderboard.metrics.criteria import COLUMNS, MIN_N, criteria_rows, read_labels, read_rubric_run


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m leaderboard.metrics.criteria RUN_DIR ... --labels CSV``: print the table as CSV."""
    parser = argparse.ArgumentParser(
        prog="python -m leaderboard.metrics.criteria",
        description="Per-criterion agreement of rubric runs with human labels.",
    )
    parser.add_argument("runs", nargs="+", help="rubric run folders (manifest.json + judgments.jsonl)")
    parser.add_argument("--labels", required=True, help="CSV with item_id, criterion, human_label")
    parser.add_argument("--min-n", type=int, default=MIN_N)
    args = parser.parse_args(argv)
    try:
        runs = [read_rubric_run(folder) for folder in args.runs]
        labels = read_labels(args.labels)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for run in runs:
        for problem in run.problems:
            print(f"warning: {run.run_id}/{problem}", file=sys.stderr)
    writer = csv.DictWriter(sys.stdout, fieldnames=list(COLUMNS))
    writer.writeheader()
    for row in criteria_rows(runs, labels, min_n=args.min_n):
        writer.writerow(
            {
                **row,
                "value": "" if math.isnan(row["value"]) else f"{row['value']:.4f}",
                "coverage": f"{row['coverage']:.4f}",
            }
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
