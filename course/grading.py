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

import csv
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import normalize, notebooks as nbt, sandbox
from .execute import DEAD, NOT_RUN, TIMEOUT
from .settings import ASSIGNMENT, NOTEBOOK_TIME_LIMIT, STUDENT_TIME_LIMIT
from .workspace import Course

ORIGINALS = "originais"
REPORT_CSV = "relatorio_correcao.csv"
REPORT_MD = "relatorio_correcao.md"
TIMEOUT_ENAME = TIMEOUT  # the name nbgrader_config.py gives a cell that timed out


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


# --- collection ----------------------------------------------------------------------------------

def collect_zip(course: Course, zip_path: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Run `nbgrader zip_collect` on an LMS download; return (id -> name, files not collected)."""
    from . import lms

    archive = course.root / "downloaded" / ASSIGNMENT / "archive"
    extracted = course.root / "downloaded" / ASSIGNMENT / "extracted"
    shutil.rmtree(archive, ignore_errors=True)
    archive.mkdir(parents=True)
    # nbgrader's extraction stops at the first member outside its folder (UnsafeMember) and collects
    # nobody: it gets a copy with only the safe, readable members; the others are reported
    name = Path(zip_path).stem + ".zip"
    not_copied = lms.safe_copy(Path(zip_path), archive / name)
    if not (archive / name).exists():
        return {}, not_copied
    course.nbgrader("zip_collect", ASSIGNMENT, "--force")
    # nbgrader extracts each archive into a folder named after it
    inside = extracted / Path(name).stem
    names, skipped = lms.scan(inside if inside.is_dir() else extracted)
    return names, not_copied + skipped


def register_names(course: Course, names: dict[str, str]) -> None:
    with course.gradebook() as gb:
        for student, full in names.items():
            first, _, last = full.strip().partition(" ")
            gb.update_or_create_student(student, first_name=first or None, last_name=last or None)


def ensure_assignment(course: Course) -> None:
    """The gradebook must know the assignment (a fresh clone has no gradebook yet)."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        try:
            known = gb.find_assignment(ASSIGNMENT).notebooks
        except MissingEntry:
            known = []
    if {n.name for n in known} != set(course.notebook_names()):
        course.generate_release()


# --- autograding one student -----------------------------------------------------------------------

def _graded_since(course: Course, student: str, name: str, since: float) -> bool:
    path = course.autograded_dir(student) / f"{name}.ipynb"
    return path.exists() and path.stat().st_mtime >= since


def _zero(course: Course, student: str, name: str) -> None:
    """Score a notebook 0 in the gradebook (what nbgrader does for a missing notebook)."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        try:
            sub = gb.find_submission_notebook(name, ASSIGNMENT, student)
        except MissingEntry:
            return
        for grade in sub.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
        gb.db.commit()


def _record_zero_submission(course: Course, student: str) -> None:
    with course.gradebook() as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(ASSIGNMENT, student)
    for name in course.notebook_names():
        _zero(course, student, name)


def _why(proc: subprocess.CompletedProcess | None, limit: float) -> str:
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
        _record_zero_submission(course, student)
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
        why = _why(single, notebook_limit)
        dest = originals / student / ASSIGNMENT / f"{name}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder / f"{name}.ipynb"), dest)
        _zero(course, student, name)
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


# --- the whole class ----------------------------------------------------------------------------

def grade_class(course: Course, students: list[str] | None = None, zip_path: Path | None = None,
                feedback: bool = True, student_limit: float = STUDENT_TIME_LIMIT,
                notebook_limit: float = NOTEBOOK_TIME_LIMIT,
                progress: bool = True, workers: int | None = None, cluster: str | None = None,
                force: bool = False) -> Outcome:
    from .setup_host import ensure_bubblewrap

    ensure_bubblewrap()  # a fresh machine: installs bubblewrap when it is missing and we may
    sandbox.require()
    if sandbox.opted_out():
        print(f"ATENÇÃO: {sandbox.OPT_OUT_VAR}=1 — o código dos alunos roda SEM isolamento.", file=sys.stderr)
    outcome = Outcome()
    ensure_assignment(course)
    if zip_path:
        names, outcome.skipped_files = collect_zip(course, Path(zip_path))
        register_names(course, names)
    submitted = course.root / "submitted"
    submitted.mkdir(exist_ok=True)
    releases = {n: nbt.read(course.release_dir / f"{n}.ipynb") for n in course.notebook_names()}
    outcome.max_scores = course.max_scores()
    originals = course.root / ORIGINALS
    outcome.notes = normalize.normalize_all(submitted, ASSIGNMENT, releases, originals, students)
    todo = sorted(outcome.notes)

    from . import engine  # the loop over students: serial, every core, or a Dask cluster; resume

    engine.grade_students(course, todo, workers=workers, cluster=cluster, force=force, student_limit=student_limit,
                          notebook_limit=notebook_limit, originals=originals, progress=progress, outcome=outcome)

    if feedback:
        graded = [s for s in todo if course.autograded_dir(s).is_dir()]
        proc = course.nbgrader("generate_feedback", ASSIGNMENT, "--force", check=False)
        if proc.returncode != 0:  # one notebook that cannot be rendered must not cost everyone's feedback
            for student in graded:
                one = course.nbgrader("generate_feedback", ASSIGNMENT, "--student", student, "--force", check=False)
                if one.returncode != 0:
                    outcome.notes[student].append(normalize.Note(
                        student, "", normalize.Level.WARNING, "não foi possível gerar a devolutiva em HTML"))
    export_grades(course, outcome)
    if zip_path:
        _export_moodle(course, outcome, names)
    write_report(course, outcome)
    return outcome


def _export_moodle(course: Course, outcome: Outcome, names: dict[str, str]) -> None:
    """Grading worksheet and feedback zip for Moodle (course.moodle); a failure there is reported."""
    from . import moodle

    try:
        done = moodle.export(course, outcome, names)
    except (OSError, ValueError) as exc:
        outcome.lms.append(("moodle", f"não foi possível gerar os arquivos do Moodle: {exc}"))
        return
    outcome.lms += done.left_out
    outcome.lms.append(("moodle", f"planilha de notas e zip de devolutivas em {done.folder}/ "
                                  f"({len(done.rows)} participantes)"))


def export_grades(course: Course, outcome: Outcome) -> None:
    """grades.csv from the gradebook (`nbgrader export`); a failure is reported, never a stale file."""
    grades = course.root / "grades.csv"
    grades.unlink(missing_ok=True)  # rebuilt from the gradebook on every run
    proc = course.nbgrader("export", "--to", str(grades), check=False)
    if proc.returncode != 0 or not grades.exists():
        outcome.problems.append(f"grades.csv não foi gerado: {_why(proc, 0)}")


def notebook_totals(outcome: Outcome, student: str) -> dict[str, tuple[float, float]]:
    """notebook -> (score, max score); a notebook nbgrader never saw scores 0 of its maximum."""
    totals = {nb: (0.0, m) for nb, m in outcome.max_scores.items()}
    totals.update({nb: (sum(s for s, _ in g.values()), sum(m for _, m in g.values()))
                   for nb, g in outcome.scores.get(student, {}).items()})
    return totals


def summary_table(course: Course, outcome: Outcome) -> str:
    names = course.notebook_names()
    short = [n.split("_")[0] for n in names]
    lines = [f"{'aluno':22s} " + " ".join(f"{s:>9s}" for s in short) + f" {'total':>11s}"]
    for student in sorted(outcome.scores):
        totals = notebook_totals(outcome, student)
        cells, got, out_of = [], 0.0, 0.0
        for name in names:
            score, max_score = totals.get(name, (0.0, 0.0))
            got, out_of = got + score, out_of + max_score
            cells.append(f"{score:>4g}/{max_score:<4g}")
        lines.append(f"{student:22s} " + " ".join(f"{c:>9s}" for c in cells) + f" {got:>5g}/{out_of:<5g}")
    for student in sorted(outcome.notes):
        for note in outcome.notes[student]:
            if note.level != normalize.Level.INFO:
                lines.append(f"  [{note.level}] {student} {note.file}: {note.message}")
    for path, why in outcome.skipped_files:
        lines.append(f"  [não coletado] {path}: {why}")
    lines += [f"  [erro] {problem}" for problem in outcome.problems]
    if outcome.reused:
        lines.append(f"  [retomada] {len(outcome.reused)} aluno(s) reaproveitado(s) de uma correção anterior "
                     "(mesmas entregas, mesma versão do curso): " + ", ".join(sorted(outcome.reused)))
    for who, what in outcome.lms:
        lines.append(f"  [moodle] {who}: {what}")
    return "\n".join(lines)


def write_report(course: Course, outcome: Outcome) -> None:
    with open(course.root / REPORT_CSV, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["aluno", "notebook", "nota", "nota_maxima", "ocorrencias"])
        for problem in outcome.problems:
            writer.writerow(["", "", "", "", f"erro: {problem}"])
        lessons = [f"{name}.ipynb" for name in course.notebook_names()]
        for student in sorted(set(outcome.scores) | set(outcome.notes)):
            totals = notebook_totals(outcome, student)
            notes = outcome.notes.get(student, [])
            for name, file in zip(course.notebook_names(), lessons):
                score, max_score = totals.get(name, (0.0, 0.0))
                said = "; ".join(n.message for n in notes if n.file == file)
                writer.writerow([student, name, f"{score:g}", f"{max_score:g}", said])
            # notes about no lesson notebook (a file set aside under another name, the feedback): own rows
            for file in dict.fromkeys(n.file for n in notes if n.file not in lessons):
                said = "; ".join(n.message for n in notes if n.file == file)
                writer.writerow([student, file, "", "", said])
        for path, why in outcome.skipped_files:
            writer.writerow(["", path, "", "", f"não coletado: {why}"])
    (course.root / REPORT_MD).write_text(
        "# Relatório de correção — " + ASSIGNMENT + "\n\n```\n" + summary_table(course, outcome) + "\n```\n",
        encoding="utf-8")
