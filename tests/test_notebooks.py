"""Every lesson runs top to bottom on CPU, and nbgrader grades it as it should."""
from __future__ import annotations

import csv
import time

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ASSIGNMENT, NOTEBOOKS, ROOT
from course import grading, notebooks as nbt
from course.settings import DEMO_EMPTY_STUDENT, DEMO_SOLUTION_STUDENT


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_source_notebook_runs_top_to_bottom_and_every_test_cell_passes(name, tmp_path):
    """nbclient executes the source notebook (solutions + visible and hidden tests) with no error."""
    nb = nbt.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb")
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    seconds = time.perf_counter() - t0
    print(f"{name}: {seconds:.1f} s")
    failures = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                failures.append(f"célula {index} ({nbt.grade_id(cell)}): {out.ename}: {out.evalue[:300]}")
            elif out.output_type == "stream" and out.name == "stderr" and nbt.is_autograded_test(cell):
                failures.append(f"célula de teste {nbt.grade_id(cell)} escreveu em stderr: {out.text[:300]}")
    assert not failures, "\n".join(failures)
    # run times are measured by bench/tempos_notebooks.py, not asserted here


def test_nbgrader_validate_passes_on_sources_and_fails_on_untouched_student_versions(solved_class):
    course, _ = solved_class
    for name in NOTEBOOKS:
        ok = course.nbgrader("validate", str(course.source_dir / f"{name}.ipynb"), check=False)
        assert ok.returncode == 0 and "Success! Your notebook passes all the tests." in ok.stdout, \
            f"{name}: {ok.stdout[-2000:]}{ok.stderr[-2000:]}"
        inverted = course.nbgrader("validate", "--invert", str(course.release_dir / f"{name}.ipynb"), check=False)
        assert "NOTEBOOK PASSED ON" not in inverted.stdout, f"{name}: {inverted.stdout[-2000:]}"
        assert "Success! The notebook does not pass any tests." in inverted.stdout, inverted.stdout[-2000:]


def test_solutions_get_full_marks_on_every_notebook(solved_class):
    _, outcome = solved_class
    scores = outcome.scores[DEMO_SOLUTION_STUDENT]
    assert sorted(scores) == sorted(NOTEBOOKS)
    for name, grades in scores.items():
        assert grades and all(score == max_score > 0 for score, max_score in grades.values()), (name, grades)


def test_untouched_student_version_gets_zero_on_every_test(solved_class):
    _, outcome = solved_class
    scores = outcome.scores[DEMO_EMPTY_STUDENT]
    assert sorted(scores) == sorted(NOTEBOOKS)
    for name, grades in scores.items():
        assert grades and all(score == 0 for score, _ in grades.values()), (name, grades)


def test_solution_run_under_autograde_has_no_error_anywhere(solved_class):
    course, _ = solved_class
    for name in NOTEBOOKS:
        graded = nbformat.read(course.autograded_dir(DEMO_SOLUTION_STUDENT) / f"{name}.ipynb", as_version=4)
        errors = [(i, o.ename) for i, c in enumerate(graded.cells) for o in c.get("outputs", [])
                  if o.output_type == "error"]
        assert not errors, (name, errors)


def test_demo_outputs_feedback_and_grades(solved_class):
    course, outcome = solved_class
    for student in (DEMO_SOLUTION_STUDENT, DEMO_EMPTY_STUDENT):
        for name in NOTEBOOKS:
            assert (course.feedback_dir(student) / f"{name}.html").exists()
    grades = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(course.root / "grades.csv"))}
    assert grades[DEMO_SOLUTION_STUDENT] == 10 * len(NOTEBOOKS) and grades[DEMO_EMPTY_STUDENT] == 0
    report = (course.root / grading.REPORT_MD).read_text(encoding="utf-8")
    assert report.startswith("# Relatório de correção")
    assert grading.summary_table(course, outcome) in report
    full = f"{10 * len(NOTEBOOKS):g}/{10 * len(NOTEBOOKS):g}"
    assert any(ln.split()[:1] == [DEMO_SOLUTION_STUDENT] and ln.split()[-1] == full for ln in report.splitlines()), \
        report
    rows = list(csv.DictReader(open(course.root / grading.REPORT_CSV, encoding="utf-8")))
    assert {(r["aluno"], r["notebook"]) for r in rows if r["nota"]} == \
        {(s, n) for s in (DEMO_SOLUTION_STUDENT, DEMO_EMPTY_STUDENT) for n in NOTEBOOKS}
