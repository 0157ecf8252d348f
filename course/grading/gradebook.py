"""Every read and write of an nbgrader gradebook, in one module (issue 12).

The coordinator (`make corrigir`) is the only writer of the course gradebook: the names from the LMS, the
assignment, the zeros of what could not be graded, and the rows a worker's `nbgrader autograde` wrote in its
private gradebook (`record_result`, with the rules of nbgrader's `SaveAutoGrades`). A worker reads its own
private gradebook only (`result_rows`, `scores`). `nbgrader autograde` itself writes the gradebook of the
course it runs in — in this design always a worker's private one, or the course's on the serial path.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

from ..settings import ASSIGNMENT
from ..workspace import Course, kernel_environment


@contextmanager
def opened(course: Course):
    """nbgrader's gradebook of this course, opened in this process.

    nbgrader runs `alembic` from PATH when it creates a gradebook (see `kernel_environment()`),
    and nbgrader 0.9.6 trips SQLAlchemy 2's autoflush warnings on updates: they are its own
    business, not the instructor's, so they are silenced here."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    kernel_environment()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(course.db_url) as gb:
            yield gb


# --- reads ---------------------------------------------------------------------------------------

def max_scores(course: Course) -> dict[str, float]:
    """notebook -> its maximum score."""
    with opened(course) as gb:
        return {nb.name: float(nb.max_score) for nb in gb.find_assignment(ASSIGNMENT).notebooks}


def scores(course: Course, student: str) -> dict[str, dict[str, tuple[float, float]]]:
    """notebook -> grade cell id -> (score, max score)."""
    from nbgrader.api import MissingEntry

    out: dict[str, dict[str, tuple[float, float]]] = {}
    with opened(course) as gb:
        try:
            submission = gb.find_submission(ASSIGNMENT, student)
        except MissingEntry:
            return out
        for nb in submission.notebooks:
            out[nb.name] = {g.name: (float(g.score), float(g.max_score)) for g in nb.grades}
    return out


def assignment_notebooks(course: Course) -> set[str]:
    """The notebooks the gradebook knows for the assignment (none in a fresh clone)."""
    from nbgrader.api import MissingEntry

    with opened(course) as gb:
        try:
            return {n.name for n in gb.find_assignment(ASSIGNMENT).notebooks}
        except MissingEntry:
            return set()


def students_with_submission(course: Course) -> set[str]:
    from nbgrader.api import MissingEntry

    with opened(course) as gb:
        try:
            return {s.student.id for s in gb.find_assignment(ASSIGNMENT).submissions}
        except MissingEntry:
            return set()


def result_rows(course: Course, student: str) -> dict:
    """The rows `nbgrader autograde` wrote for a student (a worker's private gradebook), as plain data."""
    from nbgrader.api import MissingEntry

    with opened(course) as gb:
        try:
            sub = gb.find_submission(ASSIGNMENT, student)
        except MissingEntry:
            return {}
        return {"timestamp": sub.timestamp,
                "notebooks": {nb.name: {"late_submission_penalty": nb.late_submission_penalty,
                                        "grades": {g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
                                        "comments": {c.name: c.auto_comment for c in nb.comments}}
                              for nb in sub.notebooks}}


# --- writes --------------------------------------------------------------------------------------

def register_names(course: Course, names: dict[str, str]) -> None:
    """Students' names as the LMS gives them (id -> "First Last")."""
    with opened(course) as gb:
        for student, full in names.items():
            first, _, last = full.strip().partition(" ")
            gb.update_or_create_student(student, first_name=first or None, last_name=last or None)


def zero_notebook(course: Course, student: str, name: str) -> None:
    """Score a notebook 0 (what nbgrader does for a missing notebook)."""
    from nbgrader.api import MissingEntry

    with opened(course) as gb:
        try:
            sub = gb.find_submission_notebook(name, ASSIGNMENT, student)
        except MissingEntry:
            return
        for grade in sub.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
        gb.db.commit()


def record_zero_submission(course: Course, student: str) -> None:
    """A student with nothing gradable still gets a 0 on record, in every notebook."""
    with opened(course) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(ASSIGNMENT, student)
    for name in course.notebook_names():
        zero_notebook(course, student, name)


def record_result(course: Course, student: str, rows: dict, submitted: list[str]) -> None:
    """Write the rows a worker's autograde produced (`result_rows`) into this course's gradebook.

    A notebook not in `submitted` was set aside and scores 0 (no review); the others follow nbgrader's
    `SaveAutoGrades` (a grade the instructor scored by hand is flagged for review). Idempotent."""
    with opened(course) as gb:
        gb.update_or_create_student(student)
        if rows.get("timestamp") is not None:
            gb.update_or_create_submission(ASSIGNMENT, student, timestamp=rows["timestamp"])
        else:
            gb.update_or_create_submission(ASSIGNMENT, student)
        for name, nb_rows in rows.get("notebooks", {}).items():
            sub = gb.find_submission_notebook(name, ASSIGNMENT, student)
            zeroed = name not in submitted
            for grade in sub.grades:
                if grade.name not in nb_rows["grades"]:
                    continue
                auto_score, _ = nb_rows["grades"][grade.name]
                grade.auto_score = auto_score
                if zeroed:  # zero_notebook / nbgrader's missing notebook
                    grade.needs_manual_grade = False
                else:  # nbgrader's SaveAutoGrades
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            if not zeroed:
                for comment in sub.comments:
                    if comment.name in nb_rows["comments"]:
                        comment.auto_comment = nb_rows["comments"][comment.name]
                sub.late_submission_penalty = nb_rows["late_submission_penalty"]
        gb.db.commit()
