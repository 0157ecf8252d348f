"""The instructor's workflow: one batch with every kind of bad submission, LMS zip, Colab, exchange."""
from __future__ import annotations

import csv
import io
import json
import os
import pwd
import shutil
import subprocess
import sys
import zipfile

import pytest

import submissions as S
from conftest import ASSIGNMENT, MINI_LIMITS, ROOT, mini_course, place, total
from course import grading, notebooks as nbt
from course.workspace import scratch_course


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory):
    """Every catalogued bad submission, graded together in ONE batch."""
    course, release, source = mini_course(tmp_path_factory.mktemp("lote"))
    for student, (build, _, _) in S.EXPECTED.items():
        place(course, student, build(release, source))
    outcome = grading.grade_class(course, progress=False, **MINI_LIMITS)
    yield course, outcome, source
    shutil.rmtree(course.root, ignore_errors=True)


@pytest.mark.parametrize("student", list(S.EXPECTED))
def test_each_bad_submission_gets_the_right_score_and_reason(bad_batch, student):
    course, outcome, _ = bad_batch
    _, expected, word = S.EXPECTED[student]
    notes = " | ".join(n.message for n in outcome.notes.get(student, []))
    assert total(outcome, student) == expected, f"{student}: {notes}"
    if word:
        assert word in notes, f"{student}: o relatório deveria dizer '{word}': {notes}"


def test_the_batch_went_on_and_the_gradebook_is_consistent(bad_batch):
    course, outcome, _ = bad_batch
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        assignment = gb.find_assignment(ASSIGNMENT)
        assert {s.student.id for s in assignment.submissions} >= set(S.EXPECTED) - {"sem_notebook"}
        for sub in assignment.submissions:
            assert len(sub.notebooks) == 1
            for grade in sub.notebooks[0].grades:
                assert grade.auto_score is not None and not grade.needs_manual_grade, sub.student.id
        in_gradebook = {sub.student.id: (float(sub.notebooks[0].score), float(sub.notebooks[0].max_score))
                        for sub in assignment.submissions}
    # scores in the outcome and in the report agree with the gradebook (never graded: 0 of 5)
    with open(course.root / grading.REPORT_CSV, encoding="utf-8") as fh:
        in_report = {r["aluno"]: (float(r["nota"]), float(r["nota_maxima"]))
                     for r in csv.DictReader(fh) if r["notebook"] == "00_mini"}
    assert {score for score, _ in in_gradebook.values()} != {0.0}  # some scores to compare
    for student in S.EXPECTED:
        expected = in_gradebook.get(student, (0.0, 5.0))
        assert grading.notebook_totals(outcome, student)["00_mini"] == expected, student
        assert in_report[student] == expected, student


def test_report_files_list_every_student_and_every_problem(bad_batch):
    course, _, _ = bad_batch
    rows = list(csv.DictReader(open(course.root / grading.REPORT_CSV, encoding="utf-8")))
    assert {r["aluno"] for r in rows} == set(S.EXPECTED)
    by_student = {r["aluno"]: r for r in rows}
    assert "JSON inválido" in by_student["json_quebrado"]["ocorrencias"]
    assert "kernel morreu" in by_student["segfault"]["ocorrencias"]
    report = (course.root / grading.REPORT_MD).read_text(encoding="utf-8")
    assert "json_quebrado" in report and "Relatório de correção" in report


def test_originals_are_kept_when_a_file_is_changed_or_set_aside(bad_batch):
    course, _, _ = bad_batch
    kept = course.root / grading.ORIGINALS
    assert (kept / "json_quebrado" / ASSIGNMENT / "00_mini.ipynb").exists()
    assert (kept / "nome_errado" / ASSIGNMENT / "Cópia de 00_mini (1).ipynb").exists()
    assert json.loads((kept / "colab" / ASSIGNMENT / "00_mini.ipynb").read_text())["nbformat_minor"] == 0


def test_feedback_shows_results_but_never_hidden_test_code(bad_batch):
    course, _, source = bad_batch
    hidden = [ln.strip() for c in source.cells for m in nbt.HIDDEN_TESTS.finditer(c.source)
              for ln in m.group(0).splitlines() if ln.strip() and not ln.strip().startswith("###")]
    assert hidden
    for student in ("ok", "vazio", "kernel_exit", "testes_apagados"):
        html = (course.feedback_dir(student) / "00_mini.html").read_text(encoding="utf-8")
        for line in hidden:
            assert line.replace('"', "&quot;") not in html and line not in html, (student, line)
        assert "Testes ocultos" in html and "nota:" in html and "Resposta do aluno" in html
    vazio = (course.feedback_dir("vazio") / "00_mini.html").read_text(encoding="utf-8")
    assert "NotImplementedError" in vazio
    assert "nota: 0 / 5" in vazio  # formato brasileiro (course/templates/devolutiva/numeros_br.j2)


def test_grades_csv_is_exported(bad_batch):
    course, _, _ = bad_batch
    rows = list(csv.DictReader(open(course.root / "grades.csv", encoding="utf-8")))
    scores = {r["student_id"]: float(r["score"]) for r in rows}
    assert scores["ok"] == 5 and scores["vazio"] == 0 and scores["kernel_exit"] == 3


def test_feedback_preprocessor_hides_code_and_tracebacks():
    """Unit check of the preprocessor, independent of a grading run (it can fail on its own)."""
    import nbformat

    from course.feedback import NOTE, HideHiddenTests

    cell = nbformat.v4.new_code_cell("assert segredo() == 42, 'resposta errada'")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "ex1_x_testes", "points": 1}
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="resposta errada",
                                           traceback=["---", "assert segredo() == 42, 'resposta errada'"])]
    HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert cell.source == NOTE
    assert cell.outputs[0].traceback == ["AssertionError: resposta errada"]


# --- LMS download (Moodle) --------------------------------------------------------------------------

def _moodle_zip(release, source) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("Ana Souza_101_assignsubmission_file_/00_mini.ipynb", S.ok(release, source)["00_mini.ipynb"])
        zf.writestr("Bruno Lima_102_assignsubmission_file_/Cópia de 00_mini.ipynb",
                    S.colab_saved(release, source)["00_mini.ipynb"])
        zf.writestr("Bruno Lima_102_assignsubmission_file_/relatorio.pdf", b"%PDF-1.4")
        zf.writestr("Carla Dias_103_assignsubmission_file_/00_mini.ipynb",
                    S.untouched(release, source)["00_mini.ipynb"])
        zf.writestr("Davi Reis_104_assignsubmission_file_/00_mini.ipynb",
                    S.malformed_json(release, source)["00_mini.ipynb"])
        zf.writestr("leia-me.txt", b"arquivo solto")
        zf.writestr("pasta_sem_padrao/00_mini.ipynb", S.ok(release, source)["00_mini.ipynb"])
    return buf.getvalue()


def test_lms_zip_is_collected_mapped_graded_reported_and_safe_to_rerun(tmp_path):
    course, release, source = mini_course(tmp_path)
    zpath = tmp_path / "submissoes.zip"
    zpath.write_bytes(_moodle_zip(release, source))
    expected = {"101": 5, "102": 5, "103": 0, "104": 0}
    outcome = grading.grade_class(course, zip_path=zpath, progress=False, **MINI_LIMITS)
    assert {s: total(outcome, s) for s in expected} == expected
    skipped = dict(outcome.skipped_files)
    assert "leia-me.txt" in skipped and "pasta_sem_padrao/00_mini.ipynb" in skipped
    assert any(p.endswith("relatorio.pdf") for p in skipped)
    assert any("renomeado" in n.message for n in outcome.notes["102"])
    assert any("JSON inválido" in n.message for n in outcome.notes["104"])
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        bruno = gb.find_student("102")
        assert (bruno.first_name, bruno.last_name) == ("Bruno", "Lima")
    rows = list(csv.DictReader(open(course.root / "grades.csv", encoding="utf-8")))
    assert sorted(r["student_id"] for r in rows) == sorted(expected)
    report = grading.summary_table(course, outcome)
    assert "não coletado" in report and "leia-me.txt" in report
    # downloading again and re-running: same grades, no duplicated rows, reasons still reported
    again = grading.grade_class(course, zip_path=zpath, progress=False, **MINI_LIMITS)
    assert {s: total(again, s) for s in expected} == expected
    assert any("JSON inválido" in n.message for n in again.notes["104"])
    rows = list(csv.DictReader(open(course.root / "grades.csv", encoding="utf-8")))
    assert len(rows) == len(expected)
    with Gradebook(course.db_url) as gb:
        assert len(gb.find_assignment(ASSIGNMENT).submissions) == len(expected)


def test_grading_command_line(tmp_path):
    """`.venv/bin/python -m course corrigir ZIP --curso DIR` on a fresh course, the venv not on PATH:
    progress bar on stderr (and no SQLAlchemy noise), table on stdout, report file."""
    course, release, source = mini_course(tmp_path)
    (course.root / "gradebook.db").unlink()  # as in a fresh clone: the command creates it (nbgrader runs alembic)
    zpath = tmp_path / "submissoes.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("Ana Souza_101_assignsubmission_file_/00_mini.ipynb", S.ok(release, source)["00_mini.ipynb"])
    env = dict(os.environ, PATH="/usr/bin:/bin")
    proc = subprocess.run([sys.executable, "-m", "course", "corrigir", str(zpath), "--curso", str(course.root),
                           "--limite-aluno", "180", "--limite-notebook", "90"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "101" in proc.stdout and "5/5" in proc.stdout
    assert "Corrigindo" in proc.stderr  # tqdm progress bar
    assert "SAWarning" not in proc.stderr, proc.stderr[-3000:]
    assert (course.root / grading.REPORT_MD).exists() and (course.root / "grades.csv").exists()


# --- Colab-saved submissions of a real lesson ----------------------------------------------------------

def test_colab_saved_lesson_grades_exactly_like_jupyterlab(tmp_path):
    name = "01_pytorch_fundamentals"
    course = scratch_course([name], parent=tmp_path)
    course.generate_release()
    lab = course.solution_submission()[name]
    course.submit("jupyterlab", {name: lab})
    folder = course.submission_dir("colab")
    folder.mkdir(parents=True)
    (folder / f"{name}.ipynb").write_bytes(S.as_colab(lab))
    outcome = grading.grade_class(course, progress=False)
    assert outcome.scores["colab"] == outcome.scores["jupyterlab"]
    assert total(outcome, "colab") == 10


# --- JupyterHub exchange -----------------------------------------------------------------------------

def test_jupyterhub_exchange_release_fetch_submit_collect(tmp_path):
    course, release, source = mini_course(tmp_path / "curso")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    flags = [f"--Exchange.root={exchange}"]
    course.nbgrader("release_assignment", ASSIGNMENT, *flags)
    home = tmp_path / "aluna"
    home.mkdir()

    def as_student(*args):
        env = dict(os.environ)
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, *flags,
                               f"--CourseDirectory.course_id={course_id()}"],
                              cwd=home, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]

    def course_id():
        return course.api().coursedir.course_id

    as_student("fetch_assignment", ASSIGNMENT)
    fetched = home / ASSIGNMENT / "00_mini.ipynb"
    assert fetched.exists()
    nbt.write(S.solved(nbt.read(fetched), source), fetched)
    as_student("submit", ASSIGNMENT)
    course.nbgrader("collect", ASSIGNMENT, *flags)
    student = pwd.getpwuid(os.getuid()).pw_name  # nbgrader's exchange knows students by login
    assert (course.submission_dir(student) / "00_mini.ipynb").exists()
    assert (course.submission_dir(student) / "timestamp.txt").exists()
    outcome = grading.grade_class(course, progress=False, **MINI_LIMITS)
    assert total(outcome, student) == 5
