"""`make demo`: a demonstration class graded end to end in this repository.

Regenerates release/ from source/, submits the solution notebooks as student `solucao` and the
untouched student versions as `vazio` (besides whatever else is in submitted/), grades everyone,
writes feedback/ and grades.csv, and prints a per-student, per-notebook score table.
"""
from __future__ import annotations

from . import grading
from .settings import DEMO_EMPTY_STUDENT, DEMO_SOLUTION_STUDENT, ROOT
from .workspace import Course


def run_demo(course: Course | None = None, progress: bool = True) -> grading.Outcome:
    course = course or Course(ROOT)
    course.generate_release()
    course.submit(DEMO_SOLUTION_STUDENT, course.solution_submission())
    course.submit(DEMO_EMPTY_STUDENT, course.empty_submission())
    outcome = grading.grade_class(course, progress=progress)
    print(grading.summary_table(course, outcome))
    print(f"\nDevolutivas em {course.root / 'feedback'}/, notas em {course.root / 'grades.csv'}, "
          f"relatório em {course.root / grading.REPORT_MD}")
    return outcome
