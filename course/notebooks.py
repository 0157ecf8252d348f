"""Reading nbgrader notebooks: cell roles, solutions, and student versions filled in."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_locked, is_solution  # noqa: F401 — cell roles, as nbgrader reads them

SOLUTION_BLOCK = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)


def read(path: Path | str) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write(nb: nbformat.NotebookNode, path: Path | str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def writes_bytes(nb) -> bytes:
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_autograded_test(cell) -> bool:
    """A graded code cell whose score comes from running it (not a solution cell)."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def cells_by_grade_id(nb) -> dict[str, nbformat.NotebookNode]:
    return {grade_id(c): c for c in nb.cells if grade_id(c)}


def strip_solution_markers(source: str) -> str:
    """The solution code as a student would write it (without nbgrader's markers)."""
    return SOLUTION_BLOCK.sub("", source)


def solution_sources(source_nb) -> dict[str, str]:
    """grade_id -> solution code, from a source (instructor) notebook."""
    return {grade_id(c): strip_solution_markers(c.source)
            for c in source_nb.cells if is_solution(c) and grade_id(c)}


def fill_answers(student_nb, answers: dict[str, str]):
    """A copy of a student notebook whose solution cells hold the given code."""
    nb = nbformat.from_dict(student_nb)
    for cell in nb.cells:
        gid = grade_id(cell)
        if is_solution(cell) and gid in answers:
            cell.source = answers[gid]
    return nb


def exercise_of(test_grade_id: str, solution_ids: list[str]) -> str | None:
    """The exercise (solution cell) a test cell belongs to: its grade id starts with it."""
    owners = [s for s in solution_ids if test_grade_id.startswith(s + "_")]
    return max(owners, key=len) if owners else None
