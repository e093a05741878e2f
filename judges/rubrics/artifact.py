"""The source code of an artifact, as the judge sees it: read from a file, cut with a notice when long.

ArtifactsBench cuts long answers before judging; here the cut is never silent: the prompt says where
the code was cut and how much was left out, and the result's details say so too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from judges.errors import BadInput
from judges.types import text_problem

#: Most characters of code shown to the judge (about 20k tokens).
MAX_CODE_CHARS = 80_000
#: Largest code file read at all.
MAX_CODE_FILE_BYTES = 5_000_000


@dataclass(frozen=True)
class CodeText:
    """An artifact's code as shown to the judge.

    Attributes:
        name: The file's name (no folder).
        text: What the judge sees (cut to ``shown`` characters).
        chars: The code's full length in characters.
        shown: How many characters the judge sees.
    """

    name: str
    text: str
    chars: int
    shown: int

    @property
    def truncated(self) -> bool:
        """Whether the judge sees only the start of the code."""
        return self.shown < self.chars

    @property
    def notice(self) -> str:
        """The truncation notice ('' when the code is whole)."""
        if not self.truncated:
            return ""
        return (
            f"[The code was cut here: the judge sees the first {self.shown:,} of {self.chars:,} characters; "
            f"{self.chars - self.shown:,} were left out.]"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready facts for the result's details."""
        return {
            "name": self.name,
            "chars": self.chars,
            "shown": self.shown,
            "truncated": self.truncated,
            "notice": self.notice,
        }


def code_from_text(text: str, name: str = "code", limit: int = MAX_CODE_CHARS) -> CodeText:
    """Code given as text, cut to ``limit`` characters (at a line end when one is near)."""
    if len(text) <= limit:
        return CodeText(name, text, len(text), len(text))
    cut = text.rfind("\n", 0, limit)
    shown = cut + 1 if cut > limit * 0.9 else limit
    return CodeText(name, text[:shown], len(text), shown)


def load_code(path: str | Path, limit: int = MAX_CODE_CHARS) -> CodeText:
    """Read an artifact's code from ``path``.

    Raises:
        BadInput: The file is missing, too large, empty or not UTF-8 text.
    """
    file = Path(path)
    if not file.is_file():
        raise BadInput(f"The code file {file.name!r} does not exist.")
    size = file.stat().st_size
    if size > MAX_CODE_FILE_BYTES:
        raise BadInput(f"The code file {file.name} is {size:,} bytes; at most {MAX_CODE_FILE_BYTES:,} are read.")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"The code file {file.name} is not UTF-8 text; save it as UTF-8.") from None
    except OSError as exc:
        raise BadInput(f"The code file {file.name} cannot be read ({exc.strerror or exc}).") from None
    if not text.strip():
        raise BadInput(f"The code file {file.name} is empty.")
    problem = text_problem(f"The code file {file.name}", text)
    if problem:
        raise BadInput(problem + ".")
    return code_from_text(text, file.name, limit)
