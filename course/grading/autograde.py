"""Grade one student in a course directory: `nbgrader autograde` (sandboxed kernels), then each failed
notebook alone, and what went wrong while running them (timeouts, dead kernel, limits hit).

One bad submission never stops the batch: a student whose grading fails or runs out of time is graded
again notebook by notebook, and a notebook that still cannot be graded is set aside (`originais/`) and
scored 0 with the reason in the notes. Used by the serial path and, in a private scratch course, by
each worker (`worker.grade_student`).
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from .. import normalize, notebooks as nbt
from ..execute import DEAD, NOT_RUN, TIMEOUT
from ..settings import ASSIGNMENT
from ..workspace import Course
from . import gradebook

ORIGINALS = "originais"
TIMEOUT_ENAME = TIMEOUT  # the name nbgrader_config.py gives a cell that timed out


def _graded_since(course: Course, student: str, name: str, since: float) -> bool:
    path = course.autograded_dir(student) / f"{name}.ipynb"
    return path.exists() and path.stat().st_mtime >= since


def why_failed(proc: subprocess.CompletedProcess | None, limit: float) -> str:
    if proc is None:
        return f"a correção passou do limite de {limit / 60:.0f} min"
    tail = [ln for ln in (proc.stderr or "").splitlines() if "Error" in ln or "ERROR" in ln]
    return "o nbgrader não conseguiu corrigir: " + (tail[-1].strip()[:300] if tail else f"código {proc.returncode}")


def _run(course: Course, args: list[str], limit: float) -> subprocess.CompletedProcess | None:
    try:
        return course.nbgrader(*args, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return None


def autograde_student(course: Course, student: str, student_limit: float, notebook_limit: float,
                      originals: Path) -> list[normalize.Note]:
    notes: list[normalize.Note] = []
    folder = course.submission_dir(student)
    expected = [n for n in course.notebook_names() if (folder / f"{n}.ipynb").exists()]
    if not expected:
        # nothing gradable (files set aside, or none sent): the student still gets a 0 on record
        gradebook.record_zero_submission(course, student)
        return notes
    start = time.time() - 1
    _run(course, ["autograde", ASSIGNMENT, "--student", student, "--force"], student_limit)
    # a failed run removes the student's autograded folder; a run past its limit keeps what it finished
    pending = [n for n in expected if not _graded_since(course, student, n, start)]
    for name in pending:
        # grade the notebooks that failed one at a time, to find the culprit(s)
        t0 = time.time() - 1
        single = _run(course, ["autograde", ASSIGNMENT, "--student", student, "--notebook", name, "--force"],
                      notebook_limit)
        if single is not None and single.returncode == 0 and _graded_since(course, student, name, t0):
            continue
        why = why_failed(single, notebook_limit)
        dest = originals / student / ASSIGNMENT / f"{name}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder / f"{name}.ipynb"), dest)
        gradebook.zero_notebook(course, student, name)
        notes.append(normalize.Note(student, f"{name}.ipynb", normalize.Level.ERROR,
                                    f"{why}; nota 0 (arquivo guardado em {dest})"))
    return notes


# error names in a graded notebook -> what the report says about them
LIMIT_ERRORS = {
    "MemoryError": "limite de memória atingido (MemoryError)",
    "BlockingIOError": "limite de processos atingido (o código tentou criar processos demais)",
}


def execution_notes(course: Course, student: str) -> list[normalize.Note]:
    """What went wrong while running each graded notebook (timeouts, dead kernel, limits hit)."""
    notes: list[normalize.Note] = []

    def add(path, message):
        if not any(n.file == path.name and n.message == message for n in notes):
            notes.append(normalize.Note(student, path.name, normalize.Level.WARNING, message))

    for path in sorted(course.autograded_dir(student).glob("*.ipynb")):
        nb = nbt.read(path)
        for index, cell in enumerate(nb.cells, start=1):
            for out in cell.get("outputs", []):
                if out.get("output_type") != "error":
                    continue
                ename, evalue = out.get("ename", ""), out.get("evalue", "")
                if ename == TIMEOUT_ENAME:
                    add(path, f"célula {index} excedeu o tempo limite e foi interrompida")
                elif ename == DEAD:
                    why = evalue[evalue.find("("):] if "(" in evalue else ""
                    add(path, f"o kernel morreu na célula {index} {why}: as células seguintes valem 0")
                elif ename == NOT_RUN and "travado" in evalue:
                    why = evalue[evalue.find("("):] if "(" in evalue else ""
                    add(path, f"kernel travado encerrado {why}: as células seguintes valem 0".replace("  ", " "))
                elif ename in LIMIT_ERRORS:
                    add(path, f"célula {index}: {LIMIT_ERRORS[ename]}")
    return notes
