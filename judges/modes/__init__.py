"""The mode registry: the UI, the CLI and the runner list modes from here, never by name."""

from __future__ import annotations

from judges.errors import ConfigError
from judges.modes.base import JudgeMode
from judges.modes.batch import BatchMode
from judges.modes.pair import PairMode
from judges.modes.score import ScoreMode

MODES: dict[str, JudgeMode] = {m.name: m for m in (ScoreMode(), PairMode(), BatchMode())}


def get_mode(name: str) -> JudgeMode:
    """Look up a mode by name.

    Raises:
        ConfigError: The name is unknown; the message lists the valid ones.
    """
    try:
        return MODES[name]
    except KeyError:
        raise ConfigError(f"Unknown mode {name!r}. Choose one of: {', '.join(MODES)}.") from None


def mode_names() -> list[str]:
    """Registered mode names, in display order."""
    return list(MODES)


__all__ = ["MODES", "JudgeMode", "get_mode", "mode_names"]
