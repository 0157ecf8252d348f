"""Grade a whole class in one command, on nbgrader's own machinery.

    collect (nbgrader zip_collect, for an LMS download) → normalize (course.normalize)
    → autograde (nbgrader autograde, one student at a time, sandboxed) → feedback
    (nbgrader generate_feedback) → export (nbgrader export → grades.csv) → LMS export (course.moodle:
    grading worksheet and feedback zip, for a Moodle download) → report

One bad submission never stops the batch: a student whose grading fails or runs out of time is
graded again notebook by notebook, and a notebook that still cannot be graded is set aside and
scored 0 with the reason in the report. Re-running is safe: nbgrader updates the gradebook in
place, normalization is idempotent, and the report is rebuilt from the gradebook.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .. import normalize, notebooks as nbt, sandbox
from ..settings import ASSIGNMENT, NOTEBOOK_TIME_LIMIT, STUDENT_TIME_LIMIT
from ..workspace import Course
from . import gradebook
from .autograde import ORIGINALS, autograde_student, execution_notes
from .collect import collect_zip
from .export import export_grades, export_moodle
from .feedback import generate_feedback
from .report import REPORT_CSV, REPORT_MD, notebook_totals, summary_table, write_report

__all__ = ["ORIGINALS", "REPORT_CSV", "REPORT_MD", "Outcome", "autograde_student", "collect_zip", "ensure_assignment",
           "execution_notes", "export_grades", "grade_class", "notebook_totals", "summary_table", "write_report"]


@dataclass
class Outcome:
    scores: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)  # student -> nb -> (score, max)
    notes: dict[str, list[normalize.Note]] = field(default_factory=dict)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)  # notebook -> maximum
    lms: list[tuple[str, str]] = field(default_factory=list)  # (participant, what the LMS export says)
    problems: list[str] = field(default_factory=list)  # failures of the batch itself (not of a student)
    reused: list[str] = field(default_factory=list)  # students not graded again (same files, same course)


def ensure_assignment(course: Course) -> None:
    """The gradebook must know the assignment (a fresh clone has no gradebook yet)."""
    if gradebook.assignment_notebooks(course) != set(course.notebook_names()):
        course.generate_release()


def grade_class(course: Course, students: list[str] | None = None, zip_path: Path | None = None,
                feedback: bool = True, student_limit: float = STUDENT_TIME_LIMIT,
                notebook_limit: float = NOTEBOOK_TIME_LIMIT,
                progress: bool = True, workers: int | None = None, cluster: str | None = None,
                force: bool = False) -> Outcome:
    """The whole pipeline, each stage once, data flowing one way: collect → normalize → grade (engine:
    serial, every core or a Dask cluster; the gradebook written here only) → feedback → export → report."""
    from ..setup_host import ensure_bubblewrap
    from . import engine

    ensure_bubblewrap()  # a fresh machine: installs bubblewrap when it is missing and we may
    sandbox.require()
    if sandbox.opted_out():
        print(f"ATENÇÃO: {sandbox.OPT_OUT_VAR}=1 — o código dos alunos roda SEM isolamento.", file=sys.stderr)
    outcome = Outcome()
    ensure_assignment(course)
    names: dict[str, str] = {}
    if zip_path:
        names, outcome.skipped_files = collect_zip(course, Path(zip_path))
        gradebook.register_names(course, names)
    submitted = course.submitted_root
    submitted.mkdir(exist_ok=True)
    releases = {n: nbt.read(course.release_dir / f"{n}.ipynb") for n in course.notebook_names()}
    outcome.max_scores = gradebook.max_scores(course)
    originals = course.root / ORIGINALS
    outcome.notes = normalize.normalize_all(submitted, ASSIGNMENT, releases, originals, students)
    todo = sorted(outcome.notes)
    engine.grade_students(course, todo, workers=workers, cluster=cluster, force=force, student_limit=student_limit,
                          notebook_limit=notebook_limit, originals=originals, progress=progress, outcome=outcome)
    if feedback:
        for note in generate_feedback(course, todo):
            outcome.notes[note.student].append(note)
    export_grades(course, outcome)
    if zip_path:
        export_moodle(course, outcome, names)
    write_report(course, outcome)
    return outcome
