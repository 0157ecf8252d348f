"""Export: grades.csv from the gradebook (`nbgrader export`) and, for a Moodle download, the grading
worksheet and the feedback-files zip (`course.moodle`). A failure is reported, never a stale file."""
from __future__ import annotations

from ..workspace import Course
from .autograde import why_failed


def export_grades(course: Course, outcome) -> None:
    """grades.csv from the gradebook (`nbgrader export`); a failure is reported, never a stale file."""
    grades = course.root / "grades.csv"
    grades.unlink(missing_ok=True)  # rebuilt from the gradebook on every run
    proc = course.nbgrader("export", "--to", str(grades), check=False)
    if proc.returncode != 0 or not grades.exists():
        outcome.problems.append(f"grades.csv não foi gerado: {why_failed(proc, 0)}")


def export_moodle(course: Course, outcome, names: dict[str, str]) -> None:
    """Grading worksheet and feedback zip for Moodle (course.moodle); a failure there is reported."""
    from .. import moodle

    try:
        done = moodle.export(course, outcome, names)
    except (OSError, ValueError) as exc:
        outcome.lms.append(("moodle", f"não foi possível gerar os arquivos do Moodle: {exc}"))
        return
    outcome.lms += done.left_out
    outcome.lms.append(("moodle", f"planilha de notas e zip de devolutivas em {done.folder}/ "
                                  f"({len(done.rows)} participantes)"))
