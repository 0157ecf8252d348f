"""Records a student graded elsewhere (`worker`) in the course: files here, rows through `gradebook`.

The coordinator records each `StudentResult` as it arrives: the autograded files go to
`autograded/<student>/<assignment>/`, notebooks the worker set aside are moved to `originais/` (as the
serial path does), and the gradebook gets the rows `nbgrader autograde` wrote in the worker's private
gradebook, through nbgrader's own API and with the rules of its `SaveAutoGrades` preprocessor (a grade
the instructor scored by hand is flagged for review) and of a missing notebook (0, no review).
Recording again the same result changes nothing: no duplicate rows.
"""
from __future__ import annotations

import shutil

from .. import normalize
from ..settings import ASSIGNMENT
from ..workspace import Course
from . import gradebook
from .worker import StudentResult


def _move_set_aside(course: Course, result: StudentResult, originals) -> None:
    folder = course.submission_dir(result.student)
    for name in result.set_aside:
        src = folder / f"{name}.ipynb"
        if src.exists():
            dest = originals / result.student / ASSIGNMENT / f"{name}.ipynb"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), dest)


def _write_autograded(course: Course, result: StudentResult) -> None:
    if result.autograded is None:  # autograde never ran (nothing gradable): as in the serial path
        return
    out = course.autograded_dir(result.student)
    shutil.rmtree(out, ignore_errors=True)  # what `nbgrader autograde --force` does
    for rel, data in result.autograded.items():
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


def notes_of(course: Course, result: StudentResult, originals) -> list[normalize.Note]:
    """The worker's notes, worded as the serial path words them (the course's originals folder)."""
    here = str(originals)
    return [normalize.Note(n.student, n.file, n.level, n.message.replace(result.scratch_originals, here))
            for n in result.notes]


def record(course: Course, result: StudentResult, originals) -> list[normalize.Note]:
    """Record one student's result in the course; return the grading notes."""
    _move_set_aside(course, result, originals)
    _write_autograded(course, result)
    gradebook.record_result(course, result.student, result.gradebook, result.submitted)
    return notes_of(course, result, originals)
