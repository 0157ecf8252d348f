"""Feedback: each graded student's HTML feedback (`nbgrader generate_feedback`, with the course's
`HideHiddenTests` preprocessor). One notebook that cannot be rendered must not cost everyone's feedback:
when the class run fails, each student is tried alone and a failure is a note for that student."""
from __future__ import annotations

from .. import normalize
from ..settings import ASSIGNMENT
from ..workspace import Course


def generate_feedback(course: Course, students: list[str]) -> list[normalize.Note]:
    graded = [s for s in students if course.autograded_dir(s).is_dir()]
    if not graded:
        return []
    proc = course.nbgrader("generate_feedback", ASSIGNMENT, "--force", check=False)
    if proc.returncode == 0:
        return []
    notes = []
    for student in graded:
        one = course.nbgrader("generate_feedback", ASSIGNMENT, "--student", student, "--force", check=False)
        if one.returncode != 0:
            notes.append(normalize.Note(student, "", normalize.Level.WARNING,
                                        "não foi possível gerar a devolutiva em HTML"))
    return notes
