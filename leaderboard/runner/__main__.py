"""``python -m leaderboard.runner``: the ``run`` command on its own (see :mod:`leaderboard.runner.cli`)."""

from __future__ import annotations

import sys

from leaderboard.runner.cli import main

if __name__ == "__main__":
    sys.exit(main())
