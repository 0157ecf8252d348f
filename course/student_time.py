"""How long a first-time student takes through a lesson: a simple, documented model.

The module page gives each lesson a duration (`course.settings.NOTEBOOKS`); that is the student's
real time, so the lesson's **core path** — every cell outside a section whose heading ends with
`(opcional)` — must fit in it. The model (issue 13), per cell of the source notebook:

- markdown: its words at `WORDS_PER_MINUTE` (code blocks and formulas count as words too; HTML
  tags, URLs and image attachments do not);
- an ordinary code cell the student runs and reads (a demo): `DEMO_MINUTES`;
- an exercise (answer cell): `EXERCISE_MINUTES` plus `MINUTES_PER_LINE` for each line the student
  writes (the non-blank, non-comment lines between `### BEGIN SOLUTION` and `### END SOLUTION`);
  running its visible check and test cells is part of that (they count nothing of their own).

An optional section starts at a markdown heading ending with `(opcional)` and runs until the next
heading of the same or a higher level.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import notebooks as nbt

WORDS_PER_MINUTE = 130
DEMO_MINUTES = 0.4
EXERCISE_MINUTES = 3.0
MINUTES_PER_LINE = 0.8

OPTIONAL = re.compile(r"\(opcional\)\s*$", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$", re.M)
_NOT_WORDS = re.compile(r"<[^>]+>|https?://\S+|!\[[^\]]*\]\([^)]*\)|^#+\s", re.M)
_SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


@dataclass
class Estimate:
    core: float = 0.0       # minutes on the core path
    optional: float = 0.0   # minutes in the optional sections
    optional_sections: tuple[str, ...] = ()


def words(markdown: str) -> int:
    return len(_NOT_WORDS.sub(" ", markdown).split())


def written_lines(answer_source: str) -> int:
    """Lines the student writes in an answer cell (inside the solution blocks)."""
    body = "\n".join(_SOLUTION.findall(answer_source))
    return sum(1 for line in body.splitlines() if line.strip() and not line.strip().startswith("#"))


def cell_minutes(cell) -> float:
    if cell.cell_type == "markdown":
        return words(cell.source) / WORDS_PER_MINUTE
    if cell.cell_type != "code":
        return 0.0
    if nbt.is_solution(cell):
        return EXERCISE_MINUTES + MINUTES_PER_LINE * written_lines(cell.source)
    return 0.0 if nbt.grade_id(cell) else DEMO_MINUTES


def estimate(nb) -> Estimate:
    """Minutes on the core path and in the optional sections of a source notebook."""
    result = Estimate()
    sections: list[str] = []
    optional_level = None  # heading level of the optional section we are in, if any
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for hashes, title in _HEADING.findall(cell.source)[:1]:
                level = len(hashes)
                if optional_level is not None and level <= optional_level:
                    optional_level = None
                if optional_level is None and OPTIONAL.search(title):
                    optional_level = level
                    sections.append(title)
        minutes = cell_minutes(cell)
        if optional_level is None:
            result.core += minutes
        else:
            result.optional += minutes
    result.optional_sections = tuple(sections)
    return result
