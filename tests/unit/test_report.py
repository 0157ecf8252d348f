"""course.grading's report: relatorio_correcao.csv/.md from an Outcome (no gradebook, no nbgrader run)."""
from __future__ import annotations

import csv
import subprocess

import pytest

from course import grading
from course.normalize import Level, Note
from course.workspace import Course

NAMES = ("01_a", "02_b")


@pytest.fixture
def course(tmp_path):
    c = Course(tmp_path)
    c.source_dir.mkdir(parents=True)
    for name in NAMES:
        (c.source_dir / f"{name}.ipynb").write_text("{}")
    return c


def _outcome() -> grading.Outcome:
    out = grading.Outcome(max_scores={"01_a": 3.0, "02_b": 7.0})
    out.scores = {
        "ana": {"01_a": {"t1": (1.0, 1.0), "t2": (2.0, 2.0)}, "02_b": {"t3": (3.5, 7.0)}},
        "bia": {"01_a": {"t1": (0.0, 1.0), "t2": (2.0, 2.0)}},  # 02_b never graded
    }
    out.notes = {
        "ana": [Note("ana", "01_a.ipynb", Level.WARNING, "convertido do nbformat 4.0 para 4.5"),
                Note("ana", "01_a.ipynb", Level.INFO, "detalhe interno")],
        "bia": [Note("bia", "02_b.ipynb", Level.ERROR, "notebook não entregue: nota 0"),
                Note("bia", "02_b (2).ipynb", Level.ERROR, "há mais de um arquivo para 02_b.ipynb; guardado"),
                Note("bia", "", Level.WARNING, "não foi possível gerar a devolutiva em HTML")],
        "caio": [Note("caio", "", Level.ERROR, "a entrega não tem a pasta modulo2/")],
    }
    out.skipped_files = [("leia-me.txt", "o caminho não segue o padrão do Moodle")]
    return out


def _rows(course):
    with open(course.root / grading.REPORT_CSV, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_has_a_row_per_student_and_notebook_with_the_scores(course):
    grading.write_report(course, _outcome())
    scores = {(r["aluno"], r["notebook"]): (r["nota"], r["nota_maxima"]) for r in _rows(course) if r["nota"]}
    assert scores == {("ana", "01_a"): ("3", "3"), ("ana", "02_b"): ("3.5", "7"),
                      ("bia", "01_a"): ("2", "3"), ("bia", "02_b"): ("0", "7"),
                      ("caio", "01_a"): ("0", "3"), ("caio", "02_b"): ("0", "7")}


def test_csv_puts_each_note_on_its_notebooks_row(course):
    grading.write_report(course, _outcome())
    said = {(r["aluno"], r["notebook"]): r["ocorrencias"] for r in _rows(course)}
    assert said[("ana", "01_a")] == "convertido do nbformat 4.0 para 4.5; detalhe interno"
    assert said[("bia", "02_b")] == "notebook não entregue: nota 0"
    assert said[("ana", "02_b")] == ""


def test_csv_keeps_the_notes_that_are_not_about_a_lesson_notebook(course):
    """A file set aside under another name, a feedback failure, a missing folder: the CSV (what
    the instructor filters and sorts) must say them too, not only the .md."""
    grading.write_report(course, _outcome())
    text = "\n".join(" ".join(r.values()) for r in _rows(course))
    assert "há mais de um arquivo para 02_b.ipynb" in text
    assert "não foi possível gerar a devolutiva em HTML" in text
    assert "a entrega não tem a pasta modulo2/" in text
    extra = [r for r in _rows(course) if r["notebook"] == "02_b (2).ipynb"]
    assert len(extra) == 1 and extra[0]["aluno"] == "bia" and extra[0]["nota"] == ""


def test_csv_lists_files_not_collected(course):
    grading.write_report(course, _outcome())
    rows = [r for r in _rows(course) if r["notebook"] == "leia-me.txt"]
    assert len(rows) == 1 and rows[0]["aluno"] == "" and "não coletado" in rows[0]["ocorrencias"]


def test_summary_table_has_totals_and_every_problem_but_no_info(course):
    table = grading.summary_table(course, _outcome())
    lines = table.splitlines()
    assert lines[0].split() == ["aluno", "01", "02", "total"]
    ana = next(ln for ln in lines if ln.startswith("ana "))
    assert ana.split() == ["ana", "3/3", "3.5/7", "6.5/10"]
    bia = next(ln for ln in lines if ln.startswith("bia "))
    assert bia.split() == ["bia", "2/3", "0/7", "2/10"]
    assert "[aviso] ana 01_a.ipynb: convertido" in table and "detalhe interno" not in table
    assert "[erro] bia 02_b (2).ipynb: há mais de um arquivo" in table
    assert "[não coletado] leia-me.txt" in table


def test_markdown_report_holds_the_summary_table(course):
    outcome = _outcome()
    grading.write_report(course, outcome)
    md = (course.root / grading.REPORT_MD).read_text(encoding="utf-8")
    assert md.startswith("# Relatório de correção — modulo2")
    assert grading.summary_table(course, outcome) in md


class _FailingExport(Course):
    def nbgrader(self, *args, **kw):
        assert args[0] == "export"
        return subprocess.CompletedProcess(["nbgrader", *args], 1, "",
                                           "[ExportApp | ERROR] sqlite3.OperationalError: database is locked")


def test_a_failing_nbgrader_export_is_reported_and_leaves_no_stale_grades(tmp_path):
    course = _FailingExport(tmp_path)
    (tmp_path / "grades.csv").write_text("student_id,score\nana,10\n")  # from an earlier run
    outcome = grading.Outcome()
    grading.export_grades(course, outcome)
    assert not (tmp_path / "grades.csv").exists()
    problems = " | ".join(outcome.problems)
    assert "grades.csv" in problems and "database is locked" in problems
    assert "database is locked" in grading.summary_table(course, outcome)


def test_a_note_level_read_back_from_json_is_the_enum_and_an_unknown_one_is_refused():
    import json
    from dataclasses import asdict

    note = Note("ana", "01_a.ipynb", Level.ERROR, "x")
    again = Note(**json.loads(json.dumps(asdict(note))))
    assert again.level is Level.ERROR and f"[{again.level}]" == "[erro]"
    with pytest.raises(ValueError):
        Note("ana", "", "grave", "nível que não existe")
