"""The rubric presets, in this project's own words.

* ``judge-anything``: six criteria scored 1-5 with an anchor per level, and an overall 1-5 the judge
  gives directly (not an average), after the rubric setting of Judge Anything (Pu et al., 2025).
* ``artifacts``: ten dimensions of an interactive artifact scored 0-10, five visual and five about
  the code, whose sum is the overall 0-100, after ArtifactsBench (Tencent Hunyuan, 2025).
"""

from __future__ import annotations

from judges.rubrics.model import Criterion, Rubric


def _anchored(name: str, description: str, *levels: str) -> Criterion:
    return Criterion(name, description, 1, 5, tuple(enumerate(levels, start=1)))


JUDGE_ANYTHING = Rubric(
    "judge-anything",
    (
        _anchored(
            "relevance",
            "Does the response address what was asked, in the modality and form that was asked for?",
            "Off topic, or answers a different question or in the wrong modality.",
            "Touches the request but misses its main point.",
            "Addresses the request in part; some of it is beside the point.",
            "Addresses the request; small parts drift or are left out.",
            "Addresses exactly what was asked, in the form asked for.",
        ),
        _anchored(
            "trustworthiness",
            "Is what the response states true to the input (images, text) and to the world, without invented details?",
            "Mostly wrong or invented; contradicts the input.",
            "Several clear errors or claims not backed by the input.",
            "Mostly right, with an error or an unsupported claim that matters.",
            "Right on the whole; a minor slip or a hedge that is missing.",
            "Everything stated is right and grounded in the input.",
        ),
        _anchored(
            "creativity",
            "Does the response bring insight, originality or a well-chosen angle where the task allows it?",
            "Generic or copied; nothing of its own.",
            "Little of its own; predictable throughout.",
            "Some original touches, not carried through.",
            "A fresh angle or insight that helps the answer.",
            "Original and apt in a way that clearly lifts the answer.",
        ),
        _anchored(
            "clarity",
            "Is the response easy to read and understand: plain wording, a sensible layout, no ambiguity?",
            "Hard to follow or to make sense of.",
            "Often unclear; the reader must guess.",
            "Understandable with some effort.",
            "Clear, with a few awkward passages.",
            "Clear and easy to follow from start to end.",
        ),
        _anchored(
            "coherence",
            "Do the parts of the response fit together logically, without contradictions or jumps?",
            "Parts contradict each other or do not connect.",
            "Frequent jumps or inconsistencies.",
            "Holds together loosely; some gaps in the reasoning.",
            "Logical and consistent, with a small gap.",
            "Every part follows from and fits with the rest.",
        ),
        _anchored(
            "completeness",
            "Does the response cover everything the request needs, at the depth it needs?",
            "Leaves out most of what was needed.",
            "Covers a small part; major pieces are missing.",
            "Covers the main part; notable pieces are missing.",
            "Covers nearly everything; a minor piece is missing.",
            "Covers everything the request needs, in enough depth.",
        ),
    ),
    overall="judge",
    overall_low=1,
    overall_high=5,
    guidance=(
        "Judge the response as a whole for the overall score, weighing the criteria as this task needs; "
        "it is not their average."
    ),
)


def _dimension(name: str, description: str) -> Criterion:
    return Criterion(name, description, 0, 10)


ARTIFACTS = Rubric(
    "artifacts",
    (
        _dimension(
            "layout",
            "Visual: arrangement, alignment, spacing and hierarchy of what is on screen; nothing overlaps or is cut off.",
        ),
        _dimension(
            "visual fidelity",
            "Visual: how well the rendered result matches what was asked (content, style, colours, proportions) and how polished it looks.",
        ),
        _dimension(
            "motion",
            "Visual: animations and transitions across the screenshots: present where asked, smooth, purposeful; static where motion was asked scores low.",
        ),
        _dimension(
            "feedback",
            "Visual: how the artifact shows state and reacts to the user (hover, focus, pressed, progress, errors), as far as the screenshots and code show.",
        ),
        _dimension(
            "ux clarity",
            "Visual: whether a user would know at once what to do and what they see; labels, affordances and readable text.",
        ),
        _dimension(
            "logic", "Code: the behaviour the task asks for is implemented correctly; the code does what it claims."
        ),
        _dimension(
            "robustness", "Code: edge cases, bad input, resizing and missing resources are handled without breaking."
        ),
        _dimension("engineering", "Code: structure, naming, separation of concerns and readability of the source."),
        _dimension(
            "performance", "Code: no needless work per frame or event, no leaks, sensible use of timers and the DOM."
        ),
        _dimension("redundancy", "Code: no dead, duplicated or unused code; 10 means lean, 0 means mostly redundant."),
    ),
    overall="sum",
    overall_low=0,
    overall_high=100,
    guidance=(
        "Be a strict reviewer with a high bar: full marks are for work you cannot fault. Judge the visual "
        "dimensions from the screenshots (in order, about one second apart) and the code dimensions from "
        "the source."
    ),
)

#: Preset name -> rubric.
PRESETS: dict[str, Rubric] = {r.name: r for r in (JUDGE_ANYTHING, ARTIFACTS)}
