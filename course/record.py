"""The only writer of the course gradebook for a student graded elsewhere (`course.worker`).

The coordinator records each `StudentResult` as it arrives: the autograded files go to
`autograded/<student>/<assignment>/`, notebooks the worker set aside are moved to `originais/` (as the
serial path does), and the gradebook gets the rows `nbgrader autograde` wrote in the worker's private
gradebook, through nbgrader's own API and with the rules of its `SaveAutoGrades` preprocessor (a grade
the instructor scored by hand is flagged for review) and of a missing notebook (0, no review).
Recording again the same result changes nothing: no duplicate rows.
"""
from __future__ import annotations

import shutil

from . import normalize
from .settings import ASSIGNMENT
from .worker import StudentResult
from .workspace import Course


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


def _write_gradebook(course: Course, result: StudentResult) -> None:
    rows = result.gradebook
    with course.gradebook() as gb:
        gb.update_or_create_student(result.student)
        if rows.get("timestamp") is not None:
            gb.update_or_create_submission(ASSIGNMENT, result.student, timestamp=rows["timestamp"])
        else:
            gb.update_or_create_submission(ASSIGNMENT, result.student)
        for name, nb_rows in rows.get("notebooks", {}).items():
            sub = gb.find_submission_notebook(name, ASSIGNMENT, result.student)
            zeroed = name not in result.submitted
            for grade in sub.grades:
                if grade.name not in nb_rows["grades"]:
                    continue
                auto_score, _ = nb_rows["grades"][grade.name]
                grade.auto_score = auto_score
                if zeroed:  # grading._zero / nbgrader's missing notebook
                    grade.needs_manual_grade = False
                else:  # nbgrader's SaveAutoGrades
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            if not zeroed:
                for comment in sub.comments:
                    if comment.name in nb_rows["comments"]:
                        comment.auto_comment = nb_rows["comments"][comment.name]
                sub.late_submission_penalty = nb_rows["late_submission_penalty"]
        gb.db.commit()


def notes_of(course: Course, result: StudentResult, originals) -> list[normalize.Note]:
    """The worker's notes, worded as the serial path words them (the course's originals folder)."""
    here = str(originals)
    return [normalize.Note(n.student, n.file, n.level, n.message.replace(result.scratch_originals, here))
            for n in result.notes]


def record(course: Course, result: StudentResult, originals) -> list[normalize.Note]:
    """Record one student's result in the course; return the grading notes."""
    _move_set_aside(course, result, originals)
    _write_autograded(course, result)
    _write_gradebook(course, result)
    return notes_of(course, result, originals)
